"""``assay tests`` on the bundled example with the real embedded model (``-m live``).

Slow (minutes): the model writes ~20 tokens/s on 2 cores.  Needs 'assay model install' and the
``local`` extra; skipped with the reason otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.kit.cli import run_assay
from tests.kit.model import installed_model, model_servers

pytestmark = [pytest.mark.live, pytest.mark.timeout(2400)]

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "shop"


def test_tests_writes_an_accepted_test_for_an_example_function(
    tmp_path: Path, assay_home: Path
) -> None:
    model = installed_model()
    servers_before = model_servers()
    repo = tmp_path / "shop"
    shutil.copytree(EXAMPLE, repo)
    report = tmp_path / "report.json"
    env = {**os.environ, "ASSAY_MODEL_PATH": str(model), "COLUMNS": "160"}
    env.pop("ASSAY_LLM_BASE_URL", None)
    result = run_assay(
        "tests", "shop/pricing.py::shipping_cost", "--all", "--behaviours", "3",
        "--max-minutes", "15", "--report", str(report), cwd=repo, env=env, timeout=1800,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Behaviours worth testing:" in result.stdout
    data = json.loads(report.read_text())
    assert data["accepted"] >= 1, result.stdout
    assert data["written"] == ["tests/test_pricing_assay.py"]
    written = (repo / "tests" / "test_pricing_assay.py").read_text()
    assert "from shop.pricing import shipping_cost" in written
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=repo, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(repo)},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout
    assert model_servers() <= servers_before  # the one this command started is gone
