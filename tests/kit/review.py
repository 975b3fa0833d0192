"""A small library in git for the review tests: a base, and PR branches that remove an input
check, refactor a function, and touch a nondeterministic one; a scripted reviewer model."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.fakes.openai_server import RecordedRequest, Reply
from tests.kit.cli import run_assay
from tests.kit.gitrepos import commit, git, make_repo

BASE = '''import random


def clamp(values, limit):
    """The values up to ``limit``.

    >>> clamp([1, 5, 3], 4)
    [1, 3]
    """
    if limit < 0:
        raise ValueError("limit must be >= 0")
    return [v for v in values if v <= limit]


def total(values):
    return sum(values)


def pick(values):
    return random.choice(values)


def divide(a, b):
    return a / b
'''
TESTS = """from lib.calc import clamp, divide, total


def test_clamp():
    assert clamp([1, 2], 1) == [1]


def test_total():
    assert total([1, 2]) == 3


def test_divide():
    assert divide(6, 3) == 2
"""
CHECK_REMOVED = BASE.replace(
    '    if limit < 0:\n        raise ValueError("limit must be >= 0")\n', ""
)
REFACTOR = BASE.replace(
    "    return sum(values)\n",
    "    result = 0\n    for value in values:\n        result += value\n    return result\n",
).replace("return random.choice(values)", "return random.choice(list(values))")
DIVIDE_CHANGED = BASE.replace("def divide(a, b):\n    return a / b\n",
                              "def divide(a, b):\n    return a // b\n")  # fmt: skip


def make_library(root: Path) -> Path:
    """``main`` with the library and its tests; branches ``check-removed`` (the bug),
    ``refactor`` (behaviour kept, a nondeterministic function touched) and ``divide``."""
    make_repo(root, {"lib/__init__.py": "", "lib/calc.py": BASE, "tests/test_calc.py": TESTS})
    for branch, source in (("check-removed", CHECK_REMOVED), ("refactor", REFACTOR),
                           ("divide", DIVIDE_CHANGED)):  # fmt: skip
        git(root, "checkout", "-q", "-b", branch, "main")
        commit(root, {"lib/calc.py": source})
    git(root, "checkout", "-q", "main")
    return root


def findings_reply(findings: list[dict[str, Any]]) -> str:
    return "```yaml\n" + json.dumps({"findings": findings}) + "\n```"


def check_reply(score: int, call: str | None = None, expect: str | None = None) -> str:
    body: dict[str, Any] = {"score": score, "reason": "checked"}
    if call:
        body["call"] = call
    if expect:
        body["expect"] = expect
    return "```yaml\n" + json.dumps(body) + "\n```"


class Reviewer:
    """The scripted model of the review tests: the review stage answers ``findings``, the
    check stage answers per finding (matched by a word of its message), the solve flow's fix
    stage answers ``fix``."""

    def __init__(self) -> None:
        self.findings: list[dict[str, Any]] = []
        self.checks: dict[str, str] = {}
        self.fix: str = ""
        self.asked: list[str] = []

    def __call__(self, req: RecordedRequest) -> Reply | str:
        prompt = req.prompt
        if "List the problems in the added lines" in prompt:
            self.asked.append("review")
            return findings_reply(self.findings)
        if "A reviewer says about line" in prompt:
            self.asked.append("check")
            said = prompt.split("A reviewer says about line", 1)[1]
            for word, reply in self.checks.items():
                if word in said:
                    return reply
            return check_reply(7)
        if self.fix:
            self.asked.append("fix")
            return f"```python\n{self.fix}```\n"
        return "no"


def review(
    repo: Path, url: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``assay review REPO --base main`` against the scripted model, short budgets."""
    return run_assay(
        "review", str(repo), "--base", "main", "--llm-base-url", url, "--llm-model",
        "fake-model", "--no-cache", "--no-tests", *args,
        env={"ASSAY_REVIEW_BEHAVIOUR_SECONDS": "1", **(env or {})},
    )  # fmt: skip


def on_branch(repo: Path, branch: str) -> Callable[[], None]:
    git(repo, "checkout", "-q", branch)
    return lambda: git(repo, "checkout", "-q", "main")
