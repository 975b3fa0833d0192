"""The mutant gate: a candidate must fail against a mutant of its target.

Two forms.  Any mutant: a few simple mutants of the lines the candidate runs; the first one it
kills is named (a test that asserts nothing kills none).  Named mutants (a survivor of the
suite the candidate was written for): each must be killed by the candidate — by the test kept
for it, when the candidate says which test is for which mutant; a test whose mutant survives is
dropped from the candidate, and a candidate that kills none of its mutants is rejected.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from agents.cover.candidate import keep_tests, test_names
from agents.cover.mutant_runs import run_mutants
from agents.cover.mutants import mutants_for
from agents.cover.targets import Target
from flows import Sandbox

MUTANT_SECONDS = 30.0  # one run against a mutant, at most


@dataclass(frozen=True)
class NamedMutant:
    """A mutant the candidate was written to kill."""

    id: str
    path: str
    source: str  # the whole mutated module
    description: str = ""


@dataclass
class KillResult:
    killed: list[str]  # descriptions (any mutant) or ids (named mutants) that failed a test
    tried: list[str]
    code: str  # the candidate, without the tests whose named mutant survived
    runs: int = 0
    extra: dict[str, list[str]] = field(default_factory=dict)  # test → mutants it also caught


Files = Callable[..., dict[str, str]]


class MutantGate:
    def __init__(self, sandbox: Sandbox, env: Mapping[str, str], timeout: float) -> None:
        self.sandbox, self.env, self.timeout = sandbox, dict(env), min(timeout, MUTANT_SECONDS)

    def _run(
        self,
        files: dict[str, str],
        runs: Sequence[tuple[str, NamedMutant, str]],
        first: bool,
        failed: dict[str, str] | None = None,
    ) -> set[str]:
        """The keys of ``runs`` (key, mutant, pytest argument) whose mutant the tests caught
        (failed, errored or hung), all in one driver run (``failed``: see :func:`run_mutants`)."""
        specs = [
            {"id": key, "path": m.path, "source": m.source, "tests": [arg],
             "timeout": self.timeout}
            for key, m, arg in runs
        ]  # fmt: skip
        found = run_mutants(self.sandbox, specs, files, self.env, first=first, failed=failed)
        return {key for key, status in found.items() if status != "survived"}

    def any_mutant(
        self,
        files: Files,
        path: str,
        code: str,
        target: Target,
        executed: set[int] | None,
        limit: int,
    ) -> KillResult:
        """The first of a few simple mutants of ``target`` that the candidate kills."""
        source = (self.sandbox.repo / target.path).read_text(encoding="utf-8")
        mutants = mutants_for(source, target.start, target.end, lines=executed, limit=limit)
        result = KillResult([], [m.description for m in mutants], code, runs=1 if mutants else 0)
        runs = [(str(n), NamedMutant(str(n), target.path, m.source), path)
                for n, m in enumerate(mutants)]  # fmt: skip
        caught = self._run(files(path, code), runs, first=True)
        result.killed = [m.description for n, m in enumerate(mutants) if str(n) in caught][:1]
        return result

    def named(
        self,
        files: Files,
        path: str,
        code: str,
        mutants: Sequence[NamedMutant],
        kills: Mapping[str, str] | None = None,
    ) -> KillResult:
        """Which of ``mutants`` the candidate kills; with ``kills`` (test name → mutant id)
        each test is run against its own mutants (``", "``-joined ids), and the tests that kill
        nothing go."""
        result = KillResult([], [m.description or m.id for m in mutants], code)
        names = set(test_names(ast.parse(code)))
        by_id = {m.id: m for m in mutants}
        if kills:
            keep: set[str] = {name for name in names if name not in kills}
            wanted = [(name, i) for name, ids in kills.items() for i in ids.split(", ")]
            pairs = [
                (str(n), by_id[mutant_id], f"{path}::{name}", name)
                for n, (name, mutant_id) in enumerate(wanted)
                if mutant_id in by_id and name in names
            ]
            hits = self._run(files(path, code), [(k, m, arg) for k, m, arg, _ in pairs], False)
            result.runs += 1 if pairs else 0
            for key, mutant, _, name in pairs:
                if key in hits:
                    keep.add(name)
                    if mutant.id not in result.killed:
                        result.killed.append(mutant.id)
            # A test may also catch a mutant it was not written for: the rest, against the
            # tests kept, in one driver run (which test caught each: the first that failed).
            rest = [m for m in mutants if m.id not in result.killed]
            if rest and keep:
                kept = keep_tests(code, keep) if keep != names else code
                failed: dict[str, str] = {}
                hits = self._run(files(path, kept), [(m.id, m, path) for m in rest], False, failed)
                result.runs += 1
                for mutant in rest:
                    if mutant.id not in hits:
                        continue
                    result.killed.append(mutant.id)
                    caught = failed.get(mutant.id, "").split("::")[-1].split("[")[0]
                    if caught in keep:
                        result.extra[caught] = [*result.extra.get(caught, []), mutant.id]
            if keep != names:
                result.code = keep_tests(code, keep) if keep else ""
            return result
        hits = self._run(files(path, code), [(m.id, m, path) for m in mutants], False)
        result.runs += 1 if mutants else 0
        result.killed = [m.id for m in mutants if m.id in hits]
        return result
