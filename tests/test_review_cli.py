"""``assay review`` end to end through the CLI, with the scripted model and the real sandbox:
findings on changed lines, diff coverage, generated tests as a patch, exit codes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.fakes.openai_server import FakeOpenAI
from tests.kit.cli import run_assay
from tests.kit.service import F_ZERO, ScriptedModel, git, make_project


def review(repo: Path, fake: FakeOpenAI, *args: str) -> subprocess.CompletedProcess[str]:
    return run_assay(
        "review", str(repo), "--llm-base-url", fake.url, "--llm-model", "fake-model",
        "--no-cache", *args,
    )  # fmt: skip


def test_review_with_tests_section(
    tmp_path: Path, fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSAY_COVER_EXPLORE", "false")  # the scripted model's test is checked
    monkeypatch.setenv("ASSAY_REVIEW_BEHAVIOUR_SECONDS", "1")
    repo = tmp_path / "shop"
    shas = make_project(repo)
    git(repo, "checkout", "-q", shas["head1"])
    (repo / ".assay.toml").write_text("[tests]\nrepeat = 2\n")
    model = ScriptedModel()
    model.findings = [F_ZERO]
    fake_llm.on(model)
    out = tmp_path / "review.json"
    patch = tmp_path / "tests.patch"
    result = review(repo, fake_llm, "--base", "main", "--json", str(out), "--patch", str(patch))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "app/calc.py:6: high bug: divide raises ZeroDivisionError when b is 0"
    # The suggestion was applied in a sandbox copy and the repository's tests passed with it.
    assert lines[1] == "    verified suggestion:     return a / b if b else 0.0"
    assert "Diff coverage: **50 %** (1 of 2 changed lines run by the tests)." in result.stdout
    assert "warning: " not in result.stdout
    text = patch.read_text()
    assert "+++ b/tests/test_calc_assay.py" in text and "+def test_divide():" in text
    data = json.loads(out.read_text())
    assert data["findings"][0]["line"] == 6 and data["tests"]["accepted"] == 1
    assert data["tests"]["percent_after"] == 100.0
    # Nothing was written into the repository: the tests are a patch.
    assert git(repo, "status", "--porcelain") == "?? .assay.toml"
    applied = subprocess.run(["git", "apply", str(patch)], cwd=repo, capture_output=True, text=True)
    assert applied.returncode == 0, applied.stderr

    failing = review(repo, fake_llm, "--base", "main", "--no-tests", "--fail-on", "high")
    assert failing.returncode == 1, failing.stderr
    assert "Diff coverage" not in failing.stdout


def test_bad_base_is_one_line(tmp_path: Path, fake_llm: FakeOpenAI) -> None:
    repo = tmp_path / "shop"
    make_project(repo)
    result = review(repo, fake_llm, "--base", "nope")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: --base 'nope' is not a commit in {repo}: pass a branch, tag or commit"
    )
    assert fake_llm.chat_requests == []
