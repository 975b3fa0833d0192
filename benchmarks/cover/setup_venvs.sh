#!/usr/bin/env bash
# Creates the three venvs of the coverage benchmark, outside the repo (peers' code never enters
# it). Idempotent: an existing venv with the tool in it is left alone.
#
#   benchmarks/cover/setup_venvs.sh [CACHE_DIR]      (default /work/cache)
#
#   bench-measure-venv  python3.11: coverage, pytest, pytest-timeout, pytest-mock (measure.py)
#   bench-coverup-venv  python3.11: coverup==0.6.3 coverage pytest
#   bench-pynguin-venv  python3.12: pynguin==0.48.* (Pynguin needs Python >= 3.12)
set -euo pipefail
CACHE="${1:-/work/cache}"
PY311="${PY311:-python3.11}"
PY312="${PY312:-$(command -v python3.12 || echo /root/.pyenv/versions/3.12.1/bin/python)}"
mkdir -p "$CACHE"

make_venv() {  # name python probe-module packages...
  local name="$1" py="$2" probe="$3"; shift 3
  if [ -x "$CACHE/$name/bin/python" ] && "$CACHE/$name/bin/python" -c "import $probe" 2>/dev/null; then
    echo "$name: present"; return
  fi
  echo "$name: creating with $py, installing $*"
  "$py" -m venv "$CACHE/$name"
  "$CACHE/$name/bin/pip" install -q --disable-pip-version-check "$@"
}

make_venv bench-measure-venv "$PY311" "coverage, pytest, pytest_timeout, pytest_mock" \
  coverage pytest pytest-timeout pytest-mock
make_venv bench-coverup-venv "$PY311" coverup "coverup==0.6.3" coverage pytest
make_venv bench-pynguin-venv "$PY312" pynguin "pynguin==0.48.*"

for v in bench-measure-venv bench-coverup-venv bench-pynguin-venv; do
  printf '%s: ' "$v"; "$CACHE/$v/bin/python" --version
  "$CACHE/$v/bin/pip" list --disable-pip-version-check 2>/dev/null \
    | grep -iE '^(coverage|pytest|pytest-timeout|pytest-mock|coverup|litellm|slipcover|pynguin) ' | sed 's/^/    /'
done
