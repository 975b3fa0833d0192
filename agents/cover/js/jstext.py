"""Reading a JavaScript expression's text without parsing it: its characters outside strings."""

from __future__ import annotations

from collections.abc import Iterator


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
