"""A small calc project for assay cover, its scripted model, and running assay cover on it."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from tests.fakes.openai_server import FakeOpenAI, RecordedRequest, Reply
from tests.kit.cli import run_assay

OPS = """\
def add(a, b):
    return a + b


def clamp(x, low, high):
    if x < low:
        return low
    if x > high:
        return high
    return x


def sign(x):
    return 1 if x > 0 else -1


def parity(n):
    return "even" if n % 2 == 0 else "odd"


def double(x):
    return 2 * x


def negate(x):
    return -x


def halve(x):
    return x / 2


def spin(x):
    return x + 1


def triple(x):
    return 3 * x


def square(x):
    if x < 0:
        return x * x
    return x**2
"""


EXISTING_TESTS = """\
from calc.ops import add, clamp


def test_add():
    assert add(1, 2) == 3


def test_clamp_inside():
    assert clamp(5, 0, 10) == 5
"""


def block(code: str) -> str:
    return f"```python\n{code}```\n"


HEAD = "import pytest\nfrom calc.ops import {name}\n\n\n"


TARGET = re.compile(r"for `([\w.]+)`")


def scripted(script: dict[str, str]):
    def answer(req: RecordedRequest) -> Reply | str:
        found = TARGET.search(req.messages[1]["content"])
        name = found.group(1) if found else ""
        if name in script:
            return block(script[name])
        return "I cannot help with that."

    return answer


def make_flat(root: Path, with_tests: bool = True) -> Path:
    (root / "calc").mkdir(parents=True)
    (root / "calc" / "__init__.py").write_text("")
    (root / "calc" / "ops.py").write_text(OPS)
    if with_tests:
        (root / "tests").mkdir()
        (root / "tests" / "test_ops.py").write_text(EXISTING_TESTS)
    return root


def cover(
    repo: Path, server: FakeOpenAI, *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], dict]:
    report = repo.parent / f"{repo.name}-report.json"
    result = run_assay(
        "cover", str(repo), "--llm-base-url", server.url, "--llm-model", "fake-model",
        "--attempts", "1", "--tests-per-target", "1", "--rounds", "1",
        "--candidate-timeout", "10",
        # These tests follow the scripted model; exploration has its own (test_cover_explore).
        *([] if "--explore-seconds" in args else ["--no-explore"]),
        # The mutation score has its own tests (test_cover_mutation).
        *([] if "--mutants" in args else ["--mutants", "off"]),
        "--report", str(report), *args, env=env, timeout=600,
    )  # fmt: skip
    data = json.loads(report.read_text()) if report.exists() else {}
    return result, data


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )
