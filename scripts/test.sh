#!/usr/bin/env bash
# The test command: lint, format check, the import contracts, types, then the default test suite
# (no network, no real model: the LLM is the scripted fake server). Extra args go to pytest.
#
#   bash scripts/test.sh            # everything
#   bash scripts/test.sh -k sandbox # a subset
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
if [ "${ASSAY_SKIP_INSTALL:-0}" != 1 ]; then
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    bash scripts/install_cpu_torch.sh "$VENV"   # before assay: not the CUDA build
    "$VENV/bin/python" -m pip install --quiet -e '.[dev]'
fi

echo "==> ruff"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
echo "==> import contracts"; "$VENV/bin/lint-imports"
echo "==> mypy"; "$VENV/bin/mypy"
echo "==> pytest"
# pytest's own exit codes pass through: 5 (no tests collected) fails the run like any other.
"$VENV/bin/python" -m pytest "$@"
