"""Template literals to explore a template tag with (``dedent`…```, ``html`…```, ``sql`…```).

A function whose first parameter is a ``TemplateStringsArray`` (its TypeScript type or its
JSDoc ``@param``) is meant to be called as a tag; called with plain strings it shows little of
what it does.  :func:`tag_templates` writes the template literals exploration tags it with, as
source text (backticks included): a few fixed shapes (empty, one line, one value), then seeded
variations of what tags of text branch on — the first line on the backtick's line or the next,
indentation by spaces or tabs, a line deeper than the rest or at the margin, a blank line,
blanks at a line's end, the closing backtick on its own indented line, ``\\r\\n`` line ends,
and values (``${…}``) at a line's start, inside it or alone on it, numbers, words and text of
several lines.  Newlines are written as newlines, tabs as ``\\t``, so a test reads like the
template a person would write.
"""

from __future__ import annotations

import random
import re

FIXED = [  # the shapes a person tries first
    "``", "`hello`", "`a ${1} c`",
    "`\n  alpha 1\n  beta 2\n`",  # one indentation, the backticks on their own lines
    "`\n  alpha 1\n    beta 2\n  gamma 3\n`",  # a deeper line
    "`alpha 1\n    beta 2\n    gamma 3`",  # the first line on the backtick's line
    "`\n\\talpha 1\n\\t\\tbeta 2\n`",  # tabs
    "`\n  items:\n    ${'first\\nsecond'}\n`",  # a value of several lines, indented
    "`\\r\n  alpha 1\\r\n  beta 2\\r\n`",  # \r\n line ends
]  # fmt: skip
INDENTS = ["  ", "    ", "\\t"]  # as written in the source: a tab is `\t`
VALUES = ["1", "42", "'word'", "'first\\nsecond'", "'  one\\n    two'"]
WORDS = ["alpha", "beta", "gamma", "delta"]


def tag_templates(rng: random.Random, count: int) -> list[str]:
    """``count`` distinct template literals, the fixed shapes first."""
    out = list(FIXED[:count])
    tries = 0
    while len(out) < count and tries < count * 20:
        tries += 1
        text = _template(rng)
        if text not in out:
            out.append(text)
    return out


def _line(rng: random.Random, k: int) -> str:
    text = f"{WORDS[k % len(WORDS)]} {k + 1}"
    roll = rng.random()
    if roll < 0.45:
        value = "${" + rng.choice(VALUES) + "}"
        text = rng.choice([f"{value} {text}", f"{text} {value}", value, f"{text}: {value}"])
    if rng.random() < 0.1:
        text += "  "  # blanks at the line's end
    return text


def _template(rng: random.Random) -> str:
    base = rng.choice(INDENTS)
    lines = []
    for k in range(rng.randint(1, 4)):
        roll = rng.random()
        indent = base + rng.choice(INDENTS) if roll < 0.25 else "" if roll < 0.35 else base
        lines.append(indent + _line(rng, k))
    if len(lines) > 1 and rng.random() < 0.2:
        lines.insert(rng.randint(1, len(lines) - 1), rng.choice(["", base]))  # a blank line
    eol = "\\r\n" if rng.random() < 0.15 else "\n"
    inline = rng.random() < 0.3  # the first line on the backtick's own line
    head = re.sub(r"^(?: |\\t)+", "", lines[0]) if inline else eol + lines[0]
    closing = rng.choice(["", eol + base, eol])  # after the text, or on its own line
    return "`" + eol.join([head, *lines[1:]]) + closing + "`"
