"""The editor's Generate tests on the real embedded model (``-m live``): the code lens over a
function of the bundled example yields an accepted test, shown as soon as it passed its gates.

Slow (minutes on 2 cores).  Needs 'assay model install' and the ``local`` extra; skipped with
the reason otherwise.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.kit.lsp import start
from tests.kit.model import installed_model, model_servers

pytestmark = [pytest.mark.live, pytest.mark.timeout(2400)]

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "shop"


@pytest.mark.asyncio
async def test_the_code_lens_yields_an_accepted_test_on_the_embedded_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = installed_model()
    servers_before = model_servers()
    monkeypatch.setenv("ASSAY_MODEL_PATH", str(model))
    monkeypatch.delenv("ASSAY_LLM_BASE_URL", raising=False)
    repo = tmp_path / "shop"
    shutil.copytree(EXAMPLE, repo)
    client = await start(repo, {"tests": {"behaviours": 3}})
    try:
        uri = client.open("shop/pricing.py")
        lens = next(
            lens
            for lens in await client.lenses(uri)
            if lens.command is not None and "shipping_cost" in str(lens.command.arguments)
        )
        assert lens.command is not None
        result = await client.run(lens.command.command, *(lens.command.arguments or []))
        assert result["status"] == "applied", result
        assert result["files"] == ["tests/test_pricing_assay.py"] and result["tests"]
        # The first accepted test was shown before the job ended, with its code.
        assert client.accepted and client.accepted[0]["first"] is True
        assert client.accepted[0]["code"].startswith("def test_")
    finally:
        await client.lsp.shutdown_session()
        await client.lsp.stop()
    assert model_servers() <= servers_before  # the one the server started is gone
