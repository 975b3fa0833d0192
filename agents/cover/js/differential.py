"""Surviving mutants become targets, for JS/TS: exploration's calls made again on mutants.

Exploration (:mod:`agents.cover.js.explore`) records what a few hundred calls of a file's
exports do, and :func:`~agents.cover.js.render.keep` keeps those that run blocks no other call
ran: what covers the file, not what catches a bug in it.  Here the file's mutants (the operators
of :mod:`agents.cover.js.mutants`, over the whole file: a bug in a helper is a bug its exports
show) are each written beside the source in the sandbox copy (``lib/utils.assay-mutant-7.js``,
so its own imports resolve as the original's) and loaded, many in one run of the project's
runner, and the same calls are made on each: the kept ones first, the others only on a mutant
none of them catches.  A call whose outcome (value, error, the instance's state) differs from
the original's catches that mutant.  For the mutants no kept call catches, calls are added
greedily (the one that catches most first), each with the mutant it was added for.  A mutant
that hangs, crashes the run or cannot be loaded is left out; one that changes what the original
does afterwards (a polluted prototype) too, and the run goes on in a new process.  The gates
check the tests as they check any other.
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.cover.js.explore import RECORDS, Call, Observed, explorer_source
from agents.cover.js.mutants import all_mutants
from agents.cover.js.project import JsProject
from agents.cover.js.render import case_title, renderable
from agents.cover.js.runner import JsRunner
from agents.cover.mutants import Mutant

MUTANTS_RUN = Path(__file__).with_name("mutants_run.js").read_text(encoding="utf-8")
BATCH = 60  # mutants loaded in one run of the runner
FIRST_BATCH = 3  # the first run's, which measures how long a mutant takes
FIRST_TIMEOUT = 30.0
ADDED_PER_FILE = 24
SHOWN = 20  # calls added for a mutant listed in the report, per file


@dataclass
class Differential:
    """What the calls told apart on the mutants of one file (``path``)."""

    path: str
    mutants: int = 0
    run: int = 0  # mutants the calls were made on
    caught_by_kept: int = 0
    caught_by_added: int = 0
    left_out: int = 0  # hung, crashed the run, did not load or polluted the original
    runs: int = 0  # of the project's runner
    added: list[tuple[Observed, Mutant]] = field(default_factory=list)
    not_caught: list[Mutant] = field(default_factory=list)  # by any explored call
    seconds: float = 0.0
    error: str = ""

    def with_added(self, kept: Sequence[Observed]) -> list[Observed]:
        """``kept`` and the calls added for mutants, in the order they were planned."""
        return sorted([*kept, *(o for o, _ in self.added)], key=lambda o: o.call.id)

    def record(self) -> dict[str, Any]:
        """The report's account (``explored[].mutants``)."""
        return {
            "path": self.path, "mutants": self.mutants, "run": self.run,
            "caught_by_kept": self.caught_by_kept, "caught_by_added": self.caught_by_added,
            "left_out": self.left_out, "runs": self.runs,
            "seconds": round(self.seconds, 1), "error": self.error[:300],
            "added": [{"test": case_title(o), "mutant": f"{self.path} {m.description}"}
                      for o, m in self.added[:SHOWN]],
            "not_caught": len(self.not_caught),
            "not_caught_shown": [f"{self.path} {m.description}" for m in self.not_caught[:SHOWN]],
        }  # fmt: skip


def mutant_path(source: str, index: int) -> str:
    """Where mutant ``index`` of ``source`` is written in the sandbox copy: beside it."""
    stem, dot, ext = source.rpartition(".")
    return f"{stem}.assay-mutant-{index}.{ext}" if dot else f"{source}.assay-mutant-{index}"


def _mutant_text(source: str, mutant: Mutant) -> str:
    if source.endswith((".ts", ".tsx", ".mts", ".cts")):  # a mutant need not type-check
        return "// @ts-nocheck\n" + mutant.source
    return mutant.source


def _run_source(
    project: JsProject, test_path: str, source: str, calls: Sequence[Call], indices: Sequence[int],
    kept: Collection[int] = (),
) -> str:  # fmt: skip
    loads = []
    for m in indices:
        spec = json.dumps(project.import_path(test_path, mutant_path(source, m)))
        load = f"require({spec})" if project.import_style == "cjs" else f"import({spec})"
        loads.append(f"  [{m}, async () => {load}]")
    declared = "const __mutants = [\n" + ",\n".join(loads) + "\n];\n"
    declared += f"const __kept = new Set({json.dumps(sorted(kept))});\n"
    return explorer_source(project, test_path, source, calls, declared + MUTANTS_RUN)


def _records(data: bytes) -> list[dict[str, Any]]:
    out = []
    for line in data.decode(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("m"), int):
            out.append(record)
    return out


def _outcomes(
    runner: JsRunner, project: JsProject, source: str, mutants: Sequence[Mutant],
    calls: Sequence[Call], seconds: float, found: Differential, kept: Collection[int] = (),
) -> dict[int, set[int]]:  # fmt: skip
    """Per mutant made, the ids of the calls whose outcome differs on it: of the ``kept`` ones
    when one does (the others are not made then), else of all."""
    test_path = project.test_path_for(source).replace(".assay.", ".assay-mutants.")
    differ: dict[int, set[int]] = {}
    pending = list(range(len(mutants)))
    deadline = time.monotonic() + seconds
    pace: float | None = None  # seconds a mutant took in the last run
    overhead = 0.0  # the runner's start and the calls on the original
    while pending:
        left = deadline - time.monotonic()
        if left <= 5:
            break
        batch = pending[: BATCH if pace is not None else FIRST_BATCH]
        files = {mutant_path(source, m): _mutant_text(source, mutants[m]) for m in batch}
        files[test_path] = _run_source(project, test_path, source, calls, batch, kept)
        if pace is None:  # a first, small run tells how long a mutant takes
            timeout = FIRST_TIMEOUT + len(calls) * 0.01
        else:  # a hang costs little more than a run that does not hang
            timeout = overhead * 1.5 + 5 + len(batch) * max(4 * pace, 0.05)
        out = {"ASSAY_EXPLORE_OUT": f"{{out}}/{RECORDS}"}
        began = time.time()  # the runner's clock is the epoch too
        run = runner.run([test_path], files=files, coverage=False, env=out,
                         timeout=min(left, timeout))  # fmt: skip
        found.runs += 1
        records = _records(run.files.get(RECORDS, b""))
        started = [r["m"] for r in records if r.get("start")]
        if not started:  # the calls on the original did not finish: nothing to compare with
            found.error = run.failure(300) or "the run made no call on a mutant"
            break
        ended = set()
        for r in records:
            if "differ" in r:
                differ[r["m"]] = set(r["differ"])
                ended.add(r["m"])
            elif r.get("loaded") is False or r.get("polluted"):
                found.left_out += 1
                ended.add(r["m"])
        base = next((r for r in records if r["m"] == -1 and "t" in r), None)
        if base is not None:  # the pace of this run, a hang in it or not
            overhead = max(1.0, base["t"] / 1000 - began)  # start-up and the original's calls
            stamps = [r["t"] for r in records if "differ" in r and "t" in r]
            span = (max(stamps) - base["t"]) / 1000 if stamps else 0.0
            pace = span / len(stamps) if stamps else base.get("took", 0) / 1000 + 0.05
        unfinished = [m for m in started if m not in ended]  # the one that hung or crashed
        found.left_out += len(unfinished)
        pending = [m for m in pending if m not in ended and m not in unfinished]
        if not ended and not unfinished:
            break
    found.run = len(differ)
    return differ


def catching_calls(
    runner: JsRunner, project: JsProject, repo: Path, source: str, observed: Sequence[Observed],
    kept: Sequence[Observed], *, seconds: float, changed: Mapping[str, set[int]] | None = None,
) -> Differential:  # fmt: skip
    """The calls of ``observed`` to add to ``kept`` so that the mutants of ``source`` (of its
    ``changed`` lines only, with ``--diff``) the kept calls let live are caught."""
    started = time.monotonic()
    text = (repo / source).read_text(encoding="utf-8")
    lines = changed.get(source, set()) if changed is not None else None
    mutants = all_mutants(text, source, [(1, text.count("\n") + 1)], lines=lines)
    found = Differential(source, mutants=len(mutants))
    usable = {o.call.id: o for o in observed if renderable(o)}
    if mutants and usable:
        calls = [o.call for o in usable.values()]
        kept_ids = {o.call.id for o in kept}
        differ = _outcomes(runner, project, source, mutants, calls, seconds, found, kept_ids)
        alive = {m: ids & usable.keys() for m, ids in differ.items() if not ids & kept_ids}
        found.caught_by_kept = len(differ) - len(alive)
        found.not_caught = [mutants[m] for m, ids in sorted(alive.items()) if not ids]
        alive = {m: ids for m, ids in alive.items() if ids}
        while alive and len(found.added) < ADDED_PER_FILE:
            counts: dict[int, int] = {}
            for ids in alive.values():
                for i in ids:
                    counts[i] = counts.get(i, 0) + 1
            best = min(counts, key=lambda i: (-counts[i], len(usable[i].call.args), i))
            caught = sorted(m for m, ids in alive.items() if best in ids)
            found.added.append((usable[best], mutants[caught[0]]))
            found.caught_by_added += len(caught)
            for m in caught:
                del alive[m]
    found.seconds = time.monotonic() - started
    return found
