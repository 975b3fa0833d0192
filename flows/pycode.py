"""Test code out of what a small model writes: when to hang up, and how to get a module.

Shared by ``assay cover`` and the test-writing flow.  :func:`answer_end` tells where an answer
is done (enough test functions, a closed block, a statement that is not a test, a looping model),
so the LLM client can hang up early (``stop_when=answer_complete``).  :func:`extract_test_module`
turns the reply into a whole test module: the python block (closed or not), glued to the lines
we pre-filled when the model only continued them, with our import lines put back when it dropped
them, and a cut-off end trimmed.
"""

from __future__ import annotations

import ast
import re

from flows.answers import extract_python

MAX_TESTS_PER_ANSWER = 4
CODE_START = re.compile(r"^\s*(import |from |def |async def |class |@|#|\"\"\"|')")
# The rest of a ``def test_<stem>`` line the prompt ended with: ``_bounds():``, ``(x):``.
CONTINUATION = re.compile(r"^[\w]*\(.*\)\s*(->.*)?:\s*$", re.M)


def answer_end(text: str, max_tests: int = MAX_TESTS_PER_ANSWER) -> tuple[int, str] | None:
    """Where a reply (so far) is done, as (offset, why), or None while it is not: after
    ``max_tests`` whole test functions, at the closing fence or at a top-level statement that is
    not part of a test (why ``"done"``), or at the fourth copy of a repeated line (``"loop"``).
    Only whole lines count: the last one may be unfinished."""
    tests = 0
    seen: dict[str, int] = {}
    offset = 0
    for line in text.split("\n")[:-1]:
        start, offset = offset, offset + len(line) + 1
        if line.startswith(("def test", "async def test")):
            if tests == max_tests:
                return start, "done"
            tests += 1
            continue
        if not tests:
            if CONTINUATION.match(line):  # the model continued our "def test_<stem>" line
                tests = 1
            continue
        if line.strip().startswith("```"):
            return start, "done"
        if line and not line[0].isspace() and not line.startswith(("#", "@", "def ", "class ")):
            return start, "done"
        key = line.strip()
        if len(key) > 10:
            seen[key] = seen.get(key, 0) + 1
            if seen[key] == 4:
                return start, "loop"
    return None


def answer_complete(text: str, max_tests: int = MAX_TESTS_PER_ANSWER) -> bool:
    """``stop_when`` for the LLM client: hang up on a small model as soon as the answer is done
    instead of paying for what it writes after (see :func:`answer_end`)."""
    return answer_end(text, max_tests) is not None


def trim_to_parse(code: str, max_lines: int = 40) -> str:
    """A reply cut off by the token limit (or a model that looped) ends mid-statement: drop
    trailing lines until the module parses (a test left without a body goes with them)."""
    lines = code.splitlines()
    for cut in range(min(max_lines, len(lines))):
        text = "\n".join(lines[: len(lines) - cut])
        try:
            ast.parse(text)
        except SyntaxError:
            continue
        return text.rstrip() + "\n"
    return code


def extract_test_module(
    reply: str, header: str, *, stem: str = "", truncated: bool = False
) -> str | None:
    """The test module in a reply, or None when it holds no code (prose).

    ``header``: the import lines we wrote and the model was asked to continue after, ending in
    ``def test_<stem>``; ``truncated``: the reply hit the token limit or looped, so its
    unfinished end is cut off."""
    before, fence, _ = reply.partition("```")
    continued = bool(fence) and CONTINUATION.match(before.strip("\n")) is not None
    # A model that continued our open block and closed it: the code is what came before.
    code = before.strip("\n") if continued else extract_python(reply)
    if not code.strip():
        return None
    if not CODE_START.match(code):
        if not (continued or "```" in reply) and not CONTINUATION.match(code):
            return None  # prose, not code
        if code.startswith(("(", "_")) or not stem:
            code = f"def test_{stem}{code}" if stem else f"def test_{code}"
        elif code.startswith(stem):
            code = f"def test_{code}"
        else:
            code = f"def test_{stem}_{code}"
        code = header.rstrip("\n") + "\n\n\n" + code
    lines = code.splitlines()
    missing = [line for line in header.splitlines() if line.strip() and line not in lines]
    if missing:
        code = "\n".join(missing) + "\n" + code
    code = code.rstrip() + "\n"
    return trim_to_parse(code) if truncated else code


_EMPTY_LINE = re.compile(r"^(```\w*|def test_?\w*(\(.*\)\s*(->.*)?:?)?|pass|\.\.\.)$")


def adds_nothing(reply: str, header: str) -> bool:
    """Whether a reply holds no test of its own: nothing, a fence alone (a small model asked to
    continue an open block often just closes it), the import lines we wrote, a bare
    ``def test_…():`` line, ``pass``.  Such a reply is not a wrong test but no answer: ask again
    rather than count it as a test that does not parse."""
    ours = {line.strip() for line in header.splitlines() if line.strip()}
    for line in reply.splitlines():
        text = line.strip()
        if text and text not in ours and not _EMPTY_LINE.match(text):
            return False
    return True


def settle_reply(
    text: str, finish_reason: str | None, max_tests: int = MAX_TESTS_PER_ANSWER
) -> tuple[str, bool]:
    """(the reply up to where the answer ended, whether its end is cut off) for a completion:
    a hang-up by ``stop_when`` keeps the text before the line that ended the answer; a reply
    that hit the token limit or looped is cut off mid-statement."""
    if finish_reason == "stop_when":
        end = answer_end(text, max_tests)
        if end is not None:
            return text[: end[0]], end[1] == "loop"
    return text, finish_reason == "length"
