"""Shrinking a kept call to what it needs, for the explore driver (shipped beside it).

A call found by random search reads like machine output: ``in_seconds(True, in_seconds(
Unit.HOURS, 'A'))``.  :meth:`Shrinking._shrink` tries simpler versions of it (a nested call
replaced by one of its own arguments, an optional keyword left out, an argument replaced by a
shorter value such as ``0``, ``''`` or ``None``) and keeps each that still does what the call was
kept for (``keeps``): ``in_seconds(1, Unit.HOURS)``.  A value put in is one of a kind the
parameter takes (its annotation, else its default's type), or of the argument's own kind: a
flag stays a flag (``parse('', strict=2)`` is not a call a person writes).

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
import inspect
import time
import typing

SHRINK_TRIES = 40  # simpler arguments tried for a kept call…
SHRINK_SECONDS = 0.5  # …and at most this long, for one kept for coverage
SIMPLE_VALUES = ["0", "1", "-1", "2", "''", "'a'", "None", "True", "False", "[]", "{}", "0.5"]
BLANK_TEXTS = {"0", "0.0", "''", '""', "None", "False", "[]", "{}", "()", "b''"}
POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
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
    ns: typing.Any
    _run: typing.Any
    _kinds: typing.Any

    def _shrink(self, expr, keeps, budget=SHRINK_TRIES, seconds=None):
        """``expr`` with its arguments made as simple as ``keeps`` allows: a nested call
        replaced by one of its own arguments (``f(g(Unit.HOURS, 'A'))`` → ``f(Unit.HOURS)``),
        an operation by one of its operands (``f(now() - timedelta())`` → ``f(now())``),
        an argument-less call of a chain left out (``v.replace().bump()`` → ``v.bump()``),
        an optional keyword argument left out, an argument replaced by a shorter value
        (``0``, ``''``, ``None``…) — so that the test reads like one a person would write.
        At most ``budget`` tries, and ``seconds`` when given."""
        simple = sorted(dict.fromkeys(SIMPLE_VALUES), key=len)  # the same order in every run
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
                    if isinstance(arg, ast.BinOp) and hasattr(ast, "unparse"):  # ``now - delta``
                        options += [("set", i, ast.unparse(arg.left)),
                                    ("set", i, ast.unparse(arg.right))]  # fmt: skip
                if _chained(call) is not None:  # ``v.replace().bump()`` → ``v.bump()``
                    options.append(("unchain",))
                options += [("drop", i) for i in range(len(call.keywords))]
                for i, arg in enumerate(values):
                    text = ast.unparse(arg) if hasattr(ast, "unparse") else None
                    if text is None:
                        continue
                    kinds = _with_own(self._parameter_kinds(call, i), arg)
                    for value in simple:
                        if len(value) < len(text) and _fits(value, kinds):
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

    def _parameter_kinds(self, call, i):
        """The kinds (:meth:`Values._kinds`) the parameter that gets ``call``'s ``i``-th
        argument (positional, then keywords) allows, when its function can be named without
        running anything (``Version.parse``, not ``Version(1).bump``); else None (any)."""
        try:
            func = _named_function(call.func, self.ns)
            signature = inspect.signature(func)
            hints = typing.get_type_hints(func, self.ns)
        except Exception:  # no such name, no signature, an annotation that does not resolve
            return None
        params = list(signature.parameters.values())  # a class's and a bound method's: no self
        if i < len(call.args):
            found = params[i] if i < len(params) and params[i].kind in POSITIONAL else None
        else:
            name = call.keywords[i - len(call.args)].arg
            found = next((p for p in params if p.name == name), None)
        if found is None:
            return None
        kinds = self._kinds(hints.get(found.name, found.annotation))
        if not kinds and type(found.default) in (bool, int, float, str):
            kinds = self._kinds(type(found.default))  # ``strict=False``: a flag takes a flag
        return kinds or None

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
                kinds = _with_own(self._parameter_kinds(call, i), arg)
                for value in [v for v in LIVE_VALUES if _fits(v, kinds)]:
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


def _fits(text, kinds):
    """Whether the simple value ``text`` is of one of ``kinds`` (None: any kind).  A flag
    stays a flag (``True`` is not made ``2``), a number a number, a callable a callable."""
    if kinds is None:
        return True
    value = ast.literal_eval(text)
    allowed = tuple(k for k in kinds if isinstance(k, type))
    if type(value) is bool:
        return bool in allowed  # ``True`` where an int is wanted reads as a flag
    return isinstance(value, allowed)


def _with_own(kinds, arg):
    """``kinds`` and the type of the literal ``arg`` (an argument of a kind the parameter does
    not take, kept on purpose, may be made a simpler one of its own kind)."""
    if kinds is None:
        return None
    try:
        return [*kinds, type(ast.literal_eval(arg))]
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return kinds


def _named_function(node, namespace):
    """What ``node`` (a name, or attributes of one: ``Version.parse``) names in
    ``namespace``, looked up without calling anything; KeyError/AttributeError if nothing."""
    if isinstance(node, ast.Name):
        return namespace[node.id]
    if isinstance(node, ast.Attribute):
        owner = _named_function(node.value, namespace)
        if not (inspect.isclass(owner) or inspect.ismodule(owner)):
            raise AttributeError(node.attr)  # an instance's attribute may be a property
        return getattr(owner, node.attr)
    raise KeyError(type(node).__name__)


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
