"""``assay tests PATH::SYMBOL`` end to end: the real CLI in a subprocess, the scripted fake LLM,
the real sandbox and gates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from agents.cli.testgen import parse_pick
from agents.errors import InputError
from agents.indexing import IndexService
from agents.settings import Settings
from agents.testgen.claims_driver import judge
from agents.testgen.explored import behaviours_of
from agents.testgen.symbols import find_repo, find_symbol, outline, retrieve_examples
from flows.pycode import adds_nothing
from tests.fakes.openai_server import FakeOpenAI, RecordedRequest
from tests.kit.cli import run_assay
from tests.kit.testgen import (
    OPS,
    TEXT,
    answer,
    text_answer,
    write_project,
    write_text_module,
)


def assay_tests(
    repo: Path, fake: FakeOpenAI, *args: str, stdin: str | None = None
) -> tuple[subprocess.CompletedProcess[str], dict]:
    report = repo.parent / "testgen-report.json"
    report.unlink(missing_ok=True)
    result = run_assay(
        "tests", *args, "--llm-base-url", fake.url, "--llm-model", "fake-model", "--repeat", "2",
        "--candidate-timeout", "20", "--max-minutes", "10", "--report", str(report),
        cwd=repo, input=stdin or "", timeout=600,
    )  # fmt: skip
    return result, json.loads(report.read_text()) if report.exists() else {}


def test_behaviours_are_listed_picked_gated_and_written(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    repo = write_project(tmp_path / "proj")
    fenced: list[RecordedRequest] = []

    def closing_fence_first(req: RecordedRequest) -> str:
        # A small model's answer to a prompt it reads as an open block: the closing fence alone.
        if "checks: returns x when" in req.messages[1]["content"] and not fenced:
            fenced.append(req)
            return "```"
        return answer(req)

    fake_llm.on(closing_fence_first)
    result, data = assay_tests(
        repo, fake_llm, "calc/ops.py::clamp", "--all", "--no-explore", "--no-hunt"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    listing = result.stdout.split("Behaviours worth testing:")[1]
    assert "1. [happy] returns x when it is inside the bounds" in listing
    assert "3. [error] an inverted range returns low for small x" in listing

    by = {r["behaviour"].split("] ")[1]: r for r in data["results"]}
    inside = by["returns x when it is inside the bounds"]
    # The empty reply was asked again (hotter), not judged: no syntax rejection.
    assert inside["accepted"] == ["test_clamp_inside"] and inside["rejected"] == []
    assert data["empty_replies"] == 1 and "reply added nothing" in result.stderr
    low = by["returns low when x equals low"]
    assert low["rejected"] == ["redefines"] and low["accepted"] == ["test_clamp_equals_low"]
    inverted = by["an inverted range returns low for small x"]
    assert inverted["rejected"] == ["not-called", "no-mutant-killed"]
    assert inverted["accepted"] == []
    assert data["accepted"] == 2 and data["written"] == ["tests/test_ops_assay.py"]

    # A rejection goes back to the model with the reason.
    retries = [r for r in fake_llm.chat_requests if len(r.messages) > 2]
    assert any("Do not copy or redefine" in r.messages[-1]["content"] for r in retries)
    assert any("never called `clamp`" in r.messages[-1]["content"] for r in retries)
    # clamp was fully covered already: behaviour tests were still accepted.
    written = (repo / "tests" / "test_ops_assay.py").read_text()
    assert written.startswith('"""Tests written by `assay tests`')
    assert written.count("from calc.ops import clamp") == 1  # imports merged
    assert "def test_clamp_inside" in written and "def test_clamp_equals_low" in written
    assert (repo / "calc" / "ops.py").read_text() == OPS
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=repo,
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(repo)},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout
    # The style example (the existing test file's imports) reached the prompt.
    assert "The project's tests look like this" in fake_llm.chat_requests[0].prompt

    # A second run merges into the same file, renaming a clashing test (AST-aware insertion).
    fake_llm.requests.clear()
    again, data2 = assay_tests(
        repo, fake_llm, "calc/ops.py::clamp", "--pick", "1", "--no-explore", "--no-hunt"
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert [r["accepted"] for r in data2["results"]] == [["test_clamp_inside_2"]]
    text = (repo / "tests" / "test_ops_assay.py").read_text()
    assert "def test_clamp_inside():" in text and "def test_clamp_inside_2():" in text


HUNTED = "[edge] tells apart"


def test_explored_behaviours_the_docstring_the_mutants_and_the_readable_rewrite(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    repo = write_project(tmp_path / "proj")
    write_text_module(repo)
    fake_llm.on(text_answer)
    result, data = assay_tests(repo, fake_llm, "calc/text.py::shout", "--all")
    assert result.returncode == 0, result.stdout + result.stderr
    listing = result.stdout.split("Behaviours worth testing:")[1].split("✓")[0]
    # What exploration saw, grouped as a person names it, each with its observed example call.
    assert "[happy] returns 'HI'\n     e.g. shout(\"hi\") → 'HI' (observed)" in listing
    assert "[edge] returns '' when `not word.strip()`\n     e.g. shout(" in listing
    assert "[error] raises ValueError when `times < 1`\n     e.g. shout(" in listing
    assert "→ raises ValueError: times must be at least 1 (observed)" in listing
    # The model only added the docstring's behaviour exploration did not show as its own; with
    # --all it is asked after the explored tests are through the gates (the first test sooner).
    assert (
        "Also stated in the docstring:\n  4. [edge] a word of spaces gives an empty string\n"
        "     e.g. shout(\"  \") → ''" in listing
    )
    assert result.stderr.index("accepted test_shout") < result.stderr.index("test_docstring")
    prompts = [r.messages[1]["content"] for r in fake_llm.chat_requests]
    asked = [p for p in prompts if "Rewrite this test" not in p]  # the rewrite comes last
    assert len(asked) == 2 and "Which behaviours does the docstring" in asked[0]
    assert "- [error] raises ValueError when `times < 1`" in prompts[0]  # told what was seen
    assert not any("worth a test" in p for p in prompts)  # no generic listing asked for
    # The docstring example the code contradicts: a possible bug, reported, never a test.
    bug = "the docstring says shout(\"hi\", 2) gives 'HI HI'; the code gives 'HI!HI'"
    assert bug in result.stdout and f"possible bug: {bug}" in result.stderr
    assert data["possible_bugs"] == [
        {"call": 'shout("hi", 2)', "docstring": "'HI HI'", "code": "'HI!HI'", "source": "example"},
        # An exception's message out of date: the messages compared, not doctest's traceback.
        {"call": 'shout("hi", 0)', "docstring": "ValueError: times must be positive",
         "code": "ValueError: times must be at least 1", "source": "example"},
    ]  # fmt: skip
    origins = [b["origin"] for b in data["behaviours"]]
    assert origins == ["explored"] * 3 + ["docstring"]
    listed = [r for r in data["results"] if not r["behaviour"].startswith(HUNTED)]
    assert len(listed) == 4 and all(r["accepted"] for r in listed), data["results"]
    # The explored tests went through the gates at once (one candidate), without the model.
    assert result.stderr.count("checking what was observed") >= 3
    # Then the symbol's mutants against its new tests; survivors hunted by exploration.
    mutants = data["mutants"]
    assert mutants["measured"] > 0 and mutants["killed_after"] >= mutants["killed_before"]
    hunted = [r for r in data["results"] if r["behaviour"].startswith(HUNTED)]
    if hunted and hunted[0]["accepted"]:
        assert mutants["killed_after"] > mutants["killed_before"]
    assert f"mutants of the symbol killed by its new tests: {mutants['killed_before']} of" in (
        result.stdout
    )
    # The readable rewrite: kept (it passes every gate and kills the same mutants).  The tests
    # of the docstring's own calls (`shout("hi")`, `shout("hi", 0)`) are not sent to it.
    assert data["rewrite"]["kept"] == 1 and data["rewrite"]["tried"] >= 1, data["rewrite"]
    assert data["rewrite"]["as_documented"] == 2, data["rewrite"]
    assert "rewritten test_shout_returns_a_string_for_a_and_2 → test_shout_repeats_a_word_in_" in (
        result.stderr
    )
    written = (repo / "tests" / "test_text_assay.py").read_text()
    assert (
        "def test_shout_repeats_a_word_in_capitals():\n    assert shout('hey', 2) == 'HEY!HEY'\n"
        in written
    )
    assert "taken out" not in result.stderr and not data["removed"]  # what passed is written
    assert "def test_shout_returns_a_string_for_a_and_2" not in written
    assert 'def test_shout_returns_hi_for_hi():\n    result = shout("hi")\n' in written
    assert "def test_shout_a_word_of_spaces" in written and "HI HI" not in written
    assert "pytest.raises(ValueError, match=re.escape('times must be at least 1'))" in written
    assert (repo / "calc" / "text.py").read_text() == TEXT


def test_picking_on_stdin_and_a_method_target_with_dry_run(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    repo = write_project(tmp_path / "proj")
    method_behaviours = (
        "```yaml\n- kind: error\n  description: a negative step raises ValueError\n"
        "- kind: happy\n  description: bump adds the step\n```"
    )
    test = (
        "import pytest\nfrom calc.ops import Counter\n\n\ndef test_counter_bump():\n"
        "    with pytest.raises(ValueError):\n        Counter().bump(-1)\n"
    )

    def method_answer(req: RecordedRequest) -> str:
        prompt = req.messages[1]["content"]
        if "Describe what" in prompt:
            return "```yaml\ninputs: by\n```"
        if "worth a test" in prompt:
            return method_behaviours
        assert "checks: a negative step raises ValueError" in prompt
        assert "from calc.ops import Counter" in prompt  # the header imports the class
        return f"```python\n{test}```"

    fake_llm.on(method_answer)
    result, data = assay_tests(repo, fake_llm, "calc/ops.py::Counter.bump", "--dry-run",
                               "--no-explore", "--no-hunt", stdin="1\n")  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert [r["accepted"] for r in data["results"]] == [["test_counter_bump"]]
    assert "+def test_counter_bump():" in result.stdout  # the diff
    assert not (repo / "tests" / "test_ops_assay.py").exists()  # dry run: nothing written

    nothing, _ = assay_tests(repo, fake_llm, "calc/ops.py::Counter.bump")
    assert nothing.returncode == 2
    assert "No behaviours picked (no terminal to ask on): pass --all or --pick 1,3" in (
        nothing.stderr
    )
    unknown, _ = assay_tests(repo, fake_llm, "calc/ops.py::nope", "--all")
    assert unknown.returncode == 2 and "pick one of: Counter, Counter.__init__" in unknown.stderr


def test_symbols_picks_and_retrieval_from_the_index(tmp_path: Path, assay_home: Path) -> None:
    repo = write_project(tmp_path / "proj")
    cls = find_symbol(repo, repo / "calc" / "ops.py", "Counter")
    assert (cls.kind, cls.start, cls.body_start) == ("class", 10, 11)
    assert find_symbol(repo, repo / "calc" / "ops.py", "Counter.bump").kind == "method"
    assert outline(OPS, cls).splitlines() == [
        "10| class Counter:",
        "11|     def __init__(self, start=0):",
        "14|     def bump(self, by=1):",
    ]
    assert parse_pick("1, 3", 3) == [0, 2] and parse_pick("all", 2) == [0, 1]
    assert parse_pick("2-3", 3) == [1, 2]
    with pytest.raises(InputError, match="There is no behaviour 4"):
        parse_pick("4", 3)
    # A repository that is not indexed: no examples, nothing to warn about.
    settings = Settings(home=assay_home, embedding_model="hash-64")
    assert retrieve_examples(repo, "tests for clamp", settings) == ("", "")
    # Indexed: the repository's own tests are the examples.
    git = ["git", "-C", str(repo)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"],
                   check=True)  # fmt: skip
    with IndexService(settings) as service:
        service.add(str(repo), name="proj")
    examples, warning = retrieve_examples(repo, "tests for clamp", settings)
    assert "def test_" in examples and "tests/test_ops.py" in examples and warning == ""
    # An index that cannot be read: no examples, and a warning that says why.
    (settings.index_dir / "repos.json").write_text("{not json")
    examples, warning = retrieve_examples(repo, "tests for clamp", settings)
    assert examples == "" and warning.startswith("the code index could not be read (")


def test_without_a_project_file_the_repository_is_above_the_package(tmp_path: Path) -> None:
    """Seen on an sdist's sources (2026-12-04): ``humanize/number.py`` taken as the module
    ``number`` of the repository ``humanize/``, so every test failed to import it."""
    package = tmp_path / "src" / "pkg" / "sub"
    package.mkdir(parents=True)
    for folder in (package, package.parent):
        (folder / "__init__.py").write_text("")
    (package / "mod.py").write_text("def f():\n    return 1\n")
    (tmp_path / "src" / "script.py").write_text("def g():\n    return 2\n")
    assert find_repo(package / "mod.py") == tmp_path / "src"
    assert find_repo(tmp_path / "src" / "script.py") == tmp_path / "src"
    assert find_symbol(tmp_path / "src", package / "mod.py", "f").path == "pkg/sub/mod.py"
    (tmp_path / "pyproject.toml").write_text("")  # a project file still decides
    assert find_repo(package / "mod.py") == tmp_path


def test_explored_calls_are_grouped_into_named_behaviours_and_claims_judged(tmp_path: Path) -> None:
    repo = write_project(tmp_path / "proj")
    clamp = find_symbol(repo, repo / "calc" / "ops.py", "clamp")

    def returned(expr: str, value: str, lines: list[int], arcs: list[list[int]]) -> dict:
        return {"expr": expr, "repr": value, "str": value, "stable": True, "lines": lines,
                "arcs": arcs, "type": "int", "facts": {"kind": "value"}}  # fmt: skip

    calls = [
        returned("clamp(3, 0, 5)", "3", [3, 5, 7], [[3, 5], [5, 7]]),  # the main path
        returned("clamp(-1, 0, 5)", "0", [4], [[3, 4]]),  # under `if x < low`
        returned("clamp(-9, 0, 5)", "0", [], [[4, -1]]),  # the same case again: merged
        returned("clamp(9, 0, 5)", "5", [6], [[5, 6]]),
        {"expr": "clamp('a', 0, 5)", "raises": "TypeError", "raises_module": "builtins",
         "message": "bad", "stable": True, "lines": [], "arcs": [], "outside": False,
         "facts": {"kind": "raises", "raises": "TypeError", "raises_module": "builtins"}},
        {**returned("clamp(1, 0, 5)", "1", [7], []), "outside": True},  # touched the host
    ]  # fmt: skip
    found = behaviours_of(calls, OPS, clamp)
    assert [(e.behaviour.line, e.behaviour.call, e.behaviour.expected) for e in found] == [
        ("[happy] returns 3", "clamp(3, 0, 5)", "3"),
        ("[edge] returns 0 when `x < low`", "clamp(-1, 0, 5)", "0"),
        ("[edge] returns 5 when `x > high`", "clamp(9, 0, 5)", "5"),
        ("[error] raises TypeError", "clamp('a', 0, 5)", "raises TypeError: bad"),
    ]
    assert [len(e.calls) for e in found] == [1, 2, 1, 1]
    assert all(e.behaviour.origin == "explored" for e in found)
    assert "def test_clamp_returns_0" in (found[1].test_code("calc.ops") or "")
    # What a docstring claims, judged against what the code did.
    assert judge(5, None, "5") is True and judge(7, None, "5") is False
    assert judge("HI", None, "'HI'") is True and judge(None, ValueError("x"), "ValueError")
    assert judge(1, None, "a positive number") is None  # cannot tell
    # The model's call raised where its claim expected a value: its call, not the code, is
    # suspect (no possible bug reported, no behaviour listed).
    assert judge(None, AttributeError("no attribute"), "('a',)") is None
    assert judge(None, TypeError("x"), "ValueError") is False  # the wrong exception: a bug
    # Replies that add nothing to a test (asked again, never judged as code).
    header = "import pytest\nfrom calc.ops import clamp\n"
    for empty in ("```", "", "```python\nimport pytest\n```", "def test_clamp_x():\n    pass"):
        assert adds_nothing(empty, header), empty
    assert not adds_nothing("def test_clamp_x():\n    assert clamp(1, 0, 2) == 1", header)


def test_a_model_that_does_not_answer_leaves_the_explored_tests_their_time(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    """The docstring's model call gets a share of the time, not all of it: a model that hangs
    (busy, slow) still leaves what exploration observed its gates, within --max-minutes."""
    repo = write_project(tmp_path / "proj")
    write_text_module(repo)
    released = threading.Event()

    def hang(req: RecordedRequest) -> str:
        released.wait(120)
        return "too late"

    fake_llm.on(hang)
    report = tmp_path / "report.json"
    started = time.monotonic()
    try:
        result = run_assay(
            "tests", "calc/text.py::shout", "--all", "--no-hunt", "--llm-base-url", fake_llm.url,
            "--llm-model", "fake-model", "--repeat", "1", "--max-minutes", "1",
            "--report", str(report), cwd=repo, timeout=300,
        )  # fmt: skip
    finally:
        released.set()
    wall = time.monotonic() - started
    data = json.loads(report.read_text())
    explored = [r for r in data["results"] if r["accepted"]]
    assert len(explored) >= 3, result.stdout + result.stderr  # happy, edge, error: no model
    assert "def test_shout" in (repo / "tests" / "test_text_assay.py").read_text()
    assert wall < 60 + 30, wall
