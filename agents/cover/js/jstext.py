"""Reading JavaScript source text: a parsed node's own text, and an expression's characters
outside strings without parsing it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def node_text(node: Any) -> str:
    """A tree-sitter node's source text ("" for no node)."""
    return str(node.text.decode(errors="replace")) if node is not None else ""


def outside_strings(text: str, start: int = 0, depth: int = 0) -> Iterator[tuple[int, str, int]]:
    """``(index, character, bracket depth after it)`` of each character of ``text`` from
    ``start`` that is not inside a quoted string or template (escapes honoured); ``depth``
    is the depth at ``start`` (1 just after an opening parenthesis)."""
    quote, i = "", start
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "'\"`":
            quote = ch
        else:
            depth += (ch in "([{") - (ch in ")]}")
            yield i, ch, depth
        i += 1
