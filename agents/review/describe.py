"""``/describe`` and ``assay describe``: a pull request's description from its diff.

One short model call (:data:`DESCRIBE_STAGE`) answers a title, a type, a summary, a walkthrough
(one sentence per changed file) and labels.  Files the model left out of the walkthrough are
added from the diff ("changed"), so every file is listed.  :func:`description_markdown` renders
it between two markers; :func:`with_section` puts that section into a PR body, replacing the
previous one in place (the rest of the body, the author's text, is kept as it is).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from agents.gitdiff import parse_diff
from agents.review import prompts
from flows import Completer, FlowRunner, RetryPolicy, Route, Stage, TraceWriter

MAX_DIFF_CHARS = 12000  # of the diff shown to the model (the walkthrough still lists every file)
TYPES = ("feature", "bugfix", "refactor", "docs", "tests", "chore")
# What a model may write for each type, first match wins ("bugfix" before "feat"ure of a fix).
_TYPE_WORDS = (("fix", "bugfix"), ("bug", "bugfix"), ("refactor", "refactor"), ("feat", "feature"),
               ("doc", "docs"), ("test", "tests"), ("chore", "chore"))  # fmt: skip


class FileChange(BaseModel):
    model_config = ConfigDict(extra="ignore")

    path: str
    change: str = ""

    @field_validator("path", "change", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        return "" if value is None else " ".join(str(value).split())[:300]


class Description(BaseModel):
    model_config = ConfigDict(extra="ignore")

    title: str = ""
    type: str = "chore"
    summary: str = ""
    walkthrough: list[FileChange] = []
    labels: list[str] = []

    @field_validator("title", "summary", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        return "" if value is None else " ".join(str(value).split())[:600]

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, value: Any) -> str:
        text = re.sub(r"[\s_-]", "", str(value or "").lower())  # "bug fix", "Bug-Fix"
        return next((t for word, t in _TYPE_WORDS if word in text), "chore")

    @field_validator("labels", mode="before")
    @classmethod
    def _labels(cls, value: Any) -> list[str]:
        items = value if isinstance(value, list) else str(value or "").split(",")
        out = [re.sub(r"[^\w .:/-]", "", str(v)).strip()[:40] for v in items]
        return list(dict.fromkeys(v for v in out if v))[:3]

    @field_validator("walkthrough", mode="before")
    @classmethod
    def _walk(cls, value: Any) -> list[Any]:
        return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


DESCRIBE_STAGE = Stage(
    name="describe",
    template=prompts.DESCRIBE,
    system=prompts.DESCRIBE_SYSTEM,
    schema=Description,
    fmt="yaml",
    route=Route(temperature=0.0),
    retry=RetryPolicy(repairs=1),
    max_tokens=700,
    stop=("\n```\n",),
)


def describe(llm: Completer, diff: str, *, trace: TraceWriter | None = None) -> Description:
    """The description of ``diff`` (every changed file in the walkthrough)."""
    files = [f.path for f in parse_diff(diff)]
    shown = diff if len(diff) <= MAX_DIFF_CHARS else diff[:MAX_DIFF_CHARS] + "\n… (cut)\n"
    runner = FlowRunner(llm, trace=trace, flow="describe")
    found: Description = runner.run(
        DESCRIBE_STAGE, {"files": ", ".join(files) or "none", "diff": shown}
    ).value
    said = {w.path: w for w in found.walkthrough if w.path in files}
    found.walkthrough = [said.get(p) or FileChange(path=p, change="changed") for p in files]
    if not found.title:
        found.title = files[0] if len(files) == 1 else f"change {len(files)} files"
    return found


def description_markdown(d: Description, head: str = "") -> str:
    """The marked section of the PR body."""
    at = f" at `{head[:7]}`" if head else ""
    lines = [
        prompts.MARKER_DESCRIBE_START,
        f"### {d.title}",
        "",
        f"**Type:** {d.type}" + (" · **Labels:** " + ", ".join(d.labels) if d.labels else ""),
        "",
        d.summary,
        "",
        "<details><summary>Walkthrough</summary>",
        "",
        "| file | change |",
        "| --- | --- |",
        *(f"| `{w.path}` | {w.change.replace('|', '/')} |" for w in d.walkthrough),
        "",
        "</details>",
        "",
        f"_Described by assay{at}; edited on every `/describe`._",
        prompts.MARKER_DESCRIBE_END,
    ]
    return "\n".join(lines)


def with_section(body: str, section: str) -> str:
    """``body`` with its assay section replaced by ``section`` (appended when it has none)."""
    start, end = prompts.MARKER_DESCRIBE_START, prompts.MARKER_DESCRIBE_END
    body = body or ""
    i = body.find(start)
    j = body.find(end, i + len(start)) if i >= 0 else -1
    if i >= 0 and j >= 0:
        return body[:i] + section + body[j + len(end) :]
    return (body.rstrip() + "\n\n" if body.strip() else "") + section + "\n"
