#!/usr/bin/env bash
# Fetch the pinned npm tarballs (packages.json), check their integrity, and lay out per package:
#   work/<name>/own/    the package with its own tests and their runner (the reference)
#   work/<name>/assay/  the package WITHOUT its tests, for `assay cover` (its runner installed:
#                       the package's own jest for ts-dedent; vitest for qs, whose own runner,
#                       tape, assay does not drive)
# Both get @stryker-mutator/core and c8 (pinned in packages.json). Needs node, npm and the npm
# registry; nothing here touches the repository outside benchmarks/cover-js/work/.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="${BENCH_JS_WORK:-$HERE/work}"
mkdir -p "$WORK/tarballs"
python3 - "$HERE/packages.json" > "$WORK/plan.tsv" <<'PY'
import json, sys
spec = json.load(open(sys.argv[1]))
tools = " ".join(spec.pop("tools"))
for name, p in spec.items():
    # "|", not a tab: read merges consecutive tabs, and an empty field (no assay_runner) would
    # shift the tools into its place.
    print("|".join([name, p["version"], p["integrity"], " ".join(p["own_tests"]),
                    " ".join(p["install"]), " ".join(p["assay_runner"]), tools]))
PY
while IFS='|' read -r name version integrity own_tests install assay_runner tools; do
  echo "==> $name@$version"
  tarball="$(cd "$WORK/tarballs" && npm pack "$name@$version" --silent)"
  got="sha512-$(openssl dgst -sha512 -binary "$WORK/tarballs/$tarball" | base64 -w0)"
  if [ "$got" != "$integrity" ]; then
    echo "integrity mismatch for $tarball: $got" >&2; exit 1
  fi
  rm -rf "$WORK/$name"; mkdir -p "$WORK/$name/own" "$WORK/$name/assay"
  tar -xzf "$WORK/tarballs/$tarball" -C "$WORK/$name/own" --strip-components=1
  tar -xzf "$WORK/tarballs/$tarball" -C "$WORK/$name/assay" --strip-components=1
  for dir in $own_tests; do rm -rf "$WORK/$name/assay/$dir"; done
  # The package's devDependencies are its authors' tooling (bundlers, linters, some from git):
  # dropped from both copies; the runners and tools the benchmark needs are pinned instead.
  for side in own assay; do
    python3 - "$WORK/$name/$side/package.json" <<'PY'
import json, sys
path = sys.argv[1]
data = json.load(open(path))
data.pop("devDependencies", None)
json.dump(data, open(path, "w"), indent=2)
PY
  done
  # --no-save: package.json stays as above; lifecycle scripts off.
  (cd "$WORK/$name/own" && npm install --no-save --ignore-scripts --no-audit --no-fund --legacy-peer-deps $install $tools)
  (cd "$WORK/$name/assay" && npm install --no-save --ignore-scripts --no-audit --no-fund --legacy-peer-deps $install $assay_runner $tools)
  printf "node_modules\ncoverage\nreports\n.stryker-tmp\n" > "$WORK/$name/assay/.gitignore"
  (cd "$WORK/$name/assay" && git init -q && git add -A && git -c user.name=b -c user.email=b@b commit -qm base)
done < "$WORK/plan.tsv"
echo "prepared under $WORK"
