"""Whether a rewritten test's name says the behaviour: no less than the original's name, no
word twice, no value its body does not check (:func:`agents.cover.rewrite.judge_rewrite`)."""

from __future__ import annotations

import ast
import re

_NAMED_VALUES = {"true", "false", "none"}  # words of a name that say a value


def unsaid_values(fn: ast.FunctionDef) -> set[str]:
    """The words of ``fn``'s name that say a value (hold a digit, ``2_930k`` of ``'2.930K'``,
    or are ``true``/``false``/``none``) and that its body does not say: a rewrite that checks
    another value under the old value's name reads as a lie (``…_returns_false`` over
    ``is True``)."""
    body = " ".join(ast.unparse(n) for n in fn.body).lower()
    said = set(re.split(r"[^0-9a-z]+", body))
    # A number the body says only after a minus is no value a name says without ``minus``
    # (``…_compare_returns_1`` over ``== -1``).
    plain = {
        m[0] for m in re.finditer(r"[0-9a-z]+", body) if body[m.start() - 1 : m.start()] != "-"
    }
    parts = fn.name.lower().split("_")
    return {
        w
        for i, w in enumerate(parts)
        if w not in ("", "test")
        and (any(c.isdigit() for c in w) or w in _NAMED_VALUES)
        and w not in (said if i and parts[i - 1] == "minus" else plain)
    }


UNCHECKED = "a name that says what it does not check"


def unchecked_value(before: ast.FunctionDef, after: ast.FunctionDef) -> str | None:
    """:data:`UNCHECKED` when ``after``'s name says a value its body does not check where
    ``before``'s did (``…_2_930k`` over ``'2.9 KiB'``, ``…_returns_1`` over ``== -1``), else
    None."""
    return UNCHECKED if unsaid_values(after) - unsaid_values(before) else None


def naming_problem(before: str, after: str) -> str | None:
    """Why the name ``after`` may not replace ``before``, or None.  It must not say less: drop
    words without adding one (``…_returns_3_0_mb_for_3000000`` → ``…_3000000``; a value run
    together, ``2_930k`` → ``2930k``, is no new word, nor is a vague one, ``correct`` or
    ``given``), nor say a word twice (``…_1000_returns_1_0_kb_for_1000``), nor leave out that
    the call fails when the original's says it raises."""
    old, new = _words(before), _words(after)
    if (old - new) - _GLUE - {"returns", "gives"} and not added(before, after):
        return "a name that says less"
    named, stems = _error_named(before), {w.removesuffix("s") for w in new}
    if "raises" in old and not (new & _ERROR_WORDS or (named and named <= stems)):
        # ``test_version_parse_raises_value_error`` → ``test_version_parse_abc``
        return "a name that hides the error"
    if _repeats(after) - _repeats(before):
        return "a name that repeats itself"
    return None


_GLUE = {"", "a", "an", "the", "of", "for", "and", "is", "to", "with", "in", "on", "test"}
# Words that say a call fails (else the name must say the whole error the original's says).
_ERROR_WORDS = {"raises", "raise", "rejects", "refuses", "fails", "error", "errors", "invalid"}
_ERROR_WORDS |= {"exception", "throws", "denies", "forbids", "disallows", "not", "cannot"}
# Words that say nothing of the behaviour (``…_returns_correct_ordinal_for_given_value``).
_VAGUE = {"correct", "correctly", "given", "value", "values", "expected", "result", "proper"}
_VAGUE |= {"properly", "valid", "works", "input", "output", "some", "certain", "specific"}
# Verbs that say no more than "returns" (``…_returns_a_for_a`` → ``…_uses_a_for_a``).
_VAGUE |= {"uses", "yields", "produces", "makes", "outputs", "handles", "checks"}
# The test's own machinery (``test_pytest_warns_compare_…``), not the code's behaviour.
_VAGUE |= {"pytest", "assert", "function", "method", "call", "calls", "args", "arguments"}
_VAGUE |= {"argument", "kwargs", "params", "parameters"}  # ``test_deactivate_no_args``


def _error_named(name: str) -> set[str]:
    """The words of the error a name says is raised: ``value``, ``error`` of
    ``test_bump_raises_value_error_for_minus_1``."""
    parts = name.lower().split("_")
    after = parts[parts.index("raises") + 1 :] if "raises" in parts else []
    words = after[: after.index("for")] if "for" in after else after
    return {w.removesuffix("s") for w in words} - _GLUE


def _repeats(name: str) -> set[str]:
    """The words (glue words aside) that ``name`` says more than once."""
    parts = name.lower().split("_")
    return {w for w in parts if parts.count(w) > 1} - _GLUE


def added(before: str, after: str) -> set[str]:
    """The words of their own that the name ``after`` says and ``before`` does not."""
    new = _words(after) - _words(before)
    return {w for w in new if w.isalpha() and len(w) >= 3} - _VAGUE - _GLUE


def _words(name: str) -> set[str]:
    return set(name.lower().split("_")) - {"", "test"}
