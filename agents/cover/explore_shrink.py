"""Shrinking a kept call to what it needs, for the explore driver (shipped beside it).

A call found by random search reads like machine output: ``in_seconds(True, in_seconds(
Unit.HOURS, 'A'))``.  :meth:`Shrinking._shrink` tries simpler versions of it (a nested call
replaced by one of its own arguments, an optional keyword left out, an argument replaced by a
shorter value such as ``0``, ``''`` or ``None``) and keeps each that still does what the call was
kept for (``keeps``): ``in_seconds(1, Unit.HOURS)``.

A call kept for coverage must also show something: ``in_seconds(0, Unit.HOURS)`` reaches the
same line as ``in_seconds(2, Unit.HOURS)`` but returns ``0`` whatever the code multiplies by, so
no bug in that line changes its result.  Shrinking never makes a result blank (``0``, ``''``,
``None``, an empty container…) that was not, and :meth:`Shrinking._livelier` gives a blank
argument of a call with a blank result a live value (``0`` → ``2``) where that keeps the lines.

A mixin of the driver's ``Explorer`` (it calls ``self._run``).  Standalone like the driver: the
standard library only, Python 3.8 syntax.
"""

import ast
import copy
import time
import typing

SHRINK_TRIES = 40  # simpler arguments tried for a kept call…
SHRINK_SECONDS = 0.5  # …and at most this long, for one kept for coverage
SIMPLE_VALUES = ["0", "1", "-1", "2", "''", "'a'", "None", "True", "False", "[]", "{}", "0.5"]
BLANK_TEXTS = {"0", "0.0", "''", '""', "None", "False", "[]", "{}", "()", "b''"}
LIVE_VALUES = ["2", "3", "'ab'", "True", "[1, 2]", "1.5", "-2"]  # for a blank argument


def blank(value):
    """Whether ``value`` is one a bug can hardly change: ``0``, ``''``, ``None``, ``False``, an
    empty built-in container (never calls the code under test: built-in types only)."""
    if value is None or type(value) is bool:
        return value is None or value is False
    if type(value) in (int, float, complex):
        return value == 0
    if type(value) in (str, bytes, list, tuple, dict, set, frozenset):
        return len(value) == 0
    return False


class Shrinking:
    # What the driver's Explorer provides (annotations only: nothing at run time).
    outside: bool
    _run: typing.Any

    def _shrink(self, expr, keeps, budget=SHRINK_TRIES, seconds=None):
        """``expr`` with its arguments made as simple as ``keeps`` allows: a nested call
        replaced by one of its own arguments (``f(g(Unit.HOURS, 'A'))`` → ``f(Unit.HOURS)``),
        an argument-less call of a chain left out (``v.replace().bump()`` → ``v.bump()``),
        an optional keyword argument left out, an argument replaced by a shorter value
        (``0``, ``''``, ``None``…) — so that the test reads like one a person would write.
        At most ``budget`` tries, and ``seconds`` when given."""
        simple = sorted(set(SIMPLE_VALUES), key=len)
        tries = 0
        changed = True
        deadline = None if seconds is None else time.monotonic() + seconds
        while changed and tries < budget:
            changed = False
            try:
                tree = ast.parse(expr, mode="eval")
            except SyntaxError:
                return expr
            calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
            for index, call in enumerate(calls):
                # Simplest first: a nested call unwrapped, a keyword left out, shorter values.
                options = []  # type: list[tuple]
                values = list(call.args) + [k.value for k in call.keywords]
                for i, arg in enumerate(values):
                    if isinstance(arg, ast.Call) and hasattr(ast, "unparse"):
                        inner = list(arg.args) + [k.value for k in arg.keywords]
                        options += [("set", i, ast.unparse(a)) for a in inner]
                if _chained(call) is not None:  # ``v.replace().bump()`` → ``v.bump()``
                    options.append(("unchain",))
                options += [("drop", i) for i in range(len(call.keywords))]
                for i, arg in enumerate(values):
                    text = ast.unparse(arg) if hasattr(ast, "unparse") else None
                    if text is None:
                        continue
                    for value in simple:
                        if len(value) < len(text):
                            options.append(("set", i, value))
                for option in options:
                    if tries >= budget or (deadline is not None and time.monotonic() > deadline):
                        return expr
                    candidate = edited(tree, index, option)
                    if candidate is None or candidate == expr:
                        continue
                    tries += 1
                    if keeps(candidate):
                        expr, changed = candidate, True
                        break
                if changed:
                    break
        return expr

    def _simpler(self, expr, outcome, lines, arcs):
        """A simpler call (:meth:`_shrink`) that still reaches ``lines`` and ``arcs`` and ends
        the same way (a value, or the same exception raised on purpose), or None."""

        def keeps(candidate):
            got, got_lines, got_arcs = self._run(candidate)
            if (
                self.outside
                or got[0] != outcome[0]
                or not (lines <= got_lines and arcs <= got_arcs)
            ):
                return False
            if got[0] == "value":  # never a blank result for a live one
                return blank(got[1]) <= blank(outcome[1])
            return got[0] != "raises" or (type(got[1]) is type(outcome[1]) and got[2] == outcome[2])

        simpler = self._shrink(expr, keeps, seconds=SHRINK_SECONDS)
        if outcome[0] == "value" and blank(outcome[1]):
            simpler = self._livelier(simpler, lines, arcs)
        return None if simpler == expr else simpler

    def _livelier(self, expr, lines, arcs, budget=SHRINK_TRIES):
        """``expr`` (whose result is blank) with one blank argument given a live value, so
        that its result is not blank and still reaches ``lines`` and ``arcs``; ``expr`` itself
        when no such value is found in ``budget`` tries."""
        try:
            tree = ast.parse(expr, mode="eval")
        except SyntaxError:
            return expr
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
        tries = 0
        for index, call in enumerate(calls):
            values = list(call.args) + [k.value for k in call.keywords]
            for i, arg in enumerate(values):
                if not hasattr(ast, "unparse") or ast.unparse(arg) not in BLANK_TEXTS:
                    continue
                for value in LIVE_VALUES:
                    candidate = edited(tree, index, ("set", i, value))
                    if candidate is None or tries >= budget:
                        continue
                    tries += 1
                    got, got_lines, got_arcs = self._run(candidate)
                    if (
                        not self.outside
                        and got[0] == "value"
                        and not blank(got[1])
                        and lines <= got_lines
                        and arcs <= got_arcs
                    ):
                        return candidate
        return expr


def _chained(call):
    """The receiver of the argument-less method call ``call`` is made on (``v`` for
    ``v.replace().bump()``), or None."""
    func = call.func
    inner = func.value if isinstance(func, ast.Attribute) else None
    if not isinstance(inner, ast.Call) or inner.args or inner.keywords:
        return None
    return inner.func.value if isinstance(inner.func, ast.Attribute) else None


def edited(tree, index, option):
    """The expression of ``tree`` (copied) with ``option`` applied to its ``index``-th call:
    ``("drop", i)`` leaves out its i-th keyword, ``("set", i, text)`` makes its i-th argument
    (positional, then keywords) ``text``, ``("unchain",)`` leaves out the argument-less call
    it is made on.  None when the result has no source form."""
    new_tree = copy.deepcopy(tree)
    target = [n for n in ast.walk(new_tree) if isinstance(n, ast.Call)][index]
    if option[0] == "unchain":
        target.func.value = _chained(target)
    elif option[0] == "drop":
        del target.keywords[option[1]]
    else:
        value = ast.parse(option[2], mode="eval").body
        i = option[1]
        if i < len(target.args):
            target.args[i] = value
        else:
            target.keywords[i - len(target.args)].value = value
    try:
        return ast.unparse(new_tree)
    except Exception:
        return None
