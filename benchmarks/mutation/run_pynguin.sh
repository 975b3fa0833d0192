#!/usr/bin/env bash
# Row (3): Pynguin 0.48's suite, the protocol of the coverage benchmark (benchmarks/cover/):
# one module at a time, each in a THROWAWAY COPY of the package alone (Pynguin calls the code
# with made-up arguments), 120 s of search per module, seed 1, default everything else.
#
#   benchmarks/mutation/run_pynguin.sh [--budget SECONDS] [--seed N] [--hard-cap SECONDS]
#                                      [--module MOD]... [--no-score] [DIST...]
#
#   --budget    Pynguin's --maximum-search-time per module (default 120)
#   --hard-cap  wall-clock cap on one module's whole run (default 1200); a cut run is recorded
#   DIST        prepared packages under benchmarks/work/mutation/ (default: both)
#
# Tests go to benchmarks/work/mutation/results/pynguin/<dist>/<module>/ (with the log), one JSON
# line per module to benchmarks/work/mutation/results/pynguin-generation.jsonl. Then (unless
# --no-score or --module) all modules' tests of a package are scored together:
#   python3.11 benchmarks/mutation/score.py --dist DIST --tests results/pynguin/DIST --tag pynguin \
#       --isolate-dirs      (each module's tests in their own pytest process, as generated)
# Needs: prepare.py first; Pynguin in $PYNGUIN_VENV (default /work/cache/bench-pynguin-venv):
#   ~/.pyenv/versions/3.12.1/bin/python -m venv V && V/bin/pip install pynguin==0.48.0
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="${BENCH_WORK:-$(cd "$HERE/.." && pwd)/work/mutation}"
VENV="${PYNGUIN_VENV:-/work/cache/bench-pynguin-venv}"
PY=python3.11
BUDGET=120 SEED=1 HARD_CAP=1200 SCORE=1
MODULES=() DISTS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --budget) BUDGET="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --hard-cap) HARD_CAP="$2"; shift 2 ;;
    --module) MODULES+=("$2"); shift 2 ;;
    --no-score) SCORE=0; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) DISTS+=("$1"); shift ;;
  esac
done
[ ${#DISTS[@]} -gt 0 ] || DISTS=(humanize-4.9.0 semver-3.0.2)
[ -x "$VENV/bin/pynguin" ] || { echo "no Pynguin at $VENV: ~/.pyenv/versions/3.12.1/bin/python -m venv $VENV && $VENV/bin/pip install pynguin==0.48.0" >&2; exit 2; }
VERSION="$("$VENV/bin/pip" show pynguin 2>/dev/null | awk '/^Version:/{print $2}')"
JSONL="$WORK/results/pynguin-generation.jsonl"
mkdir -p "$WORK/results"

for DIST in "${DISTS[@]}"; do
  PROJECT="$WORK/$DIST"
  [ -f "$PROJECT/bench.json" ] || { echo "$PROJECT/bench.json missing: run prepare.py" >&2; exit 2; }
  PKG=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["package"])' "$PROJECT/bench.json")
  OUTROOT="$WORK/results/pynguin/$DIST"
  mkdir -p "$OUTROOT"
  for MOD in $($PY -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["modules"]))' "$PROJECT/bench.json"); do
    if [ ${#MODULES[@]} -gt 0 ] && ! printf '%s\n' "${MODULES[@]}" | grep -qx "$MOD"; then continue; fi
    OUT="$OUTROOT/$MOD"
    rm -rf "$OUT"; mkdir -p "$OUT"
    TMP="$(mktemp -d /tmp/bench-mut-pynguin-XXXXXX)"
    cp -r "$PROJECT/src/." "$TMP/"          # the package and its metadata-only dist-info
    (cd "$TMP" && find . -type f | sort) > "$TMP.files-before"
    mkdir -p "$TMP.out" "$TMP.report"
    echo "== pynguin $VERSION $MOD (search ${BUDGET}s, seed $SEED, cap ${HARD_CAP}s) in $TMP"
    LOAD0=$(cut -d" " -f1 /proc/loadavg)
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
    DELETED=$( (cd "$TMP" 2>/dev/null && find . -type f -not -path '*/__pycache__/*' | sort) | comm -23 <(grep -v __pycache__ "$TMP.files-before") - | wc -l)
    rm -rf "$TMP" "$TMP.out" "$TMP.report" "$TMP.files-before"
    NTESTS=$(cat "$OUT"/test_*.py 2>/dev/null | grep -c '^def test_' || true)
    $PY - "$JSONL" <<EOF
import json, sys
rec = dict(tool="pynguin", tool_version="$VERSION", dist="$DIST", module="$MOD",
           budget_s=$BUDGET, budget_kind="maximum-search-time", seed=$SEED, hard_cap_s=$HARD_CAP,
           wall_seconds=$WALL, exit_code=$RC, cut=$( [ "$CUT" = true ] && echo True || echo False ),
           tests_generated=$NTESTS, files_deleted_in_copy=$DELETED,
           load1_start=$LOAD0, load1_end=$LOAD1, cpus=$(nproc))
with open(sys.argv[1], "a") as f:
    f.write(json.dumps(rec) + "\n")
print(json.dumps(rec))
EOF
  done
  if [ "$SCORE" = 1 ] && [ ${#MODULES[@]} -eq 0 ]; then
    $PY "$HERE/score.py" --work "$WORK" --dist "$DIST" --tests "$OUTROOT" --tag pynguin --isolate-dirs
  fi
done
