"""Feedback-directed exploration of one module, run *inside the sandbox* (never imported by assay).

``python explore_driver.py SPEC.json`` imports the module named in the spec and calls its
functions, constructors and methods with arguments built from a pool of values: the literals of
its source and docstring examples, simple defaults, callables, and whatever earlier calls
returned.  Each call runs under a line tracer restricted to the module's file; a call that runs a
line or an arc the tests missed (the spec's goals) is printed at once as one
``ASSAY_EXPLORED {json}`` line: its source expression and what it returned or raised (run
``1 + RERUNS`` times: ``stable`` says whether every run agreed, ``facts`` what held in every
run, see :mod:`explore_facts`).  A call that only raised a
``TypeError``-like error on a wrong argument is printed at the end, and only for goals no other
call reached.  Every call is rebuilt from its source text, so what is
printed is what a test that evaluates the same text will see.

Standalone on purpose: it runs on the project's interpreter (``--python``), which may not have
assay installed, so it imports the standard library only and keeps to Python 3.8 syntax.

Code under test is hostile by default: with ``_assay_guard`` (:mod:`agents.cover.guard`, put
beside it) each call is watched, and a call that touched the host outside the run or started a
subprocess is printed with ``"outside": true`` (its value is never written into a test).  The
guard also refuses what would end the exploration (``os._exit``, a signal to its own process or
group, removing its working directory): such a call is skipped.
"""

import argparse
import ast
import builtins
import contextlib
import dis
import enum
import inspect
import io
import json
import linecache
import os
import random
import re
import signal
import sys
import time
import types
import typing  # noqa: F401  (the type comments)
import warnings

try:
    import _assay_guard as guard
except ImportError:  # without the guard every value counts as touched by the outside
    guard = None
try:  # shipped beside the driver into the sandbox
    import _assay_explore_clock as clock
    import _assay_explore_facts as facts
    from _assay_explore_cli import CommandLines, strings_in
    from _assay_explore_differential import Differential
    from _assay_explore_shrink import Shrinking
    from _assay_explore_stdlib import builtin_values, stdlib_imports, stdlib_values
    from _assay_explore_values import MAX_EXPR, POOL_PER_TYPE, Values, local_examples
except ImportError:  # run from assay's source tree
    import explore_clock as clock
    import explore_facts as facts
    from explore_cli import CommandLines, strings_in
    from explore_differential import Differential
    from explore_shrink import Shrinking
    from explore_stdlib import builtin_values, stdlib_imports, stdlib_values
    from explore_values import MAX_EXPR, POOL_PER_TYPE, Values, local_examples

MARK = "ASSAY_EXPLORED "
CALL_SECONDS = 1.0  # one call's limit
LOAD_SECONDS = 5.0  # loading a mutant's module
MAX_REPR = 300
MAX_PRINTED = 300  # characters a call may print and still have them checked
MAX_CALLABLES = 24
MAX_ATTRS = 4
MAX_CLOSURES = 40
MAX_ENUM_NAMES = 12  # an Enum's member names, in lower case, as strings to pass
RERUNS = 3  # a kept call runs again this many times: a check only if every run agrees
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")  # default reprs differ between runs, nothing else
STALE_SECONDS = 6.0  # stop after this long without reaching a new goal
PROGRESS_EVERY = 2000  # calls between two progress lines (a summary that is not the last)
SAME_CLASS_OTHER = 0.5  # how often ``a + b``, ``a < b`` … take ``b`` of ``a``'s class
DEFAULT_LITERALS = [
    "None", "True", "False", "0", "1", "-1", "2", "3", "10", "100", "0.5", "-2.5",
    "''", "' '", "'a'", "'A'", "'abc'", "'hello world'", "'Hello World'", "'foo_bar'", "'fooBar'",
    "'123'", "'1.5'", "'-7'", "'\\n'", "'x@example.com'", "'http://example.com'",
    "b'abc'", "[]", "[1, 2, 3]", "['a', 'b']", "{}", "{'a': 1}", "()", "(1, 2)",
]  # fmt: skip
CALLABLES = [
    "lambda *a, **k: None", "lambda x: x", "lambda *a, **k: True", "lambda *a, **k: False",
    "lambda x: [x]", "lambda x: str(x)", "lambda *a, **k: 1",
]  # fmt: skip
DUNDER_FORMS = {
    "__str__": "str({0})", "__repr__": "repr({0})", "__len__": "len({0})",
    "__iter__": "list({0})", "__bool__": "bool({0})", "__hash__": "hash({0})",
    "__eq__": "({0} == {1})", "__ne__": "({0} != {1})", "__lt__": "({0} < {1})",
    "__le__": "({0} <= {1})", "__gt__": "({0} > {1})", "__ge__": "({0} >= {1})",
    "__add__": "({0} + {1})", "__contains__": "({1} in {0})", "__getitem__": "{0}[{1}]",
    "__sub__": "({0} - {1})", "__mul__": "({0} * {1})", "__truediv__": "({0} / {1})",
    "__floordiv__": "({0} // {1})", "__mod__": "({0} % {1})", "__pow__": "({0} ** {1})",
    "__and__": "({0} & {1})", "__or__": "({0} | {1})", "__xor__": "({0} ^ {1})",
    "__matmul__": "({0} @ {1})", "__neg__": "(-{0})", "__pos__": "(+{0})", "__abs__": "abs({0})",
    "__invert__": "(~{0})", "__int__": "int({0})", "__float__": "float({0})",
    "__round__": "round({0})", "__next__": "next({0})", "__reversed__": "list(reversed({0}))",
    "__format__": "format({0}, {1})", "__bytes__": "bytes({0})",
}  # fmt: skip


class _Timeout(BaseException):
    """Raised by the alarm in a call that runs too long (BaseException: code under test that
    catches Exception does not swallow it)."""


def _on_alarm(signum, frame):
    raise _Timeout()


class _Sink(io.StringIO):
    """Takes what the code under test prints, keeping no more than ``MAX_PRINTED`` characters
    of it (``printed`` is None past that: too long to check)."""

    def __init__(self):
        super().__init__()
        self.kept = []
        self.size = 0

    def write(self, text):
        if isinstance(text, str) and self.size <= MAX_PRINTED:
            self.kept.append(text[: MAX_PRINTED + 1 - self.size])
            self.size += len(self.kept[-1])
        return len(text)

    def printed(self):
        return "".join(self.kept) if self.size <= MAX_PRINTED else None


class Tracer:
    """Lines and arcs run in one file, the way coverage.py counts them (an arc is
    (previous line, line); entering a code object comes from -its first line, leaving goes
    to -its first line)."""

    def __init__(self, filename):
        self.filename = os.path.realpath(filename)
        self.lines = set()
        self.arcs = set()
        self._mine = {}

    def _is_mine(self, code):
        mine = self._mine.get(code.co_filename)
        if mine is None:
            mine = self._mine[code.co_filename] = (
                os.path.realpath(code.co_filename) == self.filename
            )
        return mine

    def trace(self, frame, event, arg):
        if not self._is_mine(frame.f_code):
            return None
        first = frame.f_code.co_firstlineno
        last = [-first]
        lines, arcs = self.lines, self.arcs

        def local(frame, event, arg):
            if event == "line":
                line = frame.f_lineno
                lines.add(line)
                arcs.add((last[0], line))
                last[0] = line
            elif event == "return":
                arcs.add((last[0], -first))
            return local

        return local


def _short(show, value):
    """``show(value)`` (repr or str) if it works and is short, else None."""
    try:
        text = show(value)
    except BaseException:  # a broken __repr__ is the code under test's business
        return None
    return text if isinstance(text, str) and len(text) <= MAX_REPR else None


def _names_in(expr):
    """The names ``expr`` reads."""
    try:
        tree = ast.parse(expr, mode="eval")
    except (SyntaxError, ValueError):
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


def _literal(value):
    """``repr(value)`` when it reads back as an equal literal (values of plain types join the
    pool as literals, not as the call that made them)."""
    if not isinstance(value, (str, bytes, int, float, bool, type(None), tuple, list, dict)):
        return None
    text = _short(repr, value)
    if text is None or len(text) > 80:
        return None
    try:
        return text if ast.literal_eval(text) == value else None
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def _attributes(value):
    """Public attributes of an object whose values are plain literals (what a test can check
    when the object itself has no readable repr)."""
    found = {}  # type: dict[str, str]
    try:
        items = sorted(vars(value).items())
    except TypeError:
        return found
    for name, attr in items:
        if name.startswith("_") or len(found) >= MAX_ATTRS:
            continue
        text = _literal(attr)
        if text is not None:
            found[name] = text
    return found


class Explorer(Values, Shrinking, Differential, CommandLines):
    def __init__(self, spec):
        self.spec = spec
        self.rng = random.Random(spec.get("seed", 0))
        self.module = __import__(spec["module"], fromlist=["*"])
        self.ns = dict(vars(self.module))
        self.ns.setdefault("__builtins__", builtins)
        self.tracer = Tracer(self.module.__file__)
        self.goal_lines = set(spec.get("lines", ()))
        self.goal_arcs = {tuple(a) for a in spec.get("arcs", ())}
        self.pool = {}  # type -> [expression]
        self.seeds = {}  # type -> how many of its expressions (the first ones) are seeds
        self.callables = list(CALLABLES)
        self.strings = []
        self.out = sys.stdout
        self.kept = 0
        self.outside = False
        # What the module read outside at import may come back from any call.
        self.tainted_at_import = guard is None or guard.tainted()
        self.closure_sources = set()
        self.parsers = set()
        self.clock = clock.clock_names(vars(self.module))  # it reads datetime's clock: how
        self.warns = bool(spec.get("warns"))  # the module gives warnings of its own
        spec["examples"] = local_examples(spec.get("examples", ()), spec["module"], self.ns)
        package = list(spec.get("package_literals", ()))
        for text in DEFAULT_LITERALS + list(spec.get("literals", ())) + package:
            self._add_literal(text)
        source = "".join(linecache.getlines(self.module.__file__ or ""))
        # ``dt.timedelta(hours=2)``, ``{1, 2}``
        for kind, expr in stdlib_values(self.ns) + builtin_values(source):
            self._add(kind, expr, seed=True)
        # The strings the docs' examples use (this module's, the modules' it imports from):
        # the words a command line is most often made of.
        self.example_strings = strings_in(package + list(spec.get("examples", ())))
        self.actions = self._actions(spec.get("targets", ()))

    # -- what to call -----------------------------------------------------------------------

    def _actions(self, targets):
        """What can be called: for each target the module lets us reach (a function, or a
        method, static/class method, property or ``__init__`` of a top-level class) its
        target entry plus ``kind``, ``obj`` (and ``cls``); then the constructors of the
        module's other classes (they make the receivers of methods)."""
        actions = []
        for target in targets:
            qualname = target["qualname"]
            parts = qualname.split(".")
            if len(parts) == 1:
                obj = getattr(self.module, parts[0], None)
                if inspect.isfunction(obj) and not inspect.iscoroutinefunction(obj):
                    actions.append(dict(target, kind="function", obj=obj))
            elif len(parts) == 2:
                cls = getattr(self.module, parts[0], None)
                if not inspect.isclass(cls) or parts[1] not in vars(cls):
                    continue
                raw = vars(cls)[parts[1]]
                kind = "method"
                if isinstance(raw, staticmethod):
                    kind = "static"
                elif isinstance(raw, classmethod):
                    kind = "classmethod"
                elif isinstance(raw, property):
                    kind = "property"
                elif parts[1] == "__init__":
                    kind = "init"
                elif not inspect.isfunction(raw) or inspect.iscoroutinefunction(raw):
                    continue
                actions.append(dict(target, kind=kind, obj=getattr(cls, parts[1]), cls=cls))
        for _, cls in sorted(vars(self.module).items()):
            if not inspect.isclass(cls) or cls.__module__ != self.module.__name__:
                continue
            if isinstance(cls, enum.EnumMeta):  # its members, by name: ``Unit.DAYS``, never
                names = list(cls.__members__)[:POOL_PER_TYPE]  # ``Unit(True, module=0)``
                for name in names:
                    self._add(cls, "{}.{}".format(cls.__name__, name), seed=True)
                for name in list(cls.__members__)[:MAX_ENUM_NAMES]:  # ``Unit[unit.upper()]``
                    self._add_literal(repr(name.lower()))  # takes ``"days"``
                actions = [a for a in actions if not (a.get("cls") is cls and a["kind"] == "init")]
                continue
            if not any(a.get("cls") is cls and a["kind"] == "init" for a in actions):
                init = {"qualname": cls.__qualname__ + ".__init__", "start": 0, "end": 0}
                actions.append(dict(init, kind="init", obj=cls.__init__, cls=cls))
        return actions

    def _closures(self, action, expr, value):
        """Functions of this file that a call returned, or that an object it returned holds
        (``cond(...)``'s ``result``, a ``Task``'s ``fork``): new things to call."""
        found = [(expr, value)]
        with contextlib.suppress(TypeError):
            found += [(f"{expr}.{k}", v) for k, v in vars(value).items() if not k.startswith("_")]
        for source, func in found:
            if len(self.closure_sources) >= MAX_CLOSURES:
                return
            code = getattr(func, "__code__", None)
            if source in self.closure_sources or not inspect.isfunction(func):
                continue
            if code is None or not self.tracer._is_mine(code):
                continue
            self.closure_sources.add(source)
            last = max((line for _, line in dis.findlinestarts(code) if line), default=0)
            self.actions.append({"qualname": (action or {}).get("qualname", "call"),
                                 "kind": "closure", "obj": func, "source": source,
                                 "start": code.co_firstlineno, "end": last})  # fmt: skip

    def _call(self, action):
        """Source of one call for ``action``, or None when it cannot be built yet."""
        kind, obj, cls = action["kind"], action["obj"], action.get("cls")
        if kind == "function":
            args = self._arguments(obj, False)
            if args is None:
                return None
            # The module's name for it: a decorator may have returned another function.
            expr = f"{action['qualname']}({', '.join(args)})"
            return f"list({expr})" if inspect.isgeneratorfunction(obj) else expr
        if kind == "closure":
            args = self._arguments(obj, False)
            return None if args is None else f"({action['source']})({', '.join(args)})"
        name = cls.__name__
        if kind == "init":
            args = self._arguments(cls, False)
            return None if args is None else f"{name}({', '.join(args)})"
        method = action["qualname"].split(".")[-1]
        if kind in ("static", "classmethod"):
            args = self._arguments(obj, False)
            return None if args is None else f"{name}.{method}({', '.join(args)})"
        receiver = self._receiver(cls)
        if receiver is None:
            return None
        if kind == "property":
            return f"{receiver}.{method}"
        args = self._arguments(obj, True)
        if args is None:
            return None
        form = DUNDER_FORMS.get(method)
        if form is not None and len(args) == ("{1}" in form):
            if args and self.rng.random() < SAME_CLASS_OTHER:  # ``a < b`` of two of a kind,
                args = [receiver if self.rng.random() < 0.25 else self._receiver(cls)]  # or a, a
            return form.format(receiver, *args)
        if method == "__call__":
            return f"{receiver}({', '.join(args)})"
        expr = f"{receiver}.{method}({', '.join(args)})"
        return f"list({expr})" if inspect.isgeneratorfunction(obj) else expr

    # -- running ----------------------------------------------------------------------------

    def _run(self, expr, ns=None):
        """(outcome, lines, arcs) of one evaluation of ``expr`` (in ``ns``, default the
        module's namespace), outcome as noted below."""
        tracer = Tracer(self.tracer.filename)
        tracer._mine = self.tracer._mine
        saved = sys.stdout, sys.stderr, sys.stdin
        out, err = _Sink(), _Sink()
        sys.stdout, sys.stderr, sys.stdin = out, err, io.StringIO("")
        mark = guard.mark() if guard is not None else None
        signal.setitimer(signal.ITIMER_REAL, CALL_SECONDS)
        sys.settrace(tracer.trace)
        # ("value", value, True) | ("raises", exception, deliberate) | ("timeout", None, False)
        # | ("blocked", None, False): it tried to end the exploration; then the warnings the
        # module gave (:meth:`_warned`) and what it printed (stdout, stderr; None: too much)
        outcome = ("timeout", None, False)  # type: tuple[typing.Any, ...]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                outcome = ("value", eval(expr, self.ns if ns is None else ns), True)
            except (_Timeout, RecursionError):
                pass
            except BaseException as exc:
                outcome = ("raises", exc, self._deliberate(exc))
            finally:
                sys.settrace(None)
                signal.setitimer(signal.ITIMER_REAL, 0)
                sys.stdout, sys.stderr, sys.stdin = saved
        outcome += (self._warned(caught), (out.printed(), err.printed()))
        self.outside = self.tainted_at_import or guard is None or guard.tainted(mark)
        if guard is not None and guard.blocked(mark):
            outcome = ("blocked", None, False, (), (None, None))
        return outcome, tracer.lines, tracer.arcs

    def _warned(self, caught):
        """The warnings a call gave that the module gives on purpose: only a module that
        calls ``warn`` has any, and only those attributed to it or to the call itself (a
        ``stacklevel=2`` deprecation), as (class, its module, message)."""
        if not self.warns:
            return ()
        found = set()
        for item in caught:
            where = item.filename or ""
            if where != "<string>" and os.path.realpath(where) != self.tracer.filename:
                continue
            found.add((item.category.__name__, item.category.__module__,
                       _short(str, item.message)))  # fmt: skip
        return tuple(sorted(found))

    def _deliberate(self, exc):
        """Whether the module raised ``exc`` on purpose (a ``raise`` or ``assert`` of its own,
        or an exception class of its package) rather than choking on a wrong argument."""
        package = self.module.__name__.split(".")[0]
        if type(exc).__module__.split(".")[0] == package:
            return True
        tb = exc.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        if tb is None or os.path.realpath(tb.tb_frame.f_code.co_filename) != self.tracer.filename:
            return False
        line = linecache.getline(tb.tb_frame.f_code.co_filename, tb.tb_lineno).strip()
        return line.startswith(("raise", "assert"))

    def _describe(self, outcome):
        kind, value = outcome[:2]
        if kind == "raises":
            cls = type(value)
            described = {"raises": cls.__name__, "raises_module": cls.__module__,
                         "message": _short(str, value)}  # fmt: skip
        else:
            described = {"repr": _short(repr, value), "str": _short(str, value),
                         "attrs": _attributes(value), "type": type(value).__name__,
                         "type_module": type(value).__module__}  # fmt: skip
        if len(outcome) > 3 and outcome[3]:
            described["warns"] = [list(w) for w in outcome[3]]
        printed = outcome[4] if len(outcome) > 4 else (None, None)
        if printed[0] or printed[1]:  # a program's output is its behaviour too
            described["printed"] = {"out": printed[0], "err": printed[1]}
        return described

    def _facts(self, outcome):
        """The facts of one outcome (:mod:`explore_facts`), under the alarm: they read the
        value (its length, keys, attributes), which runs code of the module."""
        signal.setitimer(signal.ITIMER_REAL, CALL_SECONDS)
        try:
            return facts.facts_of(outcome[0], outcome[1], self.module)
        except BaseException:
            return {"kind": outcome[0]}
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    def _emit(self, action, expr, outcome, new_lines, new_arcs, outside, kills=None):
        described = self._describe(outcome)
        printed = described.pop("printed", None)
        seen = _ADDRESS.sub("", json.dumps(described))
        stable = True
        runs = [self._facts(outcome)]
        # Every rerun (the last one on another day, when the module reads the clock): the
        # facts are those that held in all of them.
        for another_day in [False] * RERUNS + [bool(self.clock)]:
            if another_day:
                with clock.shifted([vars(self.module), self.ns], self.clock):
                    again, _, _ = self._run(expr)
            else:
                again, _, _ = self._run(expr)
            outside = outside or self.outside
            described_again = self._describe(again)
            if described_again.pop("printed", None) != printed:
                printed = None  # a clock or a counter in the output: not checked
            if again[0] != outcome[0] or _ADDRESS.sub("", json.dumps(described_again)) != seen:
                stable = False
            runs.append(self._facts(again))
        item = {"target": action["qualname"], "expr": expr, "stable": stable,
                "lines": sorted(new_lines), "arcs": sorted(new_arcs),
                "outside": outside, "facts": facts.merge(runs)}  # fmt: skip
        if kills is not None:
            item["kills"] = kills
        if printed is not None and None not in printed.values():
            item["printed"] = printed
        imports = stdlib_imports(self.ns, _names_in(expr))
        if imports:
            item["imports"] = imports  # ``dt`` → ``import datetime as dt``
        item.update(described)
        self.out.write("\n" + MARK + json.dumps(item) + "\n")
        self.out.flush()
        self.kept += 1

    def explore(self, seconds):
        start = last_gain = time.monotonic()
        reached_lines, weak_lines = set(), set()  # type: set[int], set[int]
        reached_arcs, weak_arcs = set(), set()  # type: set[tuple[int, int]], set[tuple[int, int]]
        weak = []  # type: list[tuple[typing.Any, ...]]
        examples = list(self.spec.get("examples", ()))
        tries = 0
        while True:
            now = time.monotonic()
            goals_left = (self.goal_lines - reached_lines) or (self.goal_arcs - reached_arcs)
            if now - start > seconds or now - last_gain > STALE_SECONDS or not goals_left:
                break
            example = bool(examples)  # the docstring's own call: written as its author did
            if examples:
                expr = examples.pop(0)
                action = {"qualname": expr.split("(")[0]}
            else:
                action = self._pick(reached_lines)
                expr = self._call(action) if action else None
            tries += 1
            if tries % PROGRESS_EVERY == 0:
                self._summary(tries, start, done=False)
            if expr is None:
                continue
            outcome, lines, arcs = self._run(expr)
            outside = self.outside
            if outcome[0] in ("timeout", "blocked") and action is not None:
                action["timeouts"] = action.get("timeouts", 0) + 1
            if outcome[0] in ("timeout", "blocked") or (
                outcome[0] == "raises" and isinstance(outcome[1], NameError)
            ):
                continue  # a hang, an example that names what the module does not have, or
                # a call that would have ended the exploration
            if not outside:  # the pool never holds what may come from outside
                self._learn(action, expr, outcome)
            new_lines = (lines & self.goal_lines) - reached_lines
            new_arcs = (arcs & self.goal_arcs) - reached_arcs
            if (new_lines or new_arcs) and outcome[0] == "raises" and not outcome[2]:
                # A TypeError from a wrong argument reaches code, but says little: kept aside,
                # and written only for what no better call reaches.
                if (new_lines - weak_lines) or (new_arcs - weak_arcs):
                    weak.append((action, expr, outcome, new_lines, new_arcs, outside))
                    weak_lines |= new_lines
                    weak_arcs |= new_arcs
                continue
            if new_lines or new_arcs:
                reached_lines |= new_lines
                reached_arcs |= new_arcs
                last_gain = time.monotonic()
                simpler = None if example else self._simpler(expr, outcome, new_lines, new_arcs)
                if simpler is not None:
                    expr, (outcome, _, _) = simpler, self._run(simpler)
                    outside = outside or self.outside
                self._emit(action, expr, outcome, new_lines, new_arcs, outside)
        for action, expr, outcome, lines, arcs, outside in weak:
            new_lines, new_arcs = lines - reached_lines, arcs - reached_arcs
            if new_lines or new_arcs:
                reached_lines |= new_lines
                reached_arcs |= new_arcs
                self._emit(action, expr, outcome, new_lines, new_arcs, outside)
        self._summary(tries, start)

    def _summary(self, tries, start, done=True, **extra):
        """The last line: how many calls were tried and kept, in how long (and ``extra``).
        Also printed along the way with ``done`` false: a call stuck in C code (where the
        alarm cannot stop it) may run the driver into the sandbox's limit, and what it did
        until then is still known."""
        summary = {"done": done, "tries": tries, "kept": self.kept,
                   "seconds": round(time.monotonic() - start, 2), **extra}  # fmt: skip
        self.out.write("\n" + MARK + json.dumps(summary) + "\n")
        self.out.flush()

    def _learn(self, action, expr, outcome):
        """What a call returned joins the pool (and the callables, and what it holds)."""
        if outcome[0] != "value" or len(expr) > MAX_EXPR:
            return
        value = outcome[1]
        self._add(type(value), _literal(value) or expr)
        if isinstance(value, argparse.ArgumentParser):  # a program: its command lines
            self._learn_parser(expr, value)
        if isinstance(value, str) and len(value) <= 80 and len(self.strings) < 2000:
            self.strings.append(value)
        if len(self.callables) < MAX_CALLABLES:
            if type(value).__module__ == self.module.__name__:
                self.callables.append(f"lambda *a, **k: {expr}")
            elif callable(value) and not inspect.isclass(value):
                self.callables.append(expr)
        self._closures(action, expr, value)

    # -- differential: the original against a mutant ----------------------------------------

    def _variant(self, mutant):
        """A namespace where the module's names are the mutant's: the same call text then
        calls the mutated code.  None when the mutant's module does not load."""
        module = types.ModuleType(self.module.__name__)
        module.__dict__.update({"__file__": self.module.__file__, "__builtins__": builtins,
                                "__package__": self.module.__package__})  # fmt: skip
        signal.setitimer(signal.ITIMER_REAL, LOAD_SECONDS)
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _Sink(), _Sink()
        try:
            exec(compile(mutant["source"], "<assay mutant>", "exec"), module.__dict__)
        except BaseException:
            return None
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            sys.stdout, sys.stderr = saved
        ns = dict(self.ns)
        ns.update(vars(module))
        return ns

    def _seen(self, outcome):
        if outcome[0] in ("timeout", "blocked"):
            return outcome[0]
        return _ADDRESS.sub("", json.dumps(self._describe(outcome), sort_keys=True))

    def _pick(self, reached_lines, focus=4):
        """An action, at random: one holding goals not reached yet weighs ``1 + focus`` times
        as much for each of them."""
        weights = []
        missed = self.goal_lines - reached_lines
        for action in self.actions:
            left = sum(1 for n in missed if action.get("start", 0) <= n <= action.get("end", 0))
            # Each hang costs a whole CALL_SECONDS: what hangs gets tried less and less.
            weights.append((1 + focus * left) / (1 + 8 * action.get("timeouts", 0)))
        if not self.actions:
            return None
        return self.rng.choices(self.actions, weights=weights)[0]


def main(argv):
    if guard is not None:
        guard.install(block=True, protect=[os.path.abspath(argv[0]), os.path.abspath(argv[1])])
    with open(argv[1], encoding="utf-8") as handle:
        spec = json.load(handle)
    explorer = Explorer(spec)
    signal.signal(signal.SIGALRM, _on_alarm)
    if spec.get("mutants"):
        explorer.differential(float(spec.get("seconds", 20)))
    else:
        explorer.explore(float(spec.get("seconds", 20)))


if __name__ == "__main__":
    main(sys.argv)
