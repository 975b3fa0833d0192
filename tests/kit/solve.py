"""The solve flow's problem (top2) and a scripted model that answers per stage."""

from __future__ import annotations

from collections.abc import Callable

from tests.fakes.openai_server import RecordedRequest

GOOD = "def top2(xs):\n    a, b = sorted(xs)[-2:]\n    return a + b\n"


WRONG_NEGATIVE = "def top2(xs):\n    return sum(x for x in sorted(xs)[-2:] if x > 0)\n"


REFLECT = "```yaml\ngoal: sum of the two largest\nrules:\n  - list has 2+ numbers\n```"


REASONS = "```yaml\n- test: top2([1, 5, 3]) == 8\n  why: 5 + 3\n```"


CANDIDATES = (
    "```yaml\nsolutions:\n  - name: sorting\n    idea: sort, add the last two\n"
    "  - name: scan\n    idea: one pass keeping the two largest\n```"
)


EXTRA = "```python\nassert top2([2, 2]) == 4\nassert top2([0, 7, 7]) == 14\nassert nope(\n```"


def block(code: str) -> str:
    return f"```python\n{code}```"


def stage_of(req: RecordedRequest) -> str:
    text = next(m["content"] for m in req.messages if m["role"] == "user")  # repairs follow it
    for marker, stage in (
        ("Describe the problem", "reflect"),
        ("explain in one short sentence", "test_reasoning"),
        ("different ways to solve", "candidates"),
        ("Rank them", "rank"),
        ("new tests as single-line", "extra_tests"),
        ("fails this test", "fix"),
        ("cannot run", "fix_compile"),
        ("Approach:", "code"),
        ("Complete this Python function", "code"),  # the plain first attempt
        ("Write the Python function", "code"),  # the same, with no signature to complete
    ):
        if marker in text:
            return stage
    raise AssertionError(f"unknown stage: {text[-200:]}")


Script = dict[str, list[str]]


def scripted(script: Script) -> Callable[[RecordedRequest], str]:
    """Answers per stage, in order; the last answer of a stage repeats."""
    seen: dict[str, int] = {}

    def answer(req: RecordedRequest) -> str:
        stage = stage_of(req)
        replies = script[stage]
        n = seen.get(stage, 0)
        seen[stage] = n + 1
        return replies[min(n, len(replies) - 1)]

    return answer


def base_script(**over: list[str]) -> Script:
    script = {
        "reflect": [REFLECT],
        "test_reasoning": [REASONS],
        "candidates": [CANDIDATES],
        "rank": ["```yaml\nranking: [1, 2]\n```"],
        "extra_tests": [EXTRA],
        "code": [block(GOOD)],
        "fix": [block(GOOD)],
        "fix_compile": [block(GOOD)],
    }
    script.update(over)
    return script
