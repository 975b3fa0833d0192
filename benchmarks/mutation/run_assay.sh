#!/usr/bin/env bash
# Row (2): assay's suite written FROM ZERO, then scored. One module at a time (the protocol of
# Pynguin's row and of benchmarks/cover/), each in a THROWAWAY COPY that holds the package alone
# (flat layout, its metadata-only dist-info beside it): the package's own tests are not there, and
# assay starts with no test at all. The tests it keeps for each module are copied to
# benchmarks/work/mutation/results/<tag>-tests/<dist>/<module>/, then all modules' tests of a
# package are scored together by score.py against the same mutants as the other rows, each
# module's tests in their own pytest process (--isolate-dirs), as they were written and checked.
#
#   benchmarks/mutation/run_assay.sh [--endpoint URL] [--budget SECONDS] [--flag ARG]...
#                                    [--module MOD]... [--tag NAME] [--no-score] [DIST...]
#
#   --endpoint  an OpenAI-compatible server, without /v1 (default: none given, so assay uses its
#               embedded model, as issue 18 asks)
#   --budget    assay's --max-minutes per module, in seconds (default 180, as in benchmarks/cover);
#               `timeout` caps a module's whole run at budget + 120 s
#   --flag      an extra option for `assay cover` (repeatable), e.g. --flag --no-explore
#   --tag       tests under results/<tag>-tests/, scores under results/scores/<tag>/ (default: assay)
#   DIST        prepared packages under benchmarks/work/mutation/ (default: both)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
WORK="${BENCH_WORK:-$REPO/benchmarks/work/mutation}"
ASSAY="${ASSAY_BIN:-$REPO/.venv/bin/assay}"
PY=python3.11
BUDGET=180 ENDPOINT="" TAG=assay SCORE=1
MODULES=() DISTS=() FLAGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --endpoint) ENDPOINT="${2%/}"; ENDPOINT="${ENDPOINT%/v1}"; shift 2 ;;
    --budget) BUDGET="$2"; shift 2 ;;
    --module) MODULES+=("$2"); shift 2 ;;
    --flag) FLAGS+=("$2"); shift 2 ;;
    --tag) TAG="$2"; shift 2 ;;
    --no-score) SCORE=0; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) DISTS+=("$1"); shift ;;
  esac
done
[ ${#DISTS[@]} -gt 0 ] || DISTS=(humanize-4.9.0 semver-3.0.2)
[ -x "$ASSAY" ] || { echo "no assay at $ASSAY: bash scripts/quickstart.sh first, or ASSAY_BIN=PATH" >&2; exit 2; }
VERSION="$("$ASSAY" --version | awk '{print $2}')"
LLM=()
MODEL_ID=embedded
if [ -n "$ENDPOINT" ]; then
  MODEL_ID="$(curl -sf "$ENDPOINT/v1/models" | $PY -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])' 2>/dev/null || true)"
  [ -n "$MODEL_ID" ] || { echo "no OpenAI-compatible server answering at $ENDPOINT/v1/models" >&2; exit 2; }
  LLM=(--llm-base-url "$ENDPOINT/v1" --llm-model "$MODEL_ID")
fi
MINUTES=$($PY -c "print(round($BUDGET / 60, 3))")
JSONL="$WORK/results/$TAG-generation.jsonl"
mkdir -p "$WORK/results"
export ASSAY_HOME="${ASSAY_BENCH_HOME:-$WORK/assay-home}"   # its own cache: no answers reused

for DIST in "${DISTS[@]}"; do
  PROJECT="$WORK/$DIST"
  [ -f "$PROJECT/bench.json" ] || { echo "$PROJECT/bench.json missing: run prepare.py" >&2; exit 2; }
  PKG=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["package"])' "$PROJECT/bench.json")
  OUTROOT="$WORK/results/$TAG-tests/$DIST"
  mkdir -p "$OUTROOT"
  for MOD in $($PY -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["modules"]))' "$PROJECT/bench.json"); do
    if [ ${#MODULES[@]} -gt 0 ] && ! printf '%s\n' "${MODULES[@]}" | grep -qx "$MOD"; then continue; fi
    OUT="$OUTROOT/$MOD"
    rm -rf "$OUT"; mkdir -p "$OUT"
    TMP="$(mktemp -d /tmp/bench-mut-assay-XXXXXX)"
    cp -r "$PROJECT/src/." "$TMP/"          # the package and its dist-info; no tests at all
    REL="$PKG/${MOD#"$PKG".}.py"
    echo "== assay $VERSION $MOD (budget ${BUDGET}s, model $MODEL_ID) in $TMP"
    LOAD0=$(cut -d" " -f1 /proc/loadavg)
    START=$(date +%s.%N)
    set +e
    timeout -k 15 $((BUDGET + 120)) "$ASSAY" cover "$TMP" --files "$REL" "${LLM[@]}" --no-cache \
        --max-minutes "$MINUTES" --report "$OUT/assay-report.json" "${FLAGS[@]}" \
        > "$OUT/assay.stdout" 2> "$OUT/assay.stderr"
    RC=$?
    set -e
    LOAD1=$(cut -d" " -f1 /proc/loadavg)
    WALL=$($PY -c "import time,sys; print(round(time.time()-float(sys.argv[1]),1))" "$START")
    cp "$TMP"/tests/test_*.py "$OUT"/ 2>/dev/null || true
    rm -rf "$TMP"
    $PY - "$JSONL" "$OUT" <<EOF
import json, sys
from pathlib import Path
out = Path(sys.argv[2])
report = {}
if (out / "assay-report.json").exists():
    d = json.loads((out / "assay-report.json").read_text())
    report = {k: d.get(k) for k in ("tests", "llm", "stopped")}
n = sum(t.read_text().count("\ndef test_") for t in out.glob("test_*.py"))
rec = dict(tool="$TAG", tool_version="$VERSION", dist="$DIST", module="$MOD", budget_s=$BUDGET,
           budget_kind="max-minutes", model="$MODEL_ID", wall_seconds=$WALL, exit_code=$RC,
           cut=$RC in (124, 137), tests_generated=n, load1_start=$LOAD0, load1_end=$LOAD1,
           tokens=(report.get("llm") or {}).get("tokens", 0), assay=report)
with open(sys.argv[1], "a") as f:
    f.write(json.dumps(rec) + "\n")
print(json.dumps({k: rec[k] for k in ("module", "wall_seconds", "exit_code", "tests_generated", "tokens")}))
EOF
  done
  if [ "$SCORE" = 1 ] && [ ${#MODULES[@]} -eq 0 ]; then
    $PY "$HERE/score.py" --work "$WORK" --dist "$DIST" --tests "$OUTROOT" --tag "$TAG" --isolate-dirs
  fi
done
