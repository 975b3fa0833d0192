"""assay cover's side of the sandbox's containment, piece by piece (no model, few runs).

What an observed value may carry into a test (:mod:`agents.cover.oracle`,
:mod:`agents.cover.explore`), what the guard sees inside a run (:mod:`agents.cover.guard`),
which runs say nothing about the code (:mod:`agents.cover.side_effects`), and who may weaken
the sandbox (settings).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from agents.cover.explore import render_tests
from agents.cover.oracle import GUARD_FILE, GUARD_SOURCE, MARKER, instrument, observed_values
from agents.cover.side_effects import trouble
from agents.errors import ConfigError
from agents.runtime import open_sandbox
from agents.settings import load_settings
from flows.coverage_data import RunResult, TestRun
from flows.sandbox import Sandbox

PY = sys.executable


def observed(key: str, text: str, outside: bool = False) -> str:
    return "\n" + MARKER + json.dumps({"key": key, "repr": text, "outside": outside}) + "\n"


def test_observed_values_from_outside_or_like_credentials_are_never_used() -> None:
    output = "".join(
        [
            observed("a1", "42"),
            observed("a2", "'machine x password hunter22'", outside=True),
            observed("a3", repr("ghp_" + "a1B2" * 9)),
            observed("a4", "'user [redacted]'"),  # a secret the sandbox redacted
            observed("a5", "'fine'"),
            observed("a5", "'later'", outside=True),  # a later tainted value spoils the key
            observed("a6", "'plain'"),
        ]
    )
    assert observed_values(output) == {"a1": "42", "a6": "'plain'"}


def test_explored_calls_that_touched_the_host_or_show_a_key_are_not_tests() -> None:
    calls = [
        {"target": "f", "expr": "f(1)", "stable": True, "repr": "2", "type": "int"},
        {"target": "g", "expr": "g()", "stable": True, "repr": "'s3cr3t'", "outside": True},
        {"target": "h", "expr": "h()", "stable": True, "repr": repr("AKIAIOSFODNN7EXAMPLE")},
        {"target": "k", "expr": "k('sk-proj-abcdefghijklmnopqrstuvwx')", "stable": True,
         "repr": "1"},
    ]  # fmt: skip
    code = render_tests(calls, "mod")
    assert code is not None
    assert "f(1)" in code and "g()" not in code and "h()" not in code and "k(" not in code


def test_the_guard_sees_reads_outside_the_run_and_taints_observations(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("host data")
    (tmp_path / "repo").mkdir()
    test = (
        "from pathlib import Path\n\n\ndef test_reads():\n"
        f"    inside = 1 + 1\n    assert inside == 3\n"
        f"    data = Path({str(outside)!r}).read_text()\n    assert data == 'nope'\n"
    )
    probe = instrument(test)
    assert probe is not None
    with Sandbox(tmp_path / "repo", max_isolation="process") as sandbox:
        argv = [PY, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "-p", "_assay_guard"]
        run = sandbox.run(
            [*argv, "test_reads.py"], extra_files={"test_reads.py": probe, GUARD_FILE: GUARD_SOURCE}
        )
        reads = f"def test_reads():\n    assert open({str(outside)!r}).read()\n"
        plain = sandbox.run_tests(
            ["test_reads.py", "-p", "_assay_guard"],
            extra_files={"test_reads.py": reads, GUARD_FILE: GUARD_SOURCE},
        )
    assert observed_values(run.output) == {"a6_4": "2"}  # read before, not after, the host
    found = trouble(plain, 60)
    assert found is not None and found[0] == "side-effects"
    assert f"open {outside}" in found[1] and "host data" not in found[1]


def _result(**fields: object) -> RunResult:
    return RunResult(("x",), 0, False, "", 0.1, "process", **fields)  # type: ignore[arg-type]


def test_runs_that_say_nothing_about_the_code_are_named() -> None:
    assert trouble(_result(), 5) is None
    assert trouble(_result(broken="the run deleted its copy"), 5) == (
        "sandbox-broken",
        "the run deleted its copy",
    )
    assert trouble(RunResult(("x",), None, True, "", 5, "process"), 5) == ("timeout", "5")
    reason, detail = trouble(_result(left_behind=("sleep", "sleep")), 5) or ("", "")
    assert reason == "side-effects" and "left 2 process(es) running: sleep" in detail
    reason, detail = trouble(_result(memory_exceeded=True, memory_limit=1 << 30), 5) or ("", "")
    assert "memory cap of 1024 MiB" in detail
    exited = TestRun(_result(), (), None)  # exit 0, yet pytest reported nothing
    assert (trouble(exited, 5) or ("", ""))[1].startswith("ended the test process")


@pytest.mark.parametrize(
    ("where", "text", "key"),
    [
        ("assay.toml", 'sandbox_isolation = "process"\n', "sandbox_isolation"),
        ("pyproject.toml", 'sandbox_isolation = "process"\n', "sandbox_isolation"),
        ("assay.toml", 'sandbox_pass_env = ["AWS_*"]\n', "sandbox_pass_env"),
    ],
)
def test_the_repository_cannot_weaken_its_sandbox(
    tmp_path: Path, where: str, text: str, key: str
) -> None:
    (tmp_path / where).write_text(text if where == "assay.toml" else "[tool.assay]\n" + text)
    with pytest.raises(ConfigError, match=f"may not set '{key}'"):
        load_settings(tmp_path)
    assert load_settings(None, {"sandbox_isolation": "unshare"}).settings.sandbox_isolation == (
        "unshare"
    )


def test_only_the_variables_passed_on_purpose_reach_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ASSAY_SANDBOX_PASS_ENV (names or globs) lets a variable the project's tests need in;
    everything else of assay's environment stays out."""
    monkeypatch.setenv("ASSAY_SANDBOX_PASS_ENV", '["DJANGO_*"]')
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "site.settings")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "hunter2")
    settings = load_settings(None).settings
    assert settings.sandbox_pass_env == ["DJANGO_*"]
    (tmp_path / "proj").mkdir()
    show = (
        "import os; "
        "print(os.environ.get('DJANGO_SETTINGS_MODULE'), 'AWS_SECRET_ACCESS_KEY' in os.environ)"
    )
    with open_sandbox(settings, tmp_path / "proj") as sandbox:
        run = sandbox.run([str(sandbox.python), "-c", show], timeout=60)
    assert run.output.split() == ["site.settings", "False"], run.output
