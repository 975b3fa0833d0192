from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.openai_server import FakeOpenAI


@pytest.fixture
def fake_llm() -> Iterator[FakeOpenAI]:
    """A scripted OpenAI-compatible server on a loopback port (see tests/fakes/openai_server.py)."""
    with FakeOpenAI() as server:
        yield server


@pytest.fixture(autouse=True)
def assay_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own ASSAY_HOME and no ASSAY_* settings from the developer's shell."""
    import os

    for key in list(os.environ):
        if key.startswith("ASSAY_"):
            monkeypatch.delenv(key)
    home = tmp_path_factory.mktemp("assay-home")
    monkeypatch.setenv("ASSAY_HOME", str(home))
    # The fixture projects run pytest with this venv's interpreter, which has assay's own test
    # plugins (pytest-lsp, pytest-asyncio, anyio's): a project's venv would not, and loading
    # them costs about a second per pytest start. They stay out, passed to the sandboxed runs
    # the way a user passes a variable (sandbox_pass_env).
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:pytest-lsp -p no:asyncio -p no:anyio")
    monkeypatch.setenv("ASSAY_SANDBOX_PASS_ENV", '["PYTEST_ADDOPTS"]')
    return home
