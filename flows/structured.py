"""Structured output from models that write prose around their data.

We ask for YAML (or JSON) in a fenced block, then parse tolerantly: find the block (closed or
not), drop stray prose, expand tabs, remove trailing commas, quote values that contain ``: ``,
and validate the data against a pydantic model.  When that still fails, the flow runner shows
the model the parse error (:data:`REPAIR_PROMPT`) and asks again.  Small local models get
through this.
"""

from __future__ import annotations

import json
import re
import textwrap
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

T = TypeVar("T", bound=BaseModel)
Format = Literal["yaml", "json"]

_FENCE = re.compile(
    r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:^[ \t]*```|\Z)", re.DOTALL | re.MULTILINE
)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_KEY_LINE = re.compile(r"^(\s*(?:-\s+)?)([A-Za-z_][\w\- ]*?):[ \t]+(.+?)\s*$")
_STARTS_DATA = re.compile(r"^\s*(?:[-{\[]|[A-Za-z_][\w\- ]*:(?:\s|$))")


class ParseError(ValueError):
    """A reply that could not be turned into the schema; the message is meant for the model."""


def extract_block(text: str, fmt: Format = "yaml") -> str:
    """The data part of a reply: the preferred fenced block, any fenced block, or the text.

    An unclosed fence (the stop sequence cut it, or the model ran out of tokens) counts.
    Without a fence, leading and trailing prose lines are dropped.
    """
    wanted = {"yaml": {"yaml", "yml"}, "json": {"json", "jsonc"}}[fmt]
    blocks = [(m.group(1).lower(), m.group(2).rstrip()) for m in _FENCE.finditer(text)]
    for lang, body in blocks:
        if lang in wanted:
            return body
    for lang, body in blocks:
        if lang in ("", "yaml", "yml", "json"):
            return body
    if blocks:
        return blocks[0][1]
    return _strip_prose(text, fmt)


def _strip_prose(text: str, fmt: Format) -> str:
    lines = text.strip().splitlines()
    if fmt == "json":
        start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
        end = max(text.rfind("}"), text.rfind("]"))
        return text[start : end + 1] if 0 <= start < end else text
    first = next((i for i, line in enumerate(lines) if _STARTS_DATA.match(line)), 0)
    kept = lines[first:]
    # Trailing prose: a non-indented line after the data that is not itself data.
    for i in range(1, len(kept)):
        line = kept[i]
        if line and not line[0].isspace() and not _STARTS_DATA.match(line):
            kept = kept[:i]
            break
    return "\n".join(kept)


def _quote_colon_values(block: str) -> str:
    """Quote ``key: value`` values that YAML would misread (a second ``: ``, a leading `` ` ``)."""
    out = []
    for line in block.splitlines():
        m = _KEY_LINE.match(line)
        if m:
            prefix, key, value = m.groups()
            plain = value[:1] not in "\"'|>[{&*!" and not value.startswith("#")
            if plain and (": " in value or value.startswith(("`", "%", "@")) or " #" in value):
                value = json.dumps(value, ensure_ascii=False)
            line = f"{prefix}{key}: {value}"
        out.append(line)
    return "\n".join(out)


def loads_tolerant(block: str, fmt: Format = "yaml") -> Any:
    """Parse a data block, trying the repairs small models need, in order of intrusiveness."""
    text = textwrap.dedent(block.expandtabs(2)).strip()
    if not text:
        raise ParseError("the reply contained no data")
    errors: list[str] = []
    candidates = [text, _TRAILING_COMMA.sub(r"\1", text)]
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except ValueError as exc:
            if fmt == "json":
                errors.append(f"JSON: {exc}")
    for candidate in (*candidates, _quote_colon_values(text)):
        try:
            return yaml.safe_load(candidate)
        except yaml.YAMLError as exc:
            errors.append(f"YAML: {_yaml_error(exc)}")
    raise ParseError(errors[-1] if fmt == "yaml" else errors[0])


def _yaml_error(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{problem} (line {mark.line + 1})" if mark is not None else str(problem)


def parse_as(text: str, schema: type[T], fmt: Format = "yaml") -> T:
    """Parse a model's reply into ``schema`` or raise :class:`ParseError` saying why."""
    data = loads_tolerant(extract_block(text, fmt), fmt)
    fields = list(schema.model_fields)
    if isinstance(data, list) and len(fields) == 1:
        data = {fields[0]: data}  # the model gave just the list the schema wraps
    if not isinstance(data, dict):
        raise ParseError(f"expected a mapping with keys {', '.join(fields)}, got {_kind(data)}")
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}"
            for err in exc.errors()[:5]
        ]
        raise ParseError("; ".join(problems)) from exc


def _kind(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__


REPAIR_PROMPT = (
    "Your reply could not be used: {error}\n"
    "Answer again with only one ```{fmt} block that follows the requested format."
)
