"""The behaviour diff's driver, run *inside the sandbox* beside ``_assay_explore_driver.py``.

``python behaviour_driver.py SPEC.json`` does one of two things (``spec["mode"]``):

- ``collect``: calls the changed functions of one module with generated arguments (the
  exploration engine of ``assay cover``: the module's literals, docstring and test examples,
  simple values, earlier results) and prints up to ``max_calls`` calls per function, kept when
  they run the function (calls that take new paths through it or end differently first);
  ``max_tries`` tries per target, or fewer when its ``seconds`` run out first (the same seed
  makes the same tries, so a run that is not cut by time is the same on every machine);
- ``replay``: evaluates the given call texts (each in its module's namespace) and prints what
  each did;
- ``search`` (run on the base): for each target, searches a call on which this side's module
  and ``spec["other"]`` (the head's source of it, loaded beside it) disagree — the
  differential exploration ``assay cover`` runs against a mutant, the head being the mutant:
  the changed lines' constants and their neighbours first (``val >= 2 ** len_`` → 2, 1, 3),
  then calls weighted onto the changed function.  A found call is made as simple as it still
  disagrees and printed; the caller replays it on both sides, each in its own sandbox.

For every call it prints one ``ASSAY_BEHAVIOUR {json}`` line: the value returned (repr, str,
type, public attributes) or the exception raised (type and message), the state after the call
of its receiver and of its mutable arguments, ``stable``: whether ``1 + reruns`` runs all
agreed (a call that does not do the same thing twice on the same side says nothing about a
change), and ``seconds``: the fastest of those runs (what a claimed slowdown is measured by).
Every call is rebuilt from its text, so the other side can run the very same text.

Standalone like the explore driver: the standard library only, Python 3.8 syntax.
"""

import ast
import io
import json
import os
import signal
import sys
import time
import types
import typing  # noqa: F401  (type comments)

import _assay_explore_boundaries as boundaries
import _assay_explore_driver as ex

MARK = "ASSAY_BEHAVIOUR "
MUTABLE = (list, dict, set, bytearray)


def _state(value):
    """What a receiver or argument looks like after a call (None when there is nothing to
    see: an immutable value, a module, a class, a function)."""
    if value is None or isinstance(value, (str, bytes, int, float, complex, bool, tuple)):
        return None
    if isinstance(value, (type, types.ModuleType, types.FunctionType, types.MethodType)):
        return None
    if not isinstance(value, MUTABLE) and not hasattr(value, "__dict__"):
        return None
    text = ex._short(repr, value)
    found = {"repr": ex._ADDRESS.sub("", text) if text is not None else None}
    attrs = ex._attributes(value)
    if attrs:
        found["attrs"] = attrs
    return found


def _mask_paths(value, places=None):
    """``value`` (a described outcome) with the side's working directory written as
    ``<cwd>``: base and head run in different directories, and a path that only says where a
    side ran (``AtomicSaver('').dest_dir``) is no behaviour of the code."""
    if places is None:
        try:
            cwd = os.getcwd()
        except OSError:  # the code under test deleted it
            return value
        places = sorted({cwd, os.path.realpath(cwd)}, key=len, reverse=True)
    if isinstance(value, str):
        for place in places:
            value = value.replace(place, "<cwd>")
        return value
    if isinstance(value, dict):
        return {k: _mask_paths(v, places) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_paths(v, places) for v in value]
    return value


def _unwrap(node):
    """(call node, wrapper name): ``list(obj.m(x))`` is the call ``obj.m(x)`` wrapped."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "list"
        and len(node.args) == 1
        and not node.keywords
        and isinstance(node.args[0], ast.Call)
    ):
        return node.args[0], "list"
    return node, None


def _eval(node, ns):
    return eval(compile(ast.Expression(body=node), "<assay call>", "eval"), ns)


# When the call itself (not the evaluation of its parts) began, for ``Observer.took``.
_STARTED = [0.0]


def _evaluate(expr, ns):
    """(value, states) of one evaluation of ``expr``: the call's parts are evaluated one by
    one so that its receiver and arguments can be looked at afterwards."""
    tree = ast.parse(expr, mode="eval").body
    call, wrap = _unwrap(tree)
    if not isinstance(call, ast.Call):
        code = compile(ast.Expression(body=tree), "<assay call>", "eval")
        _STARTED[0] = time.perf_counter()
        return eval(code, ns), {}
    receiver = None
    if isinstance(call.func, ast.Attribute):
        receiver = _eval(call.func.value, ns)
        func = getattr(receiver, call.func.attr)
    else:
        func = _eval(call.func, ns)
    args, kwargs = [], {}
    for arg in call.args:
        if isinstance(arg, ast.Starred):
            args.extend(_eval(arg.value, ns))
        else:
            args.append(_eval(arg, ns))
    for kw in call.keywords:
        if kw.arg is None:
            kwargs.update(_eval(kw.value, ns))
        else:
            kwargs[kw.arg] = _eval(kw.value, ns)
    _STARTED[0] = time.perf_counter()
    value = func(*args, **kwargs)
    if wrap == "list":
        value = list(value)
    states = {}
    if receiver is not None and not isinstance(receiver, type):
        seen = _state(receiver)
        if seen is not None:
            states["receiver"] = seen
    for i, arg in enumerate(args):
        seen = _state(arg)
        if seen is not None:
            states["arg%d" % i] = seen
    for name, arg in sorted(kwargs.items()):
        seen = _state(arg)
        if seen is not None:
            states[name] = seen
    return value, states


class Observer(ex.Explorer):
    """The explorer, plus calls observed with the state they leave behind."""

    took = 0.0  # seconds of the latest call observed
    fastest = 0.0  # the fastest run of the latest ``stable_observe``

    def observe(self, expr, ns=None, traced=True):
        """(described outcome, kind, lines, arcs) of one evaluation of ``expr`` (lines and
        arcs empty when not ``traced``).  ``self.took``: the seconds the call itself took."""
        tracer = ex.Tracer(self.tracer.filename)
        tracer._mine = self.tracer._mine
        saved = sys.stdout, sys.stderr, sys.stdin
        sys.stdout, sys.stderr, sys.stdin = ex._Sink(), ex._Sink(), io.StringIO("")
        signal.setitimer(signal.ITIMER_REAL, ex.CALL_SECONDS)
        if traced:
            sys.settrace(tracer.trace)
        outcome = ("timeout", None, False)  # type: typing.Tuple[str, typing.Any, bool]
        states = {}  # type: dict
        _STARTED[0] = time.perf_counter()
        try:
            value, states = _evaluate(expr, self.ns if ns is None else ns)
            self.took = time.perf_counter() - _STARTED[0]
            outcome = ("value", value, True)
        except (ex._Timeout, RecursionError):
            pass
        except BaseException as exc:
            self.took = time.perf_counter() - _STARTED[0]
            outcome = ("raises", exc, self._deliberate(exc))
        finally:
            sys.settrace(None)
            signal.setitimer(signal.ITIMER_REAL, 0)
            sys.stdout, sys.stderr, sys.stdin = saved
        if outcome[0] == "timeout":
            return {"timeout": True}, outcome, tracer.lines, tracer.arcs
        described = self._describe(outcome)
        if outcome[0] == "raises":
            described["deliberate"] = bool(outcome[2])
        if states:
            described["state"] = states
        return _mask_paths(described), outcome, tracer.lines, tracer.arcs

    def stable_observe(self, expr, reruns, ns=None):
        """(described outcome, stable, outcome, lines, arcs): ``expr`` run ``1 + reruns``
        times; stable when every run described the same thing.  ``self.fastest``: the
        shortest rerun (not traced: a trace slows a Python loop far more than a builtin), in
        seconds; the first run's when there are none."""
        self.took = 0.0
        described, outcome, lines, arcs = self.observe(expr, ns)
        self.fastest = self.took if not reruns else float("inf")
        seen = ex._ADDRESS.sub("", json.dumps(described, sort_keys=True))
        stable = "timeout" not in described
        for _ in range(reruns if stable else 0):
            again = self.observe(expr, ns, traced=False)[0]
            self.fastest = min(self.fastest, self.took)
            if ex._ADDRESS.sub("", json.dumps(again, sort_keys=True)) != seen:
                stable = False
                break
        if self.fastest == float("inf"):  # no rerun: it timed out
            self.fastest = self.took
        return described, stable, outcome, lines, arcs

    def collect(self, spec):
        signal.signal(signal.SIGALRM, ex._on_alarm)
        reruns = int(spec.get("reruns", 2))
        max_calls = int(spec.get("max_calls", 30))
        max_tries = int(spec.get("max_tries", 0)) or None
        examples = list(spec.get("examples", ()))
        tries = 0
        start = time.monotonic()
        for target in spec.get("targets", ()):
            name, low, high = target["qualname"], target["start"], target["end"]
            mine = [a for a in self.actions if a["qualname"] == name]
            deadline = time.monotonic() + float(target.get("seconds", 5))
            queue = [e for e in examples if e.split("(")[0].split(".")[-1] == name.split(".")[-1]]
            kept, keys = [], set()  # type: list, set
            first = tries
            while (
                time.monotonic() < deadline
                and len(kept) < max_calls
                and (max_tries is None or tries - first < max_tries)
            ):
                if queue:
                    expr, action = queue.pop(0), {"qualname": name}
                else:
                    choices = mine if mine and self.rng.random() < 0.75 else self.actions
                    if not choices:
                        break
                    action = self.rng.choice(choices)
                    expr = self._call(action)
                tries += 1
                if expr is None or expr in kept:
                    continue
                described, outcome, lines, arcs = self.observe(expr)
                if "timeout" in described:
                    continue
                if outcome[0] == "raises" and isinstance(outcome[1], NameError):
                    continue
                self._learn(action, expr, outcome)
                inside = {n for n in lines if low <= n <= high}
                if not inside:
                    continue
                key = (
                    frozenset(a for a in arcs if low <= abs(a[0]) <= high),
                    outcome[0],
                    type(outcome[1]).__name__ if outcome[0] == "raises" else "",
                )
                if key in keys and len(kept) >= max_calls // 2:
                    continue
                keys.add(key)
                kept.append(expr)
                described, stable, _, _, _ = self.stable_observe(expr, reruns)
                self._print({"target": name, "expr": expr, "stable": stable,
                             "outcome": described, "seconds": self.fastest})  # fmt: skip
        self._print({"done": True, "tries": tries,
                     "seconds": round(time.monotonic() - start, 2)})  # fmt: skip

    def search(self, spec):
        """A call per target on which the base (this module) and the head disagree."""
        signal.signal(signal.SIGALRM, ex._on_alarm)
        start, tries = time.monotonic(), 0
        head = self._variant({"source": spec.get("other", "")})
        examples = list(spec.get("examples", ()))
        for target in spec.get("targets", ()) if head is not None else ():
            name = target["qualname"]
            goal = set(target.get("lines") or range(target["start"], target["end"] + 1))
            self.goal_lines = goal
            deadline = time.monotonic() + float(target.get("seconds", 5))
            around = list(target.get("around", ()))
            values = boundaries.line_constants(around)
            strings = boundaries.line_strings(around)
            queue = [e for e in examples if e.split("(")[0].split(".")[-1] == name.split(".")[-1]]
            limit = int(spec.get("max_tries", 0)) or None
            expr, _, used = self.hunt(head, goal, values, strings, queue, deadline, [], limit)
            tries += used
            if expr is not None:
                self._print({"target": name, "expr": expr, "found": True})
        self._print({"done": True, "tries": tries, "loaded": head is not None,
                     "seconds": round(time.monotonic() - start, 2)})  # fmt: skip

    def _print(self, item):
        self.out.write("\n" + MARK + json.dumps(item) + "\n")
        self.out.flush()


def replay(spec):
    """Each call of ``spec["calls"]`` (``id``, ``module``, ``expr``) evaluated in its module."""
    signal.signal(signal.SIGALRM, ex._on_alarm)
    reruns = int(spec.get("reruns", 2))
    observers = {}  # type: dict
    start = time.monotonic()
    out = sys.stdout
    for call in spec.get("calls", ()):
        module = call["module"]
        if module not in observers:
            try:
                observers[module] = Observer({"module": module, "targets": []})
            except BaseException as exc:  # the module does not import on this side
                observers[module] = "%s: %s" % (type(exc).__name__, ex._short(str, exc))
        observer = observers[module]
        if isinstance(observer, str):
            item = {"id": call["id"], "stable": True, "outcome": {"unloadable": observer}}
        else:
            described, stable, _, _, _ = observer.stable_observe(call["expr"], reruns)
            item = {"id": call["id"], "stable": stable, "outcome": described,
                    "seconds": observer.fastest}  # fmt: skip
        out.write("\n" + MARK + json.dumps(item) + "\n")
        out.flush()
    out.write("\n" + MARK + json.dumps({"done": True, "seconds": time.monotonic() - start}))
    out.write("\n")
    out.flush()


def main(argv):
    with open(argv[1], encoding="utf-8") as handle:
        spec = json.load(handle)
    if spec.get("mode") == "replay":
        replay(spec)
    elif spec.get("mode") == "search":
        Observer(spec).search(spec)
    else:
        Observer(spec).collect(spec)


if __name__ == "__main__":
    main(sys.argv)
