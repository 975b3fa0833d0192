#!/usr/bin/env bash
# The test command: lint, format check, the import contracts, types, then the default test suite
# (no network, no real model: the LLM is the scripted fake server). Extra args go to pytest.
#
#   bash scripts/test.sh            # everything, two pytest workers
#   bash scripts/test.sh -k sandbox # a subset
#   bash scripts/test.sh -n 0       # serial (a busy machine: the time-bound tests)
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
echo "==> VS Code extension (ide_plugin/vscode): vitest, .vsix"
if [ "${ASSAY_SKIP_IDE:-0}" = 1 ]; then
    echo "skipped: ASSAY_SKIP_IDE=1"
elif ! command -v npm >/dev/null 2>&1; then
    echo "skipped: npm not found (the extension's tests and its .vsix need Node.js >= 20 and npm)"
else
    (
        cd ide_plugin/vscode
        # npm ci only when the lock file changed since the last one (node_modules is the cache).
        stamp=node_modules/.assay-lock.sha256
        if ! sha256sum --status -c "$stamp" 2>/dev/null; then
            npm ci --prefer-offline --no-audit --no-fund --loglevel=error
            sha256sum package-lock.json >"$stamp"
        fi
        npm test --silent
        npm run package --silent
    )
fi
echo "==> pytest"
# pytest's own exit codes pass through: 5 (no tests collected) fails the run like any other.
# Two workers unless the arguments say otherwise (-n 0: serial, for a busy machine).
workers=(-n 2)
for arg in "$@"; do
    case "$arg" in -n|-n*|--numprocesses*) workers=() ;; esac
done
# The slowest tests are listed at the end: the suite's time is kept under ~12 minutes.
"$VENV/bin/python" -m pytest "${workers[@]}" --durations=15 "$@"
