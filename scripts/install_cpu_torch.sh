#!/usr/bin/env bash
# PyTorch for the code index's embedding model, installed before assay so that
# sentence-transformers finds it and does not pull the CUDA build (a 6 GB venv) on a host
# without a GPU.
#
#   bash scripts/install_cpu_torch.sh VENV
#
# pip resolves torch==$TORCH_VERSION from its configured indexes and find-links (where a CPU
# wheel is staged, as on the project's machines, it takes that one). Elsewhere, point it at
# PyTorch's CPU index:  TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
set -euo pipefail
VENV=${1:?usage: install_cpu_torch.sh VENV}
TORCH_VERSION=${TORCH_VERSION:-2.13.0}
if [ -n "${TORCH_INDEX_URL:-}" ]; then
    "$VENV/bin/python" -m pip install --quiet "torch==$TORCH_VERSION" --index-url "$TORCH_INDEX_URL"
else
    "$VENV/bin/python" -m pip install --quiet "torch==$TORCH_VERSION"
fi
"$VENV/bin/python" - <<'PY'
import torch

build = "CUDA " + torch.version.cuda if torch.version.cuda else "CPU"
print(f"==> torch {torch.__version__} ({build} build)")
PY
