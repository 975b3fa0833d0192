"""The behaviour diff: the same calls run on a PR's base and head, each in its own sandbox.

For every Python function the diff changes (:mod:`agents.review.changes`, deletions included),
each side generates calls with the exploration engine of ``assay cover`` (the module's literals,
docstring examples, calls in the repository's tests, simple values, earlier results) and the
other side replays the same call texts (:mod:`agents.review.behaviour_driver`).  Outcomes are
compared (:mod:`agents.review.behaviour_calls`): value, exception type and message, the state of
the receiver and of mutable arguments.  A call that does not do the same thing twice on one side
is ignored, and one that differs counts only after nine more runs a side, in new processes, all
did what its first run did (a random result must not pass for a change).  Each changed function
whose behaviour differs gets one change: its simplest differing call (one round of simpler
variants, replayed on both sides), both outcomes, and a regression test pinning the old outcome,
kept only when it passes on the base and fails on the head.  New functions are only explored for
crashes.  Budgeted per function, seeded.
"""

from __future__ import annotations

import ast
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from agents.cover.explore import literals_of
from agents.cover.targets import tests_pythonpath
from agents.errors import AssayError
from agents.gitdiff import git, parse_diff
from agents.review import behaviour_calls as bc
from agents.review.behaviour_search import search
from agents.review.behaviour_tally import IGNORED, Call, compare, tally, timings
from agents.review.changes import ChangedFunction, changed_functions, examples_from_tests
from agents.review.report import BehaviourSection, Change
from agents.review.sides import SandboxFor, Side, materialise, run_pytest
from agents.settings import Settings

TEST_FILE = "test_assay_behaviour_kept.py"
SHRUNK_CALLS = 3  # differing calls per function whose simpler variants are tried
SHRINK_ROUNDS = 3
# A call that differs is run again on both sides, in a new process, this many more times before
# it counts: a coin toss agrees with itself over three runs one time in four, over nine one
# time in 256, and a result that hangs on the process (its id, the clock) changes with it.
CONFIRM_RERUNS = 8


@dataclass(frozen=True)
class BehaviourOptions:
    seconds: float = 4.0  # generating calls, per function and side
    max_functions: int = 20
    max_calls: int = 30  # kept per function and side
    reruns: int = 2  # a call runs 1 + reruns times per side; every run must agree
    # Tries per function and side (most are rejected at once: ~1,000 a second on one core):
    # the same seed then makes the same calls on every run; ``seconds`` only cuts a slow one.
    max_tries: int = 2000
    seed: int = 0
    verify_tests: bool = True  # run the regression tests on both sides
    exclude: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> BehaviourOptions:
        """The options the settings ask for (``review_behaviour_*``), ``overrides`` on top."""
        s = settings
        values: dict[str, Any] = dict(
            seconds=s.review_behaviour_seconds, max_functions=s.review_behaviour_functions,
            max_tries=s.review_behaviour_tries,
            exclude=tuple(s.review_exclude),
        )  # fmt: skip
        return cls(**{**values, **overrides})


def _collect(
    side: Side, fns: list[ChangedFunction], opts: BehaviourOptions, seeds: dict[str, Any]
) -> list[dict[str, Any]]:
    """Calls generated on ``side`` for ``fns`` (all of one module), with their outcomes."""
    on_side = [(f, f.base if side.name == "base" else f.head) for f in fns]
    targets = [
        {"qualname": f.qualname, "start": span.start, "end": span.end, "seconds": opts.seconds}
        for f, span in on_side
        if span is not None
    ]
    path = fns[0].old_path if side.name == "base" else fns[0].path
    source = side.source(path)
    if not targets or source is None:
        return []
    try:
        literals, examples = literals_of(source)
        if side.name == "head":  # what the code, its docs and its tests use: plausible inputs
            seeds.setdefault("plausible", set()).update(literals, seeds["literals"])
    except SyntaxError:
        return []
    spec = {
        "mode": "collect", "module": fns[0].module, "targets": targets,
        "literals": literals + seeds["literals"], "examples": examples + seeds["calls"],
        "seed": opts.seed, "reruns": opts.reruns, "max_calls": opts.max_calls,
        "max_tries": opts.max_tries,
    }  # fmt: skip
    timeout = 60 + opts.seconds * len(targets) * 2
    return [item for item in side.drive(spec, timeout) if "expr" in item]


def behaviour_diff(
    repo: Path,
    base: str,
    diff: str,
    sandbox_for: SandboxFor,
    options: BehaviourOptions | None = None,
) -> BehaviourSection:
    """Compare the behaviour of the functions ``diff`` changes between ``base`` and ``repo``'s
    working tree (the head)."""
    opts = options or BehaviourOptions()
    started = time.monotonic()
    top = Path(git(repo, "rev-parse", "--show-toplevel").strip()).resolve()
    section = BehaviourSection()

    def base_source(path: str) -> str | None:
        try:
            return git(top, "show", f"{base}:{path}")
        except AssayError:
            return None

    def head_source(path: str) -> str | None:
        try:
            return (top / path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    files = parse_diff(diff)
    changed, problems = changed_functions(files, base_source, head_source, top,
                                          exclude=opts.exclude)  # fmt: skip
    changed = [f for f in changed if _callable_on_head(f, head_source)][: opts.max_functions]
    if not changed:
        section.note = "no changed Python function to call"
        if problems:
            section.note += f" ({problems[0][0]} {problems[0][1]})"
        return section
    section.functions = sum(1 for f in changed if f.base is not None)
    section.new_functions = sum(1 for f in changed if f.base is None)
    seeds_calls, seeds_literals = examples_from_tests(top, [f.qualname for f in changed])
    seeds = {"calls": seeds_calls, "literals": seeds_literals}
    pythonpath = tests_pythonpath(top, sorted({f.path for f in changed}))
    with tempfile.TemporaryDirectory(prefix="assay-base-") as tmp:
        base_root = materialise(top, base, Path(tmp) / top.name)
        with sandbox_for(base_root) as base_box, sandbox_for(top) as head_box:
            sides = {
                "base": Side("base", base_root, base_box, pythonpath),
                "head": Side("head", top, head_box, pythonpath),
            }
            _run(section, changed, sides, opts, seeds)
    section.seconds = time.monotonic() - started
    return section


T = TypeVar("T")


def _callable_on_head(fn: ChangedFunction, head_source: Callable[[str], str | None]) -> bool:
    """A function the head still has, or a method the head removed from a class it kept: its
    base calls are replayed on the head, where the name resolves to what the class inherits
    (``OrderedMultiDict.__reduce__`` deleted: ``dict``'s, which loses the repeated values)."""
    if fn.head is not None:
        return True
    owner, _, _ = fn.qualname.rpartition(".")
    if not owner or fn.base is None:
        return False
    text = head_source(fn.path)
    try:
        tree = ast.parse(text) if text is not None else None
    except (SyntaxError, ValueError):
        return False
    return tree is not None and any(
        isinstance(node, ast.ClassDef) and node.name == owner for node in tree.body
    )


def _on_both(sides: dict[str, Side], work: Callable[[Side], T]) -> dict[str, T]:
    """``work`` on each side, the two at once (each is a sandboxed process of its own)."""
    with ThreadPoolExecutor(max_workers=len(sides)) as pool:
        futures = {name: pool.submit(work, side) for name, side in sides.items()}
        return {name: future.result() for name, future in futures.items()}


def _by_module(fns: Iterable[ChangedFunction]) -> dict[str, list[ChangedFunction]]:
    groups: dict[str, list[ChangedFunction]] = {}
    for f in fns:
        groups.setdefault(f.path, []).append(f)
    return groups


def _run(
    section: BehaviourSection,
    changed: list[ChangedFunction],
    sides: dict[str, Side],
    opts: BehaviourOptions,
    seeds: dict[str, Any],
) -> None:
    calls: dict[tuple[str, str], Call] = {}
    by_name = {(f.module, f.qualname): f for f in changed}
    groups = list(_by_module(changed).values())

    def collect(side: Side) -> list[tuple[str, dict[str, Any]]]:
        return [
            (fns[0].module, item) for fns in groups for item in _collect(side, fns, opts, seeds)
        ]

    for name, found in _on_both(sides, collect).items():
        for module, item in found:
            call = calls.setdefault(
                (module, item["expr"]), Call(module, item["target"], item["expr"])
            )
            setattr(call, name, (item["outcome"], bool(item["stable"])))
            sides[name].seconds[(module, item["expr"])] = float(item.get("seconds") or 0.0)

    def replay(side: Side) -> dict[tuple[str, str], Any]:
        wanted = [
            key
            for key, call in calls.items()
            if getattr(call, side.name) is None
            and (by_name[(call.module, call.target)].base is not None or side.name == "head")
        ]
        return side.replay(wanted, opts.reruns)

    for name, seen in _on_both(sides, replay).items():
        for key, value in seen.items():
            setattr(calls[key], name, value)
    _confirm(calls.values(), sides)
    per_fn: dict[tuple[str, str], list[Call]] = {}
    compared_per_fn: dict[tuple[str, str], int] = {}
    count = partial(tally, section, by_name, seeds, per_fn, compared_per_fn)
    count(calls.values())
    # The functions whose calls all behaved the same: a search for a call that tells them
    # apart, each found call replayed on both sides like the others.
    quiet = [f for f in changed if f.base is not None and (f.module, f.qualname) not in per_fn]
    leads: dict[tuple[str, str], Call] = {}
    for fns in _by_module(quiet).values():
        for target, expr in search(fns, sides["base"], sides["head"], opts.seconds,
                                   opts.max_tries, opts.seed, seeds):  # fmt: skip
            if (fns[0].module, expr) not in calls:
                leads[(fns[0].module, expr)] = Call(fns[0].module, target, expr)
    section.searched = len(quiet)
    if leads:
        keys = list(leads)
        for name, seen in _on_both(sides, partial(_replay, keys=keys, reruns=opts.reruns)).items():
            for key, value in seen.items():
                setattr(leads[key], name, value)
        _confirm(leads.values(), sides)
        count(leads.values())
        calls.update(leads)
        section.found = sum(1 for f in quiet if (f.module, f.qualname) in per_fn)
    for key, n in compared_per_fn.items():
        fn = by_name[key]
        if key not in per_fn and fn.head is not None:  # every compared call behaved the same
            section.unchanged.append([fn.path, fn.head.start, fn.head.end, n])
    section.timings = timings(calls.values(), by_name, sides)
    for key, differing in per_fn.items():
        fn = by_name[key]
        compared = sum(1 for c in calls.values() if (c.module, c.target) == key)
        best = _simplest(differing, sides, opts)
        kind = compare(best)
        assert best.base is not None and best.head is not None
        before, after = best.base[0], best.head[0]
        change = Change(fn.path, fn.qualname, fn.anchor, best.expr, before, after, kind)
        change.differing, change.compared = len(differing), compared
        change.message = bc.change_message(change.expr, change.before, change.after, kind)
        change.test = bc.regression_test(change.expr, change.before, kind, fn.qualname,
                                         fn.module) or ""  # fmt: skip
        section.changes.append(change)
    if opts.verify_tests:
        _verify_tests(section.changes, sides)
    section.changes.sort(key=lambda c: (c.path, c.line))


def _replay(side: Side, keys: list[tuple[str, str]], reruns: int) -> dict[tuple[str, str], Any]:
    return side.replay(keys, reruns)


def _confirm(calls: Iterable[Call], sides: dict[str, Side]) -> None:
    """The calls that differ, run again on both sides (``CONFIRM_RERUNS``): a side's outcome
    stays stable only if every new run did exactly what the first run did; one not replayed
    (the sandbox failed) is no longer stable.  The others are left as they are."""
    differing = {(c.module, c.expr): c for c in calls if compare(c) not in ("", IGNORED)}
    if not differing:
        return
    keys = list(differing)
    again = _on_both(sides, partial(_replay, keys=keys, reruns=CONFIRM_RERUNS))
    for name, seen in again.items():
        for key, call in differing.items():
            first = getattr(call, name)
            now = seen.get(key)
            stable = now is not None and now[1] and bc.same(first[0], now[0])
            setattr(call, name, (first[0], stable))


def _rank(call: Call) -> tuple[int, int, str]:
    """Calls that read best first: one side returning a value over both raising, then short."""
    raised = sum(1 for seen in (call.base, call.head) if seen and "raises" in seen[0])
    return (raised == 2, len(call.expr), call.expr)


def _simplest(differing: list[Call], sides: dict[str, Side], opts: BehaviourOptions) -> Call:
    """The simplest call that still tells the sides apart: rounds of simpler variants of the
    best differing calls, each replayed on both sides, while they get simpler."""
    best = sorted(differing, key=_rank)[:SHRUNK_CALLS]
    tried = {c.expr for c in differing}
    for _ in range(SHRINK_ROUNDS):
        candidates = [
            Call(call.module, call.target, v)
            for call in best
            for v in bc.variants(call.expr)
            if v not in tried
        ]
        if not candidates:
            break
        tried |= {c.expr for c in candidates}
        keys = list(dict.fromkeys((c.module, c.expr) for c in candidates))
        replayed = _on_both(sides, partial(_replay, keys=keys, reruns=opts.reruns))
        for name, seen in replayed.items():
            for c in candidates:
                if (c.module, c.expr) in seen:
                    setattr(c, name, seen[(c.module, c.expr)])
        _confirm(candidates, sides)
        still = [c for c in candidates if compare(c) not in ("", IGNORED)]
        better = sorted([c for c in still if _rank(c) < _rank(best[0])], key=_rank)
        if not better:
            break
        best = better[:SHRUNK_CALLS]
    return best[0]


def _verify_tests(changes: list[Change], sides: dict[str, Side]) -> None:
    """Keep each change's regression test only if it passes on the base and fails on the head."""
    tests = [c for c in changes if c.test]
    if not tests:
        return
    code = "\n\n".join(c.test for c in tests)

    def run(side: Side) -> dict[str, str]:
        found, _ = run_pytest(
            side.sandbox, "pytest", args=[TEST_FILE, "-p", "no:randomly"],
            files={TEST_FILE: code}, pythonpath=side.pythonpath, timeout=300,
        )  # fmt: skip
        return {nodeid.split("::")[-1]: outcome for nodeid, outcome in found.items()}

    outcomes = _on_both(sides, run)
    for change in tests:
        names = [line[4:].split("(")[0] for line in change.test.splitlines()
                 if line.startswith("def test_")]  # fmt: skip
        ok = names and all(
            outcomes["base"].get(n) == "passed" and outcomes["head"].get(n) == "failed"
            for n in names
        )
        if not ok:
            change.test = ""
