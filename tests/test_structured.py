"""Structured output: tolerant parsing of what small models really write, and one repair retry."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from flows.structured import ParseError, extract_block, parse_as


class Case(BaseModel):
    name: str
    expected: str
    reason: str = ""


class Plan(BaseModel):
    cases: list[Case]


class Verdict(BaseModel):
    ok: bool
    score: int


@pytest.mark.parametrize(
    "reply",
    [
        # Clean fenced YAML.
        "```yaml\ncases:\n  - name: empty\n    expected: '0'\n```",
        # Prose around the fence, `yml` tag.
        "Sure! Here are the cases:\n```yml\ncases:\n  - name: empty\n    expected: '0'\n```\nHope "
        "this helps.",
        # Unclosed fence (stop sequence or max_tokens cut it).
        "```yaml\ncases:\n  - name: empty\n    expected: '0'\n",
        # No fence, prose before and after.
        "Here you go:\ncases:\n  - name: empty\n    expected: '0'\nLet me know.",
        # Tabs for indentation.
        "```yaml\ncases:\n\t- name: empty\n\t  expected: '0'\n```",
        # A value with ': ' inside that YAML would misread.
        "```yaml\ncases:\n  - name: empty\n    expected: '0'\n"
        "    reason: input: nothing at all\n```",
        # JSON with a trailing comma, in a json fence.
        '```json\n{"cases": [{"name": "empty", "expected": "0",},],}\n```',
        # Just the list the schema wraps.
        "```yaml\n- name: empty\n  expected: '0'\n```",
        # Whole block indented (the model indented its answer).
        "```yaml\n    cases:\n      - name: empty\n        expected: '0'\n```",
    ],
)
def test_tolerant_parsing(reply: str) -> None:
    fmt = "json" if "```json" in reply else "yaml"
    plan = parse_as(reply, Plan, fmt)  # type: ignore[arg-type]
    assert plan.cases[0].name == "empty"
    assert plan.cases[0].expected == "0"


def test_value_with_colon_keeps_its_text() -> None:
    plan = parse_as("cases:\n  - name: a\n    expected: b\n    reason: x: y\n", Plan)
    assert plan.cases[0].reason == "x: y"


def test_prefers_the_requested_language_block() -> None:
    text = "```python\nprint(1)\n```\n```yaml\nok: true\nscore: 3\n```"
    assert extract_block(text) == "ok: true\nscore: 3"


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ("I cannot help with that.", "expected a mapping"),
        ("```yaml\n```", "no data"),
        ("```yaml\nok: maybe\nscore: high\n```", "score"),
        ("```yaml\nok: [unclosed\n```", "line"),
    ],
)
def test_unusable_replies_say_why(reply: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_as(reply, Verdict)
