"""``assay cover`` on the bundled example with the real embedded model (``-m live``).

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


def test_cover_accepts_a_test_on_the_example(tmp_path: Path, assay_home: Path) -> None:
    model = installed_model()
    servers_before = model_servers()
    repo = tmp_path / "shop"
    shutil.copytree(EXAMPLE, repo)
    report = tmp_path / "report.json"
    env = {**os.environ, "ASSAY_MODEL_PATH": str(model), "COLUMNS": "160"}
    env.pop("ASSAY_LLM_BASE_URL", None)
    # --no-explore: every accepted test here is the model's (exploration has its own tests).
    result = run_assay(
        "cover", str(repo), "--max-minutes", "8", "--no-explore", "--report", str(report),
        env=env, timeout=1800,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    data = json.loads(report.read_text())
    assert data["tests"]["accepted"] >= 1, result.stdout
    total = data["coverage"]["total"]
    assert total["after"]["combined"] > total["before"]["combined"]
    for path in data["written"]:
        assert (repo / path).is_file()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=repo, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(repo)},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout
    # The managed model server this command started is gone.
    assert model_servers() <= servers_before  # the one this command started is gone


def test_cover_accepts_a_model_test_on_a_typescript_package(
    tmp_path: Path, assay_home: Path
) -> None:
    """The embedded model writes an accepted vitest test for a TypeScript package."""
    from tests.kit.js import make_package
    from tests.test_cover_js import CODES_TEST, CODES_TS

    model = installed_model()
    repo = make_package(
        tmp_path / "codes", "vitest",
        {"src/codes.ts": CODES_TS, "test/codes.test.ts": CODES_TEST}, esm=True,
    )  # fmt: skip
    report = tmp_path / "report.json"
    env = {**os.environ, "ASSAY_MODEL_PATH": str(model), "COLUMNS": "160"}
    env.pop("ASSAY_LLM_BASE_URL", None)
    # --no-explore: every accepted test here is the model's.
    result = run_assay(
        "cover", str(repo), "--max-minutes", "10", "--no-explore", "--mutants", "off",
        "--report", str(report), env=env, timeout=1800,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    data = json.loads(report.read_text())
    assert data["tests"]["accepted"] >= 1, result.stdout
    assert any(path.endswith(".assay.test.ts") for path in data["written"])
