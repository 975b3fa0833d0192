"""``assay model status``: where the model is, whether it is verified, and which server runs
it — without re-hashing a gigabyte (the install's sidecar remembers the hash)."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from agents.model.install import installed_model_path, recorded_sha256
from agents.model.server import ServerInfo, running_server
from agents.model.spec import DEFAULT_SPEC, ModelSpec
from agents.settings import Settings


@dataclass(frozen=True)
class ModelStatus:
    """What ``assay model status`` shows."""

    path: Path
    exists: bool
    size: int | None
    verified: bool | None  # None: not known without re-hashing (or not our model)
    source: Literal["ASSAY_MODEL_PATH", "installed", "missing"]
    llama_cpp_installed: bool
    server: ServerInfo | None = None
    sha256: str | None = None


def model_status(settings: Settings, spec: ModelSpec = DEFAULT_SPEC) -> ModelStatus:
    """Where the model is, whether it is verified, and whether a server runs it (no hashing)."""
    source: Literal["ASSAY_MODEL_PATH", "installed", "missing"]
    if settings.model_path is not None:
        path, source = settings.model_path, "ASSAY_MODEL_PATH"
    else:
        path = installed_model_path(settings, spec)
        source = "installed" if path.is_file() else "missing"
    exists = path.is_file()
    size = path.stat().st_size if exists else None
    sha = recorded_sha256(path) if exists else None
    verified: bool | None = None
    if sha is not None and (source == "installed" or sha == spec.sha256):
        verified = sha == spec.sha256
    return ModelStatus(
        path=path,
        exists=exists,
        size=size,
        verified=verified,
        source=source,
        llama_cpp_installed=importlib.util.find_spec("llama_cpp") is not None,
        server=running_server(settings),
        sha256=sha,
    )
