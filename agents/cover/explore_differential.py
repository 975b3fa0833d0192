"""Differential exploration, for the explore driver (shipped beside it): the original against a
mutant.

For each mutant of the spec the driver searches a call the mutant gets wrong (an outcome other
than the original's) and prints it as a kept call that ``kills`` the mutant.  The search tries,
in this order:

1. the docstring examples;
2. the calls that reached the mutant's line before, for an earlier mutant (mutants share lines:
   ``if exponent >= 33 or exponent < -30`` has four);
3. calls near the line's constants: each call that reaches the line without telling the two
   apart is tried again with its numbers moved onto the line's boundaries, the numbers of the
   module's constants its function names, and with its strings made the line's
   (:mod:`explore_boundaries`);
4. random calls, most of them of the function that holds the line (``FOCUS``): a mutant is
   reached through its own function far more often than through any other.

The search for one mutant is :meth:`Differential.hunt`, which ``assay review``'s behaviour diff
also runs (the base against the head's module).  A mutant told apart early leaves its time to
the ones after it.  Mutants marked ``beyond`` (the
mutation score's sample left them out) come last, with ``BEYOND_WEIGHT`` of a share each, and are
not searched at all when one of the spec's ``known`` calls (the suite's explored tests) already
tells them apart: the suite catches them.

A mixin of the driver's ``Explorer`` (``ns``, ``_run``, ``_call``, ``_learn``, ``_emit``,
``_shrink``, ``_variant``, ``_seen``, ``_pick`` and ``actions``).  Standalone like the driver:
the standard library only, Python 3.8 syntax.
"""

import dis
import inspect
import linecache
import time
import typing

try:  # shipped beside the driver into the sandbox
    import _assay_explore_boundaries as boundaries
except ImportError:  # run from assay's source tree
    import explore_boundaries as boundaries

FOCUS = 40  # a random call's weight for the function holding the mutated line (others: 1)
REMEMBERED = 12  # calls that reached a line, kept for the next mutant on it
UNNAMED = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
WIDENED = 8  # calls that reached the line, tried again on its boundaries, per mutant
SHRINK_SECONDS = 2.0  # making a found call simpler, at most (each try runs it four times)
BEYOND_WEIGHT = 0.3  # a mutant beyond the sample: its share of the time against a sampled one


class Differential:
    # What the driver's Explorer provides (annotations only: nothing at run time).
    spec: typing.Any
    ns: typing.Any
    tracer: typing.Any
    actions: typing.Any
    outside: bool
    goal_lines: typing.Any
    _run: typing.Any
    _call: typing.Any
    _pick: typing.Any
    _learn: typing.Any
    _emit: typing.Any
    _shrink: typing.Any
    _variant: typing.Any
    _seen: typing.Any
    _summary: typing.Any

    def _tells_apart(self, expr, variant):
        """The original's outcome when ``expr`` does one stable thing on the original and
        another stable thing on the mutant; else None.  The original must return, or raise
        on purpose: a call that only chokes on a wrong argument (a ``TypeError`` deep in an
        expression) tells nothing a person would keep, even when the message differs."""
        original, _, _ = self._run(expr)
        if original[0] in ("timeout", "blocked") or self.outside:
            return None
        if original[0] == "raises" and not original[2]:
            return None
        mutated, _, _ = self._run(expr, variant)
        seen = self._seen(original)
        if self._seen(mutated) == seen:
            return None
        again, _, _ = self._run(expr)
        mutated_again, _, _ = self._run(expr, variant)
        if self._seen(again) != seen or self._seen(mutated_again) != self._seen(mutated):
            return None  # one side does not do the same thing twice: no test can tell
        return original

    def _named(self, line, source, cache):
        """The numbers of the module's constants that the innermost function holding ``line``
        names (:func:`explore_boundaries.named_constants`), once per function (``cache``)."""
        first, last = self._span(line)
        if not last:
            return []
        if (first, last) not in cache:
            module = {k: v for k, v in self.ns.items() if not k.startswith("__")}
            cache[(first, last)] = boundaries.named_constants(source[first - 1 : last], module)
        return cache[(first, last)]

    def _innermost(self, line):
        """The action of the innermost function holding ``line``, or None."""
        spans = [(a.get("end", 0) - a.get("start", 0), i) for i, a in enumerate(self.actions)
                 if a.get("start", 0) <= line <= a.get("end", 0)]  # fmt: skip
        return self.actions[min(spans)[1]] if spans else None

    def _parameters(self, line):
        """The parameter names, in order, of the innermost function holding ``line``."""
        obj = (self._innermost(line) or {}).get("obj")
        if not callable(obj):
            return []
        try:
            signature = inspect.signature(obj)
        except (TypeError, ValueError):  # a builtin, a class without a signature
            return []
        return [p.name for p in signature.parameters.values() if p.kind not in UNNAMED]

    def _span(self, line):
        """(first, last) line of the innermost function holding ``line``; (0, 0) for none."""
        action = self._innermost(line)
        return (action.get("start", 0), action.get("end", 0)) if action else (0, 0)

    def _known_lines(self, calls, end):
        """(call, the lines it runs) of the suite's explored ``calls``, as many as time allows
        before ``end`` (a slow one costs a whole call's limit)."""
        out = []
        for expr in calls:
            if time.monotonic() > end:
                break
            out.append((expr, set(self._run(expr)[1])))
        return out

    def _caught(self, known, goal, variant, end):
        """Whether a known call that runs a ``goal`` line tells ``variant`` apart, asked while
        time is left before ``end``: a mutant that loops makes each such call a whole limit."""
        for expr, ran in known:
            if time.monotonic() > end:
                return False
            if goal & ran and self._tells_apart(expr, variant) is not None:
                return True
        return False

    def _goal(self, line):
        """The lines a call must run to reach ``line``: the line itself, and, when ``line`` is
        in a signature (a default value: never run at call time), the first line of that
        function's body."""
        goal = {line}
        for action in self.actions:
            code = getattr(action.get("obj"), "__code__", None)
            if code is None or not action.get("start", 0) <= line <= action.get("end", 0):
                continue
            body = [n for _, n in dis.findlinestarts(code) if n and n > code.co_firstlineno]
            if body and line < min(body):  # before the body: part of the signature
                goal.add(min(body))
        return goal

    def hunt(self, variant, goal, values, strings, queue, deadline, seen, max_tries=None,
             powers=(), params=(), function=frozenset()):  # fmt: skip
        """(call, its action, tries) of the first call that tells ``variant`` apart from the
        original, made as simple as it still does; (None, None, tries) when ``deadline`` or
        ``max_tries`` comes first.  The calls of ``queue`` go first, then random ones weighted
        onto the functions holding ``goal`` (line numbers); each call that reaches a goal line
        without telling the two apart is remembered in ``seen`` (latest first).  The first
        ``WIDENED`` calls that reach a goal line or another of ``function`` (the lines of the
        function holding it: a branch's body is reached only by calls it is missing) are
        tried again without each keyword argument, with the line's ``params`` set, and on
        ``values``, ``strings`` and ``powers`` (:func:`explore_boundaries.near_calls`)."""
        near, widened, tries = [], set(), 0  # type: list[str], set[str], int
        while time.monotonic() < deadline and (max_tries is None or tries < max_tries):
            expr = None  # type: typing.Optional[str]
            if queue or near:
                expr = queue.pop(0) if queue else near.pop(0)
                action = {"qualname": expr.split("(")[0]}
            else:
                action = self._pick(set(), focus=FOCUS)
                expr = self._call(action) if action else None
            tries += 1
            if expr is None:
                if not self.actions:
                    break  # nothing to call (the examples are spent)
                continue
            if self._tells_apart(expr, variant) is None:
                again, lines, _ = self._run(expr)
                if not self.outside:
                    self._learn(action, expr, again)
                if goal & set(lines):
                    _remember(seen, expr)
                near_line = (goal | function) & set(lines)
                if near_line and expr not in widened and len(widened) < WIDENED:
                    widened.add(expr)  # it reaches the line: try it on the boundaries
                    near.extend(boundaries.near_calls(expr, values, strings, powers, params))
                continue
            expr = self._shrink(
                expr, lambda e: self._tells_apart(e, variant) is not None, seconds=SHRINK_SECONDS
            )
            _remember(seen, expr)
            return expr, action, tries
        return None, None, tries

    def differential(self, seconds):
        """Search, for each mutant of the spec in turn, a call that tells it apart (see the
        module); print each found as a kept call, then the summary."""
        start, tries = time.monotonic(), 0
        mutants = list(self.spec.get("mutants", ()))
        examples = list(self.spec.get("examples", ()))
        source = linecache.getlines(self.tracer.filename)
        reaching = {}  # type: dict[int, list[str]]
        named = {}  # type: dict[tuple[int, int], list[float]]
        weights = [BEYOND_WEIGHT if m.get("beyond") else 1.0 for m in mutants]
        known = None  # type: typing.Optional[list[tuple[str, set[int]]]]
        caught = 0
        for index, mutant in enumerate(mutants):
            if time.monotonic() - start > seconds:
                break  # the time is spent: the summary, before the run's own limit
            if index:
                self._summary(tries, start, done=False, caught=caught)
            variant = self._variant(mutant)
            if variant is None:
                continue
            line = mutant["line"]
            goal = self._goal(line)
            if mutant.get("beyond"):
                end = start + seconds
                if known is None:  # the lines each of the suite's calls runs, once
                    known = self._known_lines(self.spec.get("known", ()), end)
                if self._caught(known, goal, variant, end):
                    caught += 1
                    continue
            self.goal_lines = goal
            left = seconds - (time.monotonic() - start)
            share = weights[index] / sum(weights[index:])
            deadline = time.monotonic() + max(0.0, left) * share
            around = [source[line - 1]] if 0 < line <= len(source) else []
            mutated = mutant["source"].splitlines()
            around += [mutated[line - 1]] if 0 < line <= len(mutated) else []
            first, last = self._span(line)
            around += boundaries.conditions_over(source[first - 1 : last], first, line)
            values = boundaries.line_constants(around)
            values += [v for v in self._named(line, source, named) if v not in values]
            powers = boundaries.exponent_values(source[first - 1 : last] if last else [], values)
            strings = boundaries.line_strings(around)
            params = boundaries.line_parameters(around, self._parameters(line))
            queue = examples + [e for e in reaching.get(line, ()) if e not in examples]
            seen = reaching.setdefault(line, [])
            expr, action, used = self.hunt(variant, goal, values, strings, queue, deadline, seen,
                                           powers=powers, params=params,
                                           function=set(range(first, last + 1)))  # fmt: skip
            tries += used
            if expr is not None:
                outcome = self._run(expr)[0]
                self._emit(action, expr, outcome, set(), set(), self.outside, kills=mutant["id"])
        self._summary(tries, start, caught=caught)


def _remember(calls, expr):
    """``expr`` first among the ``REMEMBERED`` latest calls that reached a line."""
    if expr in calls:
        calls.remove(expr)
    calls.insert(0, expr)
    del calls[REMEMBERED:]
