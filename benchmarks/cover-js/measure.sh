#!/usr/bin/env bash
# The figures of the benchmark, for each package: statement and branch coverage and Stryker's
# mutation score of (a) the package's own tests (work/<name>/own) and (b) assay's tests
# (work/<name>/assay plus results/<name>-tests/). Coverage is V8's for both (c8 for tape, the
# runner's own V8 provider for vitest and jest), so the two are measured alike; Stryker with
# the command runner (the suite's own command), all mutants.
#
#   benchmarks/cover-js/measure.sh [NAME...]      → results/measure.jsonl
#   (MEASURE_SIDES="assay" measures one side; STRYKER_CONCURRENCY=N, default 1)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="${BENCH_JS_WORK:-$HERE/work}"
NAMES=("$@"); [ ${#NAMES[@]} -gt 0 ] || NAMES=(qs ts-dedent)
field() {
  python3 -c 'import json, sys; v = json.load(open(sys.argv[1]))[sys.argv[2]][sys.argv[3]]
print(",".join(v) if isinstance(v, list) else v)' "$HERE/packages.json" "$1" "$2"
}
for name in "${NAMES[@]}"; do
  sources="$(field "$name" sources)"
  own_command="$(field "$name" own_test_command)"
  for side in ${MEASURE_SIDES:-own assay}; do
    dir="$WORK/$name/$side"
    rm -rf "$dir/.stryker-tmp"  # a failed Stryker run leaves its sandbox, whose tests vitest finds
    if [ "$side" = assay ]; then
      cp -a "$HERE/results/$name-tests/." "$dir/"
      if [ -d "$dir/node_modules/vitest" ]; then command="node_modules/.bin/vitest run"; else command="node_modules/.bin/jest"; fi
    else
      command="$own_command"
    fi
    include=(); IFS=, read -ra globs <<< "$sources"
    # V8 coverage for every suite, read as istanbul's json-summary: vitest and jest through
    # their own V8 provider (c8 sees nothing of vitest's transformed modules), tape under c8.
    set -f  # the globs are the tools' to expand, in the suite's directory
    if [[ "$command" == *vitest* ]]; then
      for g in "${globs[@]}"; do include+=("--coverage.include=$g"); done
      cov=($command --coverage.enabled --coverage.provider=v8 --coverage.reporter=json-summary
           --coverage.reportsDirectory=coverage-c8 --coverage.all "${include[@]}")
    elif [[ "$command" == *jest* ]]; then
      for g in "${globs[@]}"; do include+=("--collectCoverageFrom=$g"); done
      cov=($command --coverage --coverageProvider=v8 --coverageReporters=json-summary
           --coverageDirectory=coverage-c8 "${include[@]}")
    else
      for g in "${globs[@]}"; do include+=(--include "$g"); done
      cov=(node_modules/.bin/c8 --reporter=json-summary --report-dir coverage-c8 --all
           "${include[@]}" $command)
    fi
    set +f
    (cd "$dir" && rm -rf coverage-c8 && "${cov[@]}" > "$HERE/results/coverage-$name-$side.log" 2>&1) || true
    # Stryker's command runner takes its command from a config file (no CLI flag for it).
    python3 - "$dir/stryker.bench.json" "$command" "$sources" "${STRYKER_CONCURRENCY:-1}" <<'PY'
import json, sys
path, command, sources, concurrency = sys.argv[1:]
json.dump({"testRunner": "command", "commandRunner": {"command": command},
           "mutate": sources.split(","), "reporters": ["json", "clear-text"],
           "concurrency": int(concurrency), "timeoutMS": 10000}, open(path, "w"), indent=2)
PY
    rm -rf "$dir/reports/mutation"
    (cd "$dir" && node_modules/.bin/stryker run stryker.bench.json > "$HERE/results/stryker-$name-$side.log" 2>&1) || true
    python3 - "$name" "$side" "$dir" >> "$HERE/results/measure.jsonl" <<'PY'
import json, sys
from pathlib import Path
name, side, d = sys.argv[1], sys.argv[2], Path(sys.argv[3])
out = {"name": name, "suite": side}
try:
    total = json.loads((d / "coverage-c8" / "coverage-summary.json").read_text())["total"]
    out.update(statements=total["statements"]["pct"], branches=total["branches"]["pct"])
except (OSError, KeyError, ValueError) as exc:
    out["coverage_error"] = str(exc)
try:
    report = json.loads((d / "reports" / "mutation" / "mutation.json").read_text())
    statuses = [m["status"] for f in report["files"].values() for m in f["mutants"]]
    killed = sum(s in ("Killed", "Timeout") for s in statuses)
    valid = sum(s not in ("CompileError", "RuntimeError", "Ignored") for s in statuses)
    out.update(mutants=valid, killed=killed, mutation_score=round(100 * killed / valid, 2) if valid else None)
except (OSError, KeyError, ValueError) as exc:
    out["mutation_error"] = str(exc)
print(json.dumps(out))
PY
    if [ "$side" = assay ]; then  # the tests leave: the next run_assay.sh starts without them
      (cd "$HERE/results/$name-tests" && find . -type f) | (cd "$dir" && xargs -r rm -f)
    fi
  done
done
