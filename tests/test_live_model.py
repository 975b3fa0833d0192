"""End to end against the real embedded model and the real llama.cpp server (``-m live``).

Needs the model installed in the default ASSAY_HOME ('assay model install') and the ``local``
extra; skipped with the reason otherwise.  Slow: loading takes seconds, answers ~20 tokens/s.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from agents.model.server import llm_endpoint, running_server
from agents.settings import Settings
from flows.llm import LLMClient
from tests.kit.model import installed_model

pytestmark = pytest.mark.live


def test_real_server_writes_a_function(assay_home: Path) -> None:
    # The real model file, but this test's own ASSAY_HOME: its run dir, not the developer's.
    settings = Settings(home=assay_home, model_path=installed_model())
    started = time.monotonic()
    with llm_endpoint(settings) as url:
        ready = time.monotonic() - started
        info = running_server(settings)
        assert info is not None and info.owner == "command"
        client = LLMClient(url, settings.llm_model, timeout=300, max_retries=0)
        assert client.list_models() == [settings.llm_model]
        answer = client.complete(
            [
                {"role": "system", "content": "You write Python code. Answer with code only."},
                {"role": "user", "content": "Write a function add(a, b) that returns a + b."},
            ],
            max_tokens=80,
            temperature=0.0,
        )
        client.close()
    print(
        f"\nserver ready in {ready:.1f} s; answer in {answer.latency:.1f} s "
        f"({answer.prompt_tokens} prompt + {answer.completion_tokens} completion tokens):\n"
        f"{answer.text}"
    )
    assert "def add" in answer.text
    with pytest.raises(ProcessLookupError):
        os.killpg(info.pid, 0)
    assert running_server(settings) is None
    assert not (settings.run_dir / "server.json").exists()
