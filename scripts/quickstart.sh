#!/usr/bin/env bash
# One command on a fresh machine: a venv with assay and the embedded model server, the model,
# a health check, and the main job on the bundled example project with the embedded model.
#
#   bash scripts/quickstart.sh
#
# Needs Python >= 3.11, a C compiler (llama.cpp builds from source, ~8 minutes on 2 cores) and
# ~2 GB of disk. Set PYTHON to pick the interpreter, VENV to pick where the venv goes.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}

"$PYTHON" - <<'PY' || { echo "error: assay needs Python >= 3.11: set PYTHON=/path/to/python3.11" >&2; exit 2; }
import sys
sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
bash scripts/install_cpu_torch.sh "$VENV"   # the code index's model runs on PyTorch's CPU build
echo "==> installing assay with the embedded model server (llama.cpp builds from source once)"
"$VENV/bin/python" -m pip install --quiet -e '.[local,dev]'
echo "==> installing the embedded model (Qwen2.5-Coder-1.5B-Instruct, 1.1 GB)"
"$VENV/bin/assay" model install
"$VENV/bin/assay" doctor --repo examples/shop || true
echo "==> the main job: assay cover on examples/shop with the embedded model (dry run)"
exec "$VENV/bin/assay" cover examples/shop --dry-run --max-minutes 15
