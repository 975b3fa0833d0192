#!/usr/bin/env bash
# assay cover on every module of the prepared packages, one module at a time, each in a
# THROWAWAY COPY (the package without its tests), against an OpenAI-compatible endpoint (the
# embedded model's llama.cpp server), measured exactly like the peers.
#
#   benchmarks/cover/run_assay.sh --endpoint http://127.0.0.1:8111 [--budget SECONDS]
#                                 [--module MOD]... [--flag ARG]... [--tag NAME] [DIST...]
#
#   --endpoint  base URL of the server, without /v1 (required)
#   --budget    assay's own --max-minutes per module, in seconds (default 600): assay stops
#               asking when it runs out and finishes cleanly; `timeout` caps it at budget+120 s
#   --flag      an extra option for `assay cover` (repeatable), e.g. --flag --no-mutation
#   --tag       results go to results/<tag>.jsonl and results/<tag>/ (default: assay)
#   DIST        prepared projects under benchmarks/work/ (default: python-string-utils pymonet)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
WORK="${BENCH_WORK:-$REPO/benchmarks/work}"
ASSAY="${ASSAY_BIN:-$REPO/.venv/bin/assay}"
PY=python3.11
BUDGET=600 ENDPOINT="" TAG=assay
MODULES=() DISTS=() FLAGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --endpoint) ENDPOINT="${2%/}"; ENDPOINT="${ENDPOINT%/v1}"; shift 2 ;;
    --budget) BUDGET="$2"; shift 2 ;;
    --module) MODULES+=("$2"); shift 2 ;;
    --flag) FLAGS+=("$2"); shift 2 ;;
    --tag) TAG="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) DISTS+=("$1"); shift ;;
  esac
done
[ -n "$ENDPOINT" ] || { echo "--endpoint URL is required (e.g. http://127.0.0.1:8111)" >&2; exit 2; }
[ ${#DISTS[@]} -gt 0 ] || DISTS=(python-string-utils pymonet)
[ -x "$ASSAY" ] || { echo "no assay at $ASSAY: bash scripts/quickstart.sh first" >&2; exit 2; }
VERSION="$("$ASSAY" --version | awk '{print $2}')"
MODEL_ID="$(curl -sf "$ENDPOINT/v1/models" | $PY -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])' 2>/dev/null || true)"
[ -n "$MODEL_ID" ] || { echo "no OpenAI-compatible server answering at $ENDPOINT/v1/models" >&2; exit 2; }
JSONL="$WORK/results/$TAG.jsonl"
mkdir -p "$WORK/results"
MINUTES=$($PY -c "print(round($BUDGET / 60, 3))")
export ASSAY_HOME="${ASSAY_BENCH_HOME:-$WORK/assay-home}"   # its own cache: no answers reused

for DIST in "${DISTS[@]}"; do
  PROJECT="$WORK/$DIST"
  [ -f "$PROJECT/bench.json" ] || { echo "$PROJECT/bench.json missing: run prepare.py" >&2; exit 2; }
  OUTROOT="$WORK/results/$TAG/$DIST"
  mkdir -p "$OUTROOT"
  while IFS=$'\t' read -r MOD MODPATH PKG SRCROOT; do
    if [ ${#MODULES[@]} -gt 0 ] && ! printf '%s\n' "${MODULES[@]}" | grep -qx "$MOD"; then continue; fi
    OUT="$OUTROOT/$MOD"
    rm -rf "$OUT"; mkdir -p "$OUT"
    TMP="$(mktemp -d /tmp/bench-assay-XXXXXX)"
    cp -r "$PROJECT/$SRCROOT/$PKG" "$TMP/$PKG"
    REL="${MODPATH#"$SRCROOT"/}"; [ "$SRCROOT" = "." ] && REL="$MODPATH"
    echo "== assay $VERSION $MOD (budget ${BUDGET}s) against $ENDPOINT ($MODEL_ID) in $TMP"
    LOAD0=$(cut -d" " -f1 /proc/loadavg)
    START=$(date +%s.%N)
    set +e
    timeout -k 15 $((BUDGET + 120)) "$ASSAY" cover "$TMP" --files "$REL" \
        --llm-base-url "$ENDPOINT/v1" --llm-model "$MODEL_ID" --no-cache \
        --max-minutes "$MINUTES" --report "$OUT/assay-report.json" "${FLAGS[@]}" \
        > "$OUT/assay.stdout" 2> "$OUT/assay.stderr"
    RC=$?
    set -e
    LOAD1=$(cut -d" " -f1 /proc/loadavg)
    WALL=$($PY -c "import time,sys; print(round(time.time()-float(sys.argv[1]),1))" "$START")
    if [ "$RC" = 124 ] || [ "$RC" = 137 ]; then CUT=true; else CUT=false; fi
    cp "$TMP"/tests/test_*_assay.py "$OUT"/ 2>/dev/null || true
    rm -rf "$TMP"
    NTESTS=$($PY "$HERE/bench_util.py" count-tests "$OUT")
    REPORT='{}'
    [ -f "$OUT/assay-report.json" ] && REPORT=$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); m = d.get("mutation") or {}; print(json.dumps({"tests": d["tests"], "llm": d["llm"], "stopped": d["stopped"], "observed_oracles": len(d["observed_oracles"]), "explored": d.get("explored", []), "mutation": {k: m.get(k) for k in ("before", "after")}, "rewrite": {k: v for k, v in (d.get("rewrite") or {}).items() if k != "examples"}}))' "$OUT/assay-report.json")
    TOKENS=$(echo "$REPORT" | $PY -c 'import json,sys; print(json.load(sys.stdin).get("llm", {}).get("tokens", 0))')
    $PY "$HERE/measure.py" --project "$PROJECT" --tests "$OUT" --module "$MOD" \
        --out "$OUT/measure.json" > /dev/null
    $PY "$HERE/bench_util.py" record --jsonl "$JSONL" --measure "$OUT/measure.json" --module "$MOD" \
        --set tool="$TAG" --set tool_version="$VERSION" --set dist="$DIST" --set budget_s="$BUDGET" \
        --set budget_kind=max-minutes --set endpoint="$ENDPOINT" --set model="$MODEL_ID" \
        --set wall_seconds="$WALL" --set exit_code="$RC" --set cut="$CUT" \
        --set load1_start="$LOAD0" --set load1_end="$LOAD1" --set cpus="$(nproc)" \
        --set tests_generated="$NTESTS" --set tokens="$TOKENS" --json assay="$REPORT"
  done < <($PY "$HERE/bench_util.py" modules "$PROJECT")

  if [ ${#MODULES[@]} -eq 0 ]; then
    ARGS=()
    for d in "$OUTROOT"/*/; do ARGS+=(--tests "$d"); done
    $PY "$HERE/measure.py" --project "$PROJECT" "${ARGS[@]}" --out "$OUTROOT/measure-all.json" > /dev/null
    $PY "$HERE/bench_util.py" record --jsonl "$JSONL" --measure "$OUTROOT/measure-all.json" \
        --set tool="$TAG" --set tool_version="$VERSION" --set dist="$DIST" --set budget_s="$BUDGET" \
        --set budget_kind=max-minutes --set model="$MODEL_ID"
  fi
done
