"""``assay solve`` and ``assay trace show`` end to end: the real CLI in a subprocess, the scripted
fake LLM, the real sandbox."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.fakes.openai_server import FakeOpenAI
from tests.kit.cli import run_assay
from tests.kit.solve import GOOD, WRONG_NEGATIVE, base_script, block, scripted

PROBLEM = """\
# Top two

Return the sum of the two largest numbers of a list of at least two numbers.

```python
def top2(xs: list[int]) -> int:
```
"""
TESTS = """\
from solution import top2


def test_basic():
    assert top2([1, 5, 3]) == 8


def test_negative():
    assert top2([-1, -2, -3]) == -3
"""


def assay(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_assay(*args, cwd=cwd)


def write_problem(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "problem.md").write_text(PROBLEM)
    (tmp_path / "tests.py").write_text(TESTS)
    return tmp_path / "problem.md", tmp_path / "tests.py"


def test_solve_prints_progress_the_code_and_which_tests_pass(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    problem, tests = write_problem(tmp_path)
    fake_llm.on(scripted(base_script(code=[block(WRONG_NEGATIVE)], fix=[block(GOOD)])))
    trace = tmp_path / "trace.jsonl"
    result = assay(
        "solve", str(problem), "--tests", str(tests), "--out", "top2.py", "--trace", str(trace),
        "--llm-base-url", fake_llm.url, "--llm-model", "fake-model", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    for stage in ("reflect", "test_reasoning", "candidates", "rank", "extra_tests", "code", "fix"):
        assert stage in result.stderr
    # Every approach is tried (the plain reading first) before the fixes start.
    assert "candidate 1 (plain): given 1/2" in result.stderr
    assert "candidate 2 (sorting): given 1/2" in result.stderr
    assert "sorted(xs)[-2:]" in result.stdout
    assert "given tests passed: 2/2" in result.stdout
    assert (tmp_path / "top2.py").read_text() == GOOD
    # The starter from the statement's python block reached the prompts.
    code_prompt = next(r for r in fake_llm.chat_requests if "Approach:" in r.prompt).prompt
    assert "def top2(xs: list[int]) -> int:" in code_prompt
    # The plain first attempt: that signature with the statement as its docstring, the
    # statement's own code block left out (it would close the prompt's fence).
    plain = next(r for r in fake_llm.chat_requests if "Complete this Python" in r.prompt).prompt
    assert 'def top2(xs: list[int]) -> int:\n    """# Top two\n' in plain
    assert "```" not in plain.split('"""')[1]

    records = [json.loads(line) for line in trace.read_text().splitlines()]
    calls = [r for r in records if r["event"] == "call"]
    assert len(calls) == len(fake_llm.chat_requests) == 9
    assert all(c["prompt_tokens"] > 0 and c["completion_tokens"] > 0 for c in calls)
    assert all("messages" in c and "response" in c for c in calls)  # content kept for debugging

    shown = assay("trace", "show", str(trace), cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    for text in ("model calls in trace.jsonl", "reflect", "fix", "per stage", "total", "ok"):
        assert text in shown.stdout
    assert "· tests: version=fix 1 (given)" in shown.stdout
    content = assay("trace", "show", str(trace), "--content", "--stage", "rank", cwd=tmp_path)
    assert "── call 1 (rank) ──" in content.stdout and "ranking: [1, 2]" in content.stdout


def test_solve_exits_1_when_a_given_test_still_fails_and_2_on_bad_input(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    problem, tests = write_problem(tmp_path)
    fake_llm.on(scripted(base_script(code=[block(WRONG_NEGATIVE)], fix=[block(WRONG_NEGATIVE)])))
    result = assay(
        "solve", str(problem), "--tests", str(tests), "--max-calls", "6", "--no-reflect",
        "--llm-base-url", fake_llm.url, "--llm-model", "fake-model", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "given tests passed: 1/2" in result.stdout
    assert "stopped: the budget of 6 model calls is spent" in result.stdout
    assert len(fake_llm.chat_requests) == 6

    (tmp_path / "bad.py").write_text("def test_x(:\n")
    bad = assay("solve", str(problem), "--tests", "bad.py", "--llm-base-url", fake_llm.url,
                cwd=tmp_path)  # fmt: skip
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: The tests in bad.py do not parse")
    missing = assay("trace", "show", "nope.jsonl", cwd=tmp_path)
    assert missing.returncode == 2 and "Trace file nope.jsonl does not exist" in missing.stderr
