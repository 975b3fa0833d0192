"""Calls shown in a package's README, as example calls of its exports.

A package's README is where its authors show how it is called: ``qs.parse('a[b]=c', { depth:
1 })``, ``qs.stringify({ a: ['b', 'c'] }, { arrayFormat: 'brackets' })``.  Those inputs are the
ones a person would test with, and random values rarely build them (a query string with nested
brackets, an options object that only makes sense with another).  :func:`readme_calls` reads
the fenced code blocks of the README at the package's root and keeps each call of a wanted name
(``name(…)`` or ``anything.name(…)``) whose arguments are plain values: literals, arrays and
objects of them.  A call that names a variable defined elsewhere in the README (``qs.parse(str)``)
or passes a function is left out: it would only throw a ``ReferenceError`` here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from agents.cover.js.jstext import outside_strings

__all__ = ["readme_calls"]

README_NAMES = ("README.md", "readme.md", "Readme.md", "README.markdown", "README")
FENCE = re.compile(r"^\s*(```|~~~)\s*([\w+-]*)\s*$")
LANGUAGES = {"", "js", "javascript", "jsx", "ts", "typescript", "tsx", "mjs", "cjs", "node"}
MAX_CALL = 200  # characters of one call's arguments
MAX_README = 400_000
PER_NAME = 40
# Words that stand for values, not for variables: anything else outside a string or an
# object's key is a name the README defined elsewhere.
VALUE_WORDS = {"true", "false", "null", "undefined", "NaN", "Infinity"}


def readme_calls(root: Path, names: Iterable[str]) -> dict[str, list[str]]:
    """``name`` → ``["name(args)", …]``: the calls of each of ``names`` in the fenced code
    blocks of the README at ``root`` whose arguments are plain values, in order, once each."""
    wanted = {n for n in names if n.isidentifier()}
    text = _readme(root)
    found: dict[str, list[str]] = {}
    if not wanted or not text:
        return found
    for block in _code_blocks(text):
        for name, args in _calls(block, wanted):
            calls = found.setdefault(name, [])
            call = f"{name}({args})"
            if call not in calls and len(calls) < PER_NAME:
                calls.append(call)
    return found


def _readme(root: Path) -> str:
    for name in README_NAMES:
        path = root / name
        try:
            if path.is_file() and path.stat().st_size <= MAX_README:
                return path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
    return ""


def _code_blocks(text: str) -> list[str]:
    """The fenced code blocks in a language that may be JavaScript."""
    blocks: list[str] = []
    current: list[str] = []
    fence, keep = "", False
    for line in text.splitlines():
        found = FENCE.match(line)
        if not fence and found:
            fence, keep, current = found.group(1), found.group(2).lower() in LANGUAGES, []
        elif fence and line.strip().startswith(fence):
            if keep:
                blocks.append("\n".join(current))
            fence = ""
        elif fence:
            current.append(line)
    return blocks


def _calls(code: str, wanted: set[str]) -> list[tuple[str, str]]:
    """(name, arguments) of each call of a wanted name whose arguments are plain values."""
    out = []
    for found in re.finditer(r"(?<![\w$])([A-Za-z_$][\w$]*)\s*\(", code):
        name = found.group(1)
        if name not in wanted or _declares(code, found.start()):
            continue
        args = _arguments(code, found.end())
        if args is not None and _plain(args):
            out.append((name, " ".join(args.split()) if "\n" in args else args))
    return out


def _declares(code: str, at: int) -> bool:
    """Whether the name at ``at`` is being declared (``function parse(``), not called."""
    before = code[max(0, at - 12) : at]
    return bool(re.search(r"function\s+$", before))


def _arguments(code: str, start: int) -> str | None:
    """The text between the call's parentheses (``start``: just after the opening one), or
    None when they do not close within ``MAX_CALL`` characters."""
    for i, ch, depth in outside_strings(code, start, depth=1):
        if i - start > MAX_CALL:
            return None
        if ch in ")]}" and depth == 0:
            text = code[start:i].strip()
            return text if text else None
    return None


def _plain(args: str) -> bool:
    """Whether ``args`` holds only values: every word outside a string is a value word or an
    object's key, and no template string runs code (``${…}``) or a function is passed."""
    if "${" in args or "=>" in args or "function" in args:
        return False
    bare = re.sub(r"'(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\"|`(?:\\.|[^`\\])*`", "''", args)
    if "'" in bare.replace("''", "") or '"' in bare:
        return False  # a quote that does not close
    for word in re.finditer(r"(?<![\w$.])([A-Za-z_$][\w$]*)", bare):
        rest = bare[word.end() :].lstrip()
        if word.group(1) not in VALUE_WORDS and not rest.startswith(":"):
            return False
    return True
