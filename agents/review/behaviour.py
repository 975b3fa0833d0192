"""The behaviour diff: the same calls run on a PR's base and head, each in its own sandbox.

For every Python function the diff changes (:mod:`agents.review.changes`, deletions included),
each side generates calls with the exploration engine of ``assay cover`` (the module's literals,
docstring examples, calls in the repository's tests, simple values, earlier results) and the
other side replays the same call texts (:mod:`agents.review.behaviour_driver`).  Outcomes are
compared (:mod:`agents.review.behaviour_calls`): value, exception type and message, the state of
the receiver and of mutable arguments.  A call that does not do the same thing twice on one side
is ignored.  Each changed function whose behaviour differs gets one change: its simplest
differing call (one round of simpler variants, replayed on both sides), both outcomes, and a
regression test pinning the old outcome, kept only when it passes on the base and fails on the
head.  New functions are only explored for crashes.  Budgeted per function, seeded.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.cover.explore import DRIVER as EXPLORE_DRIVER
from agents.cover.explore import literals_of
from agents.cover.targets import tests_pythonpath
from agents.errors import AssayError
from agents.gitdiff import git, parse_diff
from agents.review import behaviour_calls as bc
from agents.review.changes import ChangedFunction, changed_functions, examples_from_tests
from agents.review.report import BehaviourSection, Change
from agents.settings import Settings
from flows import Sandbox

DRIVER = Path(__file__).with_name("behaviour_driver.py")
FILES = {"_assay_explore_driver.py": EXPLORE_DRIVER, "_assay_behaviour_driver.py": DRIVER}
SPEC_FILE = "_assay_behaviour_spec.json"
TEST_FILE = "test_assay_behaviour_kept.py"
MARK = "ASSAY_BEHAVIOUR "
SHRUNK_CALLS = 3  # differing calls per function whose simpler variants are tried
SHRINK_ROUNDS = 3

SandboxFor = Callable[[Path], AbstractContextManager[Sandbox]]


@dataclass(frozen=True)
class BehaviourOptions:
    seconds: float = 4.0  # generating calls, per function and side
    max_functions: int = 20
    max_calls: int = 30  # kept per function and side
    reruns: int = 2  # a call runs 1 + reruns times per side; every run must agree
    seed: int = 0
    verify_tests: bool = True  # run the regression tests on both sides
    exclude: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> BehaviourOptions:
        """The options the settings ask for (``review_behaviour_*``), ``overrides`` on top."""
        s = settings
        values: dict[str, Any] = dict(
            seconds=s.review_behaviour_seconds, max_functions=s.review_behaviour_functions,
            exclude=tuple(s.review_exclude),
        )  # fmt: skip
        return cls(**{**values, **overrides})


class _Side:
    """One side (base or head): its tree and the sandbox over it."""

    def __init__(self, name: str, root: Path, sandbox: Sandbox, pythonpath: str) -> None:
        self.name, self.root, self.sandbox, self.pythonpath = name, root, sandbox, pythonpath

    def drive(self, spec: dict[str, Any], timeout: float) -> list[dict[str, Any]]:
        files: dict[str, str | bytes] = {k: v.read_text("utf-8") for k, v in FILES.items()}
        files[SPEC_FILE] = json.dumps(spec)
        run = self.sandbox.run(
            [str(self.sandbox.python), "_assay_behaviour_driver.py", SPEC_FILE],
            extra_files=files,
            env={"PYTHONPATH": self.pythonpath, "PYTHONHASHSEED": "0"},
            timeout=timeout,
        )
        items = []
        for line in run.output.splitlines():
            if line.startswith(MARK):
                try:
                    items.append(json.loads(line[len(MARK) :]))
                except ValueError:
                    continue
        return items

    def replay(self, calls: list[tuple[str, str]], reruns: int) -> dict[tuple[str, str], Any]:
        """``(module, expr)`` → (outcome, stable) on this side."""
        if not calls:
            return {}
        listed = [{"id": i, "module": m, "expr": e} for i, (m, e) in enumerate(calls)]
        spec = {"mode": "replay", "reruns": reruns, "calls": listed}
        found: dict[tuple[str, str], Any] = {}
        for item in self.drive(spec, timeout=60 + 2 * len(calls) * (1 + reruns)):
            if "id" in item and 0 <= item["id"] < len(calls):
                found[calls[item["id"]]] = (item["outcome"], bool(item["stable"]))
        return found

    def source(self, path: str) -> str | None:
        try:
            return (self.root / path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None


def materialise(top: Path, ref: str, dest: Path) -> Path:
    """The tree of ``ref`` (no history) in ``dest``."""
    done = subprocess.run(
        ["git", "-C", str(top), "archive", "--format=tar", ref],
        capture_output=True, timeout=300, env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
    )  # fmt: skip
    if done.returncode != 0:
        raise AssayError(
            f"could not read the base {ref} of {top}: {done.stderr.decode(errors='replace')[:200]}",
            "check that the base commit exists in the repository",
        )
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as archive:
        archive.extractall(dest, filter="data")
    return dest


@dataclass
class _Call:
    module: str
    target: str
    expr: str
    base: tuple[dict[str, Any], bool] | None = None
    head: tuple[dict[str, Any], bool] | None = None


def _collect(
    side: _Side, fns: list[ChangedFunction], opts: BehaviourOptions, seeds: dict[str, Any]
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
    except SyntaxError:
        return []
    spec = {
        "mode": "collect", "module": fns[0].module, "targets": targets,
        "literals": literals + seeds["literals"], "examples": examples + seeds["calls"],
        "seed": opts.seed, "reruns": opts.reruns, "max_calls": opts.max_calls,
    }  # fmt: skip
    timeout = 60 + opts.seconds * len(targets) * 2
    return [item for item in side.drive(spec, timeout) if "expr" in item]


IGNORED = "ignored"


def _compare(call: _Call) -> str:
    """How a call seen on both sides differs: ``""`` (the same), ``"result"``, ``"state"``, or
    ``"ignored"`` (not stable on a side, or not callable there)."""
    if call.base is None or call.head is None:
        return IGNORED
    (before, stable_b), (after, stable_h) = call.base, call.head
    if not (stable_b and stable_h and bc.comparable(before) and bc.comparable(after)):
        return IGNORED
    return bc.difference(before, after) or ""


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
    changed = [f for f in changed if f.head is not None][: opts.max_functions]
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
                "base": _Side("base", base_root, base_box, pythonpath),
                "head": _Side("head", top, head_box, pythonpath),
            }
            _run(section, changed, sides, opts, seeds)
    section.seconds = time.monotonic() - started
    return section


def _by_module(fns: Iterable[ChangedFunction]) -> dict[str, list[ChangedFunction]]:
    groups: dict[str, list[ChangedFunction]] = {}
    for f in fns:
        groups.setdefault(f.path, []).append(f)
    return groups


def _run(
    section: BehaviourSection,
    changed: list[ChangedFunction],
    sides: dict[str, _Side],
    opts: BehaviourOptions,
    seeds: dict[str, Any],
) -> None:
    calls: dict[tuple[str, str], _Call] = {}
    by_name = {(f.module, f.qualname): f for f in changed}
    for name, side in sides.items():
        for fns in _by_module(changed).values():
            for item in _collect(side, fns, opts, seeds):
                key = (fns[0].module, item["expr"])
                call = calls.setdefault(key, _Call(key[0], item["target"], key[1]))
                setattr(call, name, (item["outcome"], bool(item["stable"])))
    for name, side in sides.items():
        wanted = [
            key
            for key, call in calls.items()
            if getattr(call, name) is None
            and (by_name[(call.module, call.target)].base is not None or name == "head")
        ]
        for key, seen in side.replay(wanted, opts.reruns).items():
            setattr(calls[key], name, seen)
    per_fn: dict[tuple[str, str], list[_Call]] = {}
    for call in calls.values():
        fn = by_name.get((call.module, call.target))
        if fn is None:
            continue
        if fn.base is None:
            _crash(section, fn, call)
            continue
        verdict = _compare(call)
        if verdict == IGNORED:
            section.ignored += 1
            continue
        section.calls += 1
        if not verdict:
            section.same += 1
        else:
            per_fn.setdefault((call.module, call.target), []).append(call)
    for key, differing in per_fn.items():
        fn = by_name[key]
        compared = sum(1 for c in calls.values() if (c.module, c.target) == key)
        best = _simplest(differing, sides, opts)
        kind = _compare(best)
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


def _crash(section: BehaviourSection, fn: ChangedFunction, call: _Call) -> None:
    if call.head is None:
        return
    outcome, stable = call.head
    if not stable or outcome.get("raises") not in bc.CRASHES or outcome.get("deliberate"):
        return
    if any(c.qualname == fn.qualname and c.path == fn.path for c in section.crashes):
        return
    message = f"possible crash: `{bc._clip(call.expr)}` {bc.result_text(outcome)}"
    section.crashes.append(
        Change(fn.path, fn.qualname, fn.anchor, call.expr, {}, outcome, "crash", message=message)
    )


def _rank(call: _Call) -> tuple[int, int, str]:
    """Calls that read best first: one side returning a value over both raising, then short."""
    raised = sum(1 for seen in (call.base, call.head) if seen and "raises" in seen[0])
    return (raised == 2, len(call.expr), call.expr)


def _simplest(differing: list[_Call], sides: dict[str, _Side], opts: BehaviourOptions) -> _Call:
    """The simplest call that still tells the sides apart: rounds of simpler variants of the
    best differing calls, each replayed on both sides, while they get simpler."""
    best = sorted(differing, key=_rank)[:SHRUNK_CALLS]
    tried = {c.expr for c in differing}
    for _ in range(SHRINK_ROUNDS):
        candidates = [
            _Call(call.module, call.target, v)
            for call in best
            for v in bc.variants(call.expr)
            if v not in tried
        ]
        if not candidates:
            break
        tried |= {c.expr for c in candidates}
        keys = list(dict.fromkeys((c.module, c.expr) for c in candidates))
        for name, side in sides.items():
            seen = side.replay(keys, opts.reruns)
            for c in candidates:
                if (c.module, c.expr) in seen:
                    setattr(c, name, seen[(c.module, c.expr)])
        still = [c for c in candidates if _compare(c) not in ("", IGNORED)]
        better = sorted([c for c in still if _rank(c) < _rank(best[0])], key=_rank)
        if not better:
            break
        best = better[:SHRUNK_CALLS]
    return best[0]


def _verify_tests(changes: list[Change], sides: dict[str, _Side]) -> None:
    """Keep each change's regression test only if it passes on the base and fails on the head."""
    tests = [c for c in changes if c.test]
    if not tests:
        return
    code = "\n\n".join(c.test for c in tests)
    outcomes: dict[str, dict[str, str]] = {}
    for name, side in sides.items():
        run = side.sandbox.run_tests(
            [TEST_FILE, "-p", "no:randomly"], test_command="pytest",
            extra_files={TEST_FILE: code}, env={"PYTHONPATH": side.pythonpath}, timeout=300,
        )  # fmt: skip
        outcomes[name] = {c.nodeid.split("::")[-1]: c.outcome for c in run.tests}
    for change in tests:
        names = [line[4:].split("(")[0] for line in change.test.splitlines()
                 if line.startswith("def test_")]  # fmt: skip
        ok = names and all(
            outcomes["base"].get(n) == "passed" and outcomes["head"].get(n) == "failed"
            for n in names
        )
        if not ok:
            change.test = ""
