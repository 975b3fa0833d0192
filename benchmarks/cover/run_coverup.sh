#!/usr/bin/env bash
# CoverUp 0.6.3 (LLM) on every module of the prepared packages, one module at a time, each in a
# THROWAWAY COPY, against an OpenAI-compatible endpoint (the embedded model's llama.cpp server).
#
#   benchmarks/cover/run_coverup.sh --endpoint http://127.0.0.1:8111 [--budget SECONDS]
#                                   [--module MOD]... [DIST...]
#
#   --endpoint  base URL of the server, without /v1 (required)
#   --budget    wall-clock cap on one module's whole CoverUp run, via `timeout` (default 600):
#               CoverUp sets no max_tokens and has no time budget of its own; a run cut by the
#               cap is recorded as cut, and the tests it had already saved are kept
#   DIST        prepared projects under benchmarks/work/ (default: python-string-utils pymonet)
#
# CoverUp runs as the CoverUp paper's "gpt-v1" prompt family (the default gpt-v2 family relies
# on function calling), --no-isolate-tests (its isolation plugin breaks on current pytest),
# --max-concurrency 1 (one local server), everything else at its defaults (3 attempts per code
# segment, 5 repetitions of each candidate test, temperature 0).
# Accepted tests go to benchmarks/work/results/coverup/<dist>/<module>/ with CoverUp's log; one
# JSON line per module (and one "ALL" line per package) to benchmarks/work/results/coverup.jsonl.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="${BENCH_WORK:-$(cd "$HERE/.." && pwd)/work}"
VENV="${COVERUP_VENV:-/work/cache/bench-coverup-venv}"
PY=python3.11
BUDGET=600 ENDPOINT=""
MODULES=() DISTS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --endpoint) ENDPOINT="${2%/}"; ENDPOINT="${ENDPOINT%/v1}"; shift 2 ;;
    --budget) BUDGET="$2"; shift 2 ;;
    --module) MODULES+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) DISTS+=("$1"); shift ;;
  esac
done
[ -n "$ENDPOINT" ] || { echo "--endpoint URL is required (e.g. http://127.0.0.1:8111)" >&2; exit 2; }
[ ${#DISTS[@]} -gt 0 ] || DISTS=(python-string-utils pymonet)
[ -x "$VENV/bin/coverup" ] || { echo "no CoverUp at $VENV: python3.11 -m venv $VENV && $VENV/bin/pip install coverup==0.6.3 coverage pytest" >&2; exit 2; }
VERSION="$("$VENV/bin/pip" show coverup 2>/dev/null | awk '/^Version:/{print $2}')"
export LITELLM_LOCAL_MODEL_COST_MAP=True   # no network for litellm's price list
SITE="$("$VENV/bin/python" -c 'import litellm,os; print(os.path.dirname(litellm.__file__))')"
MODEL_ID="$(curl -sf "$ENDPOINT/v1/models" | $PY -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])' 2>/dev/null || true)"
[ -n "$MODEL_ID" ] || { echo "no OpenAI-compatible server answering at $ENDPOINT/v1/models" >&2; exit 2; }
JSONL="$WORK/results/coverup.jsonl"
mkdir -p "$WORK/results"

export OPENAI_API_KEY=x OPENAI_API_BASE="$ENDPOINT/v1"
export TIKTOKEN_CACHE_DIR="$SITE/litellm_core_utils/tokenizers"   # no network to fetch encodings

for DIST in "${DISTS[@]}"; do
  PROJECT="$WORK/$DIST"
  [ -f "$PROJECT/bench.json" ] || { echo "$PROJECT/bench.json missing: run prepare.py" >&2; exit 2; }
  OUTROOT="$WORK/results/coverup/$DIST"
  mkdir -p "$OUTROOT"
  while IFS=$'\t' read -r MOD MODPATH PKG SRCROOT; do
    if [ ${#MODULES[@]} -gt 0 ] && ! printf '%s\n' "${MODULES[@]}" | grep -qx "$MOD"; then continue; fi
    OUT="$OUTROOT/$MOD"
    rm -rf "$OUT"; mkdir -p "$OUT"
    TMP="$(mktemp -d /tmp/bench-coverup-XXXXXX)"
    cp -r "$PROJECT/$SRCROOT/$PKG" "$TMP/$PKG"
    mkdir "$TMP/tests"
    REL="${MODPATH#"$SRCROOT"/}"; [ "$SRCROOT" = "." ] && REL="$MODPATH"
    echo "== coverup $VERSION $MOD (cap ${BUDGET}s) against $ENDPOINT ($MODEL_ID) in $TMP"
    LOAD0=$(cut -d" " -f1 /proc/loadavg)   # other work on the machine skews time-budgeted runs
    START=$(date +%s.%N)
    set +e
    ( cd "$TMP" && timeout -k 15 "$BUDGET" "$VENV/bin/coverup" \
        --package-dir "$PKG" --tests-dir tests "$REL" \
        --model openai/gpt-3.5-turbo --prompt gpt-v1 --no-isolate-tests --max-concurrency 1 \
        --log-file "$TMP/coverup-log" --checkpoint "$TMP/coverup-ckpt.json" ) \
        > "$OUT/coverup.stdout" 2> "$OUT/coverup.stderr"
    RC=$?
    set -e
    LOAD1=$(cut -d" " -f1 /proc/loadavg)
    WALL=$($PY -c "import time,sys; print(round(time.time()-float(sys.argv[1]),1))" "$START")
    if [ "$RC" = 124 ] || [ "$RC" = 137 ]; then CUT=true; else CUT=false; fi
    # only the tests CoverUp accepted (test_coverup_N.py); a cut run can leave tmp_test_*.py behind
    cp "$TMP"/tests/test_coverup_*.py "$OUT"/ 2>/dev/null || true
    cp "$TMP/coverup-log" "$OUT/coverup-log" 2>/dev/null || true
    cp "$TMP/coverup-ckpt.json" "$OUT/" 2>/dev/null || true
    rm -rf "$TMP"
    DRAIN=0
    if [ "$CUT" = true ]; then
      # the server goes on generating the answer to the request that was cut off: wait for it
      # so the next module starts on an idle server (not counted in anyone's wall time)
      DRAIN=$($PY "$HERE/bench_util.py" wait-idle "$ENDPOINT" --max 1800 || echo -1)
    fi
    NTESTS=$($PY "$HERE/bench_util.py" count-tests "$OUT")
    USAGE=$($PY "$HERE/bench_util.py" coverup-log "$OUT/coverup-log" "$OUT/coverup.stderr")
    TOKENS=$(echo "$USAGE" | $PY -c 'import json,sys; print(json.load(sys.stdin)["total_tokens"])')
    $PY "$HERE/measure.py" --project "$PROJECT" --tests "$OUT" --module "$MOD" \
        --out "$OUT/measure.json" > /dev/null
    $PY "$HERE/bench_util.py" record --jsonl "$JSONL" --measure "$OUT/measure.json" --module "$MOD" \
        --set tool=coverup --set tool_version="$VERSION" --set dist="$DIST" --set budget_s="$BUDGET" \
        --set budget_kind=timeout-wall --set endpoint="$ENDPOINT" --set model="$MODEL_ID" \
        --set wall_seconds="$WALL" --set exit_code="$RC" --set cut="$CUT" \
        --set load1_start="$LOAD0" --set load1_end="$LOAD1" --set cpus="$(nproc)" --set drain_seconds="$DRAIN" \
        --set tests_generated="$NTESTS" --set tokens="$TOKENS" --json usage="$USAGE"
  done < <($PY "$HERE/bench_util.py" modules "$PROJECT")

  if [ ${#MODULES[@]} -eq 0 ]; then
    ARGS=()
    for d in "$OUTROOT"/*/; do ARGS+=(--tests "$d"); done
    $PY "$HERE/measure.py" --project "$PROJECT" "${ARGS[@]}" --out "$OUTROOT/measure-all.json" > /dev/null
    $PY "$HERE/bench_util.py" record --jsonl "$JSONL" --measure "$OUTROOT/measure-all.json" \
        --set tool=coverup --set tool_version="$VERSION" --set dist="$DIST" --set budget_s="$BUDGET" \
        --set budget_kind=timeout-wall --set model="$MODEL_ID"
  fi
done
