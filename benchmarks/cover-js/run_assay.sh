#!/usr/bin/env bash
# assay cover on each prepared package (work/<name>/assay, own tests removed), in a throwaway
# copy, against an OpenAI-compatible endpoint (the embedded model's server), with a budget.
#
#   benchmarks/cover-js/run_assay.sh --endpoint http://127.0.0.1:8111 [--budget SECONDS] [NAME...]
#
# Writes results/<name>.json (assay's report: coverage before → after, tests
# accepted and rejected by reason, tokens, wall time) and results/<name>-tests/ (the tests).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
WORK="${BENCH_JS_WORK:-$HERE/work}"
ASSAY="${ASSAY_BIN:-$REPO/.venv/bin/assay}"
BUDGET=600 ENDPOINT="" NAMES=()
while [ $# -gt 0 ]; do
  case "$1" in
    --endpoint) ENDPOINT="${2%/}"; ENDPOINT="${ENDPOINT%/v1}"; shift 2 ;;
    --budget) BUDGET="$2"; shift 2 ;;
    *) NAMES+=("$1"); shift ;;
  esac
done
[ -n "$ENDPOINT" ] || { echo "--endpoint is required" >&2; exit 2; }
[ ${#NAMES[@]} -gt 0 ] || NAMES=(qs ts-dedent)
mkdir -p "$HERE/results"
for name in "${NAMES[@]}"; do
  copy="$(mktemp -d)/$name"
  cp -a "$WORK/$name/assay" "$copy"
  minutes="$(python3 -c "print($BUDGET / 60)")"
  # The package's sources only (packages.json), as measure.sh scores them: not its bundles.
  readarray -t files < <(python3 -c 'import json, sys
for g in json.load(open(sys.argv[1]))[sys.argv[2]]["sources"]: print("--files"); print(g)' "$HERE/packages.json" "$name")
  start=$(date +%s)
  timeout "$((BUDGET + 300))" "$ASSAY" cover "$copy" --llm-base-url "$ENDPOINT/v1" \
    --max-minutes "$minutes" "${files[@]}" --mutants raise --mutation-budget 30 \
    --report "$HERE/results/$name.json" || echo "assay exited $? on $name" >&2
  echo "{\"name\": \"$name\", \"seconds\": $(( $(date +%s) - start ))}" >> "$HERE/results/wall.jsonl"
  rm -rf "$HERE/results/$name-tests"; mkdir -p "$HERE/results/$name-tests"
  (cd "$copy" && git ls-files --others --exclude-standard | grep '\.assay\.' | \
     xargs -r -I{} cp --parents {} "$HERE/results/$name-tests/")
done
