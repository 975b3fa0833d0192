"""The installed embedded model and the llama.cpp servers running, for the live tests."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest

from agents.model.spec import MODEL_FILENAME
from agents.settings import default_home


def model_servers() -> set[int]:
    """Pids of llama.cpp servers running now (a developer's own 'assay model serve' too)."""
    found = subprocess.run(["pgrep", "-f", "llama_cpp.server"], capture_output=True, text=True)
    return {int(pid) for pid in found.stdout.split()}


def installed_model() -> Path:
    path = default_home() / "models" / MODEL_FILENAME
    if not path.is_file():
        pytest.skip(f"the embedded model is not installed ({path}): run 'assay model install'")
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed: pip install 'assay[local]'")
    return path
