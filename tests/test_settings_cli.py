"""Settings precedence and provenance, and the CLI's handling of bad input (black-box)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from agents.errors import ConfigError
from agents.settings import load_settings
from tests.fakes.openai_server import FakeOpenAI, Reply
from tests.kit.cli import run_assay, tree_digest


def assay(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_assay(*args, cwd=cwd, env=env, timeout=120)


def test_precedence_flag_over_env_over_file_over_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.assay]\nllm_model = "from-pyproject"\ntest_command = "pytest -x"\n'
        "sandbox_timeout = 30\n"
    )
    (tmp_path / "assay.toml").write_text('llm_model = "from-assay-toml"\nllm_timeout = 11\n')
    monkeypatch.setenv("ASSAY_LLM_TIMEOUT", "22")
    monkeypatch.setenv("ASSAY_SANDBOX_TIMEOUT", "44")
    loaded = load_settings(tmp_path, {"sandbox_timeout": 55.0, "python": None})
    s = loaded.settings
    assert s.llm_model == "from-assay-toml"  # assay.toml over [tool.assay]
    assert s.test_command == "pytest -x"  # only in pyproject
    assert s.llm_timeout == 22  # env over file
    assert s.sandbox_timeout == 55  # flag over env
    assert s.llm_max_retries == 4  # default
    origins = {key: origin for key, _value, origin in loaded.rows()}
    assert origins["llm_model"].endswith("assay.toml")
    assert origins["test_command"].endswith("pyproject.toml [tool.assay]")
    assert origins["llm_timeout"] == "env ASSAY_LLM_TIMEOUT"
    assert origins["sandbox_timeout"] == "command line"
    assert origins["llm_max_retries"] == "default"


def test_assay_toml_review_and_tests_tables_are_a_layer_of_the_same_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.assay]\ncover_repeat = 4\n")
    (tmp_path / ".assay.toml").write_text(
        '[review]\nmax_findings = 3\nfail_on = "high"\n[tests]\nrepeat = 2\n'
        'test_command = "pytest -q"\n'
    )
    monkeypatch.setenv("ASSAY_TEST_COMMAND", "pytest -x tests/unit")
    loaded = load_settings(tmp_path)
    s = loaded.settings
    assert (s.review_max_findings, s.review_fail_on, s.cover_repeat) == (3, "high", 2)
    assert s.test_command == "pytest -x tests/unit"  # env over the repository's file
    origins = {key: origin for key, _value, origin in loaded.rows()}
    assert origins["review_max_findings"].endswith(".assay.toml")
    assert origins["test_command"] == "env ASSAY_TEST_COMMAND"
    (tmp_path / ".assay.toml").write_text("[review]\nmax_findngs = 3\n")
    with pytest.raises(ConfigError, match=r"Unknown setting 'review\.max_findngs'"):
        load_settings(tmp_path)


def test_home_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSAY_HOME", str(tmp_path / "h"))
    s = load_settings(None).settings
    assert s.home == tmp_path / "h"
    assert s.cache_dir == tmp_path / "h" / "cache" / "llm"


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    (tmp_path / "assay.toml").write_text('llm_modle = "x"\n')
    with pytest.raises(ConfigError, match="did you mean 'llm_model'"):
        load_settings(tmp_path)


def test_config_show_masks_secrets_and_names_sources(tmp_path: Path) -> None:
    (tmp_path / "assay.toml").write_text('llm_base_url = "http://models.internal:8000/v1"\n')
    result = assay(
        "config",
        "show",
        "--repo",
        str(tmp_path),
        "--json",
        env={"ASSAY_LLM_API_KEY": "sk-very-secret-value"},
    )
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["llm_api_key"] == {"value": "********", "source": "env ASSAY_LLM_API_KEY"}
    assert shown["llm_base_url"]["value"] == "http://models.internal:8000/v1"
    assert shown["llm_base_url"]["source"].endswith("assay.toml")
    assert "sk-very-secret-value" not in result.stdout + result.stderr
    table = assay("config", "show", "--repo", str(tmp_path))
    assert table.returncode == 0
    assert "llm_base_url" in table.stdout and "assay.toml" in table.stdout


def test_version() -> None:
    result = assay("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("assay ")


@pytest.mark.parametrize(
    ("files", "args", "message"),
    [
        ({"assay.toml": "sandbox_timeot = 3\n"}, [], "Unknown setting 'sandbox_timeot'"),
        ({"assay.toml": "llm_model = \n"}, [], "Malformed"),
        ({"pyproject.toml": "[tool.assay\n"}, [], "Malformed"),
        ({"assay.toml": 'llm_timeout = "soon"\n'}, [], "Invalid value for 'llm_timeout'"),
        ({"assay.toml": 'llm_base_url = "localhost:8000"\n'}, [], "http://"),
        ({}, ["--python", "/nowhere/bin/python"], "/nowhere/bin/python not found"),
    ],
)
def test_bad_input_is_one_line_exit_2_nothing_written(
    tmp_path: Path, files: dict[str, str], args: list[str], message: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    home = tmp_path.parent / f"{tmp_path.name}-home"
    before = tree_digest(tmp_path)
    result = assay("doctor", "--repo", str(tmp_path), *args, env={"ASSAY_HOME": str(home)})
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr
    assert tree_digest(tmp_path) == before
    assert not home.exists()


def test_missing_repo_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    result = assay("config", "show", "--repo", str(missing))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: Repository path {missing} does not exist: pass an existing directory"
    )
    assert not missing.exists()


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    (tmp_path / "assay.toml").write_text("what = 1\n")
    result = assay("--debug", "config", "show", "--repo", str(tmp_path))
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "ConfigError" in result.stderr


def test_usage_error_exit_2() -> None:
    result = assay("config", "show", "--no-such-flag")
    assert result.returncode == 2
    assert "No such option" in result.stderr


def test_model_ask_uses_the_endpoint_and_the_cache(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    fake_llm.queue(Reply("def test_it(): assert True", prompt_tokens=9, completion_tokens=6))
    env = {"ASSAY_LLM_BASE_URL": fake_llm.url, "ASSAY_LLM_MODEL": "fake-model"}
    first = assay("model", "ask", "write a test", env=env)
    assert first.returncode == 0, first.stderr
    assert "def test_it(): assert True" in first.stdout
    assert "9 prompt + 6 completion tokens" in first.stdout
    again = assay("model", "ask", "write a test", env=env)
    assert again.returncode == 0, again.stderr
    assert "cache" in again.stdout
    assert len(fake_llm.chat_requests) == 1  # the rerun cost nothing
    fake_llm.queue("fresh")
    bypass = assay("model", "ask", "write a test", "--no-cache", env=env)
    assert "fresh" in bypass.stdout
    assert len(fake_llm.chat_requests) == 2


def test_unreachable_endpoint_is_one_line_with_the_fix(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    result = assay("model", "ask", "hi", env={"ASSAY_LLM_BASE_URL": url})
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: No LLM endpoint reachable at {url}: check that the server runs, "
        "or fix ASSAY_LLM_BASE_URL / --llm-base-url"
    )


def test_doctor_reports_a_dead_endpoint_and_exits_1(tmp_path: Path) -> None:
    result = assay(
        "doctor", "--repo", str(tmp_path), env={"ASSAY_LLM_BASE_URL": "http://127.0.0.1:9/v1"}
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "model endpoint" in result.stdout and "FAIL" in result.stdout
    assert "No LLM endpoint reachable at http://127.0.0.1:9/v1" in result.stdout
