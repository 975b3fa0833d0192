"""What replies hold: code blocks, closed fences, and lenient schemas for small models.

Schemas here accept what a small model writes where the meaning is clear (a list where a
sentence was asked for, "Solution 2" where a number was) and reject what carries no content.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field, field_validator

from flows.structured import extract_block

_PY_FENCE = re.compile(r"```(?:python|py|python3)?[ \t]*\n(.*?)(?:^[ \t]*```|\Z)", re.S | re.M)
_CLOSED_FENCE = re.compile(r"```[^\n]*\n.*?\n[ \t]*```", re.S)


class CodeAnswer(BaseModel):
    """The schema of ``python`` stages: the code of the reply's python block."""

    code: str


class TextAnswer(BaseModel):
    """The schema of ``text`` stages: the reply as it is."""

    text: str


def fence_closed(text: str) -> bool:
    """Whether a reply so far holds one closed fenced block: the answer is complete."""
    return _CLOSED_FENCE.search(text) is not None


def extract_python(text: str) -> str:
    """The code of a reply: its python block (closed or not), another fenced block, or the text."""
    found = _PY_FENCE.search(text)
    if found:
        return found.group(1).strip("\n")
    if "```" in text:
        return extract_block(text).strip("\n")
    return text.strip("\n")


def as_text(value: Any) -> str:
    """A sentence from whatever the model wrote: lists joined, mappings as ``key: value``."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(as_text(v) for v in value if v is not None)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {as_text(v)}" for k, v in value.items())
    return str(value).strip()


def as_items(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [as_text(v) for v in value if as_text(v)]
    return [as_text(value)] if as_text(value) else []


class Ranking(BaseModel):
    ranking: list[int] = Field(min_length=1)

    @field_validator("ranking", mode="before")
    @classmethod
    def _numbers(cls, value: Any) -> list[int]:
        """``[2, 1]``, ``"2, 1"``, ``["Solution 2", "Solution 1"]`` all mean 2 then 1."""
        items = value if isinstance(value, list) else re.split(r"[,\s>]+", str(value))
        out = []
        for item in items:
            found = re.search(r"\d+", str(item))
            if found:
                out.append(int(found.group()))
        return out
