"""Values recorded by exploration (tagged trees, see :mod:`agents.cover.js.explore`) written
back as JavaScript literals."""

from __future__ import annotations

import json
import math
import re

__all__ = ["js_string", "literal", "shows_source"]

LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# A function's source text, as String(fn) gives it: how the code is written, not what it does
FUNCTION_SOURCE = re.compile(r"\bfunction\b[\w$\s]*\([^)]*\)\s*\{|\([^)]*\)\s*=>|^[\w$]+\s*=>")


def js_string(text: str) -> str:
    """``text`` as a JS string literal, readable (non-ASCII kept) and writable as UTF-8 (a
    half of a surrogate pair, which code under test may return, written as its escape)."""
    written = json.dumps(text, ensure_ascii=False)
    return LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", written)


def shows_source(tag: object) -> bool:
    """Whether a recorded value holds a function's source text (a key or a string made with
    ``String(fn)``): the code's own text changes under a coverage tool, a mutation tester or
    a bundler, so a test asserting it fails there though the behaviour is the same."""
    if isinstance(tag, str):
        return bool(FUNCTION_SOURCE.search(tag))
    if isinstance(tag, list):
        return any(shows_source(item) for item in tag)
    return False


def literal(tag: object) -> str | None:
    """The JS source of a recorded value, or None when it cannot be written as a literal."""
    if not isinstance(tag, list) or not tag:
        return None
    kind, rest = tag[0], tag[1:]
    if kind == "u":
        return "undefined"
    if kind == "null":
        return "null"
    if kind == "nan":
        return "NaN"
    if kind == "inf":
        return "Infinity" if rest and rest[0] == 1 else "-Infinity"
    if kind == "n" and rest and isinstance(rest[0], int | float):
        value = rest[0]
        if isinstance(value, float) and value.is_integer() and not math.isinf(value):
            return str(int(value))
        return repr(value)
    if kind == "s" and rest:
        return js_string(str(rest[0]))
    if kind == "r" and len(rest) == 2 and isinstance(rest[1], int):  # a long string, repeated
        return f"{js_string(str(rest[0]))}.repeat({rest[1]})"
    if kind == "b" and rest:
        return "true" if rest[0] else "false"
    if kind == "a" and rest and isinstance(rest[0], list):
        items = [literal(x) for x in rest[0]]
        return None if None in items else "[" + ", ".join(str(i) for i in items) + "]"
    if kind == "o" and rest and isinstance(rest[0], list):
        return _object(rest[0])
    return None


def _object(entries: list[object]) -> str | None:
    parts = []
    for entry in entries:
        if not isinstance(entry, list) or len(entry) != 2:
            return None
        key, value = entry
        text = literal(value)
        if text is None:
            return None
        name = str(key)
        shown = name if name.isidentifier() else json.dumps(name)
        parts.append(f"{shown}: {text}")
    return "{ " + ", ".join(parts) + " }" if parts else "{}"


def kind_of(value: object) -> str:
    """A recorded value's kind, as a person says it ("a number", "a string")."""
    tag = value[0] if isinstance(value, list) and value else None
    if tag == "n":
        return "a number"
    if tag in ("nan", "inf"):
        return "a non-finite number"
    names = {"u": "undefined", "null": "null", "s": "a string", "r": "a string", "b": "a boolean",
             "a": "an array", "o": "an object", "i": "an instance"}  # fmt: skip
    return names.get(str(tag), "a value")
