#!/usr/bin/env bash
# Pynguin 0.48 (search-based, no LLM) on every module of the prepared packages, one module at a
# time, each in a THROWAWAY COPY (Pynguin calls the code with made-up arguments).
#
#   benchmarks/cover/run_pynguin.sh [--budget SECONDS] [--seed N] [--hard-cap SECONDS]
#                                   [--module MOD]... [DIST...]
#
#   --budget    Pynguin's --maximum-search-time per module (default 120)
#   --hard-cap  wall-clock cap on one module's whole Pynguin run, search + assertion generation
#               (mutation analysis) + export (default 1200); a run cut by it is recorded as cut
#   DIST        prepared projects under benchmarks/work/ (default: python-string-utils pymonet)
#
# Tests go to benchmarks/work/results/pynguin/<dist>/<module>/, one JSON line per module (and one
# "ALL" line per package, all modules' tests together) to benchmarks/work/results/pynguin.jsonl.
# Needs: python3.11 benchmarks/cover/prepare.py first; the venv below (see README.md).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="${BENCH_WORK:-$(cd "$HERE/.." && pwd)/work}"
VENV="${PYNGUIN_VENV:-/work/cache/bench-pynguin-venv}"
PY=python3.11
BUDGET=120 SEED=1 HARD_CAP=1200
MODULES=() DISTS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --budget) BUDGET="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --hard-cap) HARD_CAP="$2"; shift 2 ;;
    --module) MODULES+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) DISTS+=("$1"); shift ;;
  esac
done
[ ${#DISTS[@]} -gt 0 ] || DISTS=(python-string-utils pymonet)
[ -x "$VENV/bin/pynguin" ] || { echo "no Pynguin at $VENV: /root/.pyenv/versions/3.12.1/bin/python -m venv $VENV && $VENV/bin/pip install 'pynguin==0.48.*'" >&2; exit 2; }
VERSION="$("$VENV/bin/pip" show pynguin 2>/dev/null | awk '/^Version:/{print $2}')"
JSONL="$WORK/results/pynguin.jsonl"
mkdir -p "$WORK/results"

for DIST in "${DISTS[@]}"; do
  PROJECT="$WORK/$DIST"
  [ -f "$PROJECT/bench.json" ] || { echo "$PROJECT/bench.json missing: run prepare.py" >&2; exit 2; }
  OUTROOT="$WORK/results/pynguin/$DIST"
  mkdir -p "$OUTROOT"
  while IFS=$'\t' read -r MOD MODPATH PKG SRCROOT; do
    if [ ${#MODULES[@]} -gt 0 ] && ! printf '%s\n' "${MODULES[@]}" | grep -qx "$MOD"; then continue; fi
    OUT="$OUTROOT/$MOD"
    rm -rf "$OUT"; mkdir -p "$OUT"
    TMP="$(mktemp -d /tmp/bench-pynguin-XXXXXX)"
    cp -r "$PROJECT/$SRCROOT/$PKG" "$TMP/$PKG"
    (cd "$TMP" && find . -type f | sort) > "$TMP.files-before"
    mkdir -p "$TMP.out" "$TMP.report"
    echo "== pynguin $VERSION $MOD (search budget ${BUDGET}s, seed $SEED, cap ${HARD_CAP}s) in $TMP"
    LOAD0=$(cut -d" " -f1 /proc/loadavg)   # other work on the machine skews time-budgeted runs
    START=$(date +%s.%N)
    set +e
    ( cd "$TMP" && PYNGUIN_DANGER_AWARE=1 timeout -k 30 "$HARD_CAP" nice -n 10 "$VENV/bin/pynguin" \
        --project-path . --module-name "$MOD" --output-path "$TMP.out" --report-dir "$TMP.report" \
        --maximum-search-time "$BUDGET" --seed "$SEED" --no-rich -v ) > "$OUT/pynguin.log" 2>&1
    RC=$?
    set -e
    LOAD1=$(cut -d" " -f1 /proc/loadavg)
    WALL=$($PY -c "import time,sys; print(round(time.time()-float(sys.argv[1]),1))" "$START")
    if [ "$RC" = 124 ] || [ "$RC" = 137 ]; then CUT=true; else CUT=false; fi
    cp "$TMP.out"/*.py "$OUT"/ 2>/dev/null || true
    cp "$TMP.report/statistics.csv" "$OUT/" 2>/dev/null || true
    DAMAGE=$( (cd "$TMP" 2>/dev/null && find . -type f -not -path '*/__pycache__/*' | sort) | comm -23 <(grep -v __pycache__ "$TMP.files-before") - | wc -l)
    rm -rf "$TMP" "$TMP.out" "$TMP.report" "$TMP.files-before"
    NTESTS=$($PY "$HERE/bench_util.py" count-tests "$OUT")
    STATS=$($PY "$HERE/bench_util.py" pynguin-stats "$OUT/statistics.csv")
    nice -n 10 $PY "$HERE/measure.py" --project "$PROJECT" --tests "$OUT" --module "$MOD" \
        --out "$OUT/measure.json" > /dev/null
    $PY "$HERE/bench_util.py" record --jsonl "$JSONL" --measure "$OUT/measure.json" --module "$MOD" \
        --set tool=pynguin --set tool_version="$VERSION" --set dist="$DIST" --set budget_s="$BUDGET" \
        --set budget_kind=maximum-search-time --set seed="$SEED" --set hard_cap_s="$HARD_CAP" \
        --set wall_seconds="$WALL" --set exit_code="$RC" --set cut="$CUT" \
        --set load1_start="$LOAD0" --set load1_end="$LOAD1" --set cpus="$(nproc)" \
        --set tests_generated="$NTESTS" --set files_deleted_in_copy="$DAMAGE" \
        --set tokens=0 --json tool_reported="$STATS"
  done < <($PY "$HERE/bench_util.py" modules "$PROJECT")

  # the package as a whole: every module's tests together
  if [ ${#MODULES[@]} -eq 0 ]; then
    ARGS=()
    for d in "$OUTROOT"/*/; do ARGS+=(--tests "$d"); done
    nice -n 10 $PY "$HERE/measure.py" --project "$PROJECT" "${ARGS[@]}" --out "$OUTROOT/measure-all.json" > /dev/null
    $PY "$HERE/bench_util.py" record --jsonl "$JSONL" --measure "$OUTROOT/measure-all.json" \
        --set tool=pynguin --set tool_version="$VERSION" --set dist="$DIST" --set budget_s="$BUDGET" \
        --set budget_kind=maximum-search-time --set seed="$SEED"
  fi
done
