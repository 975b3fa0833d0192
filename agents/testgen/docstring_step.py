"""The docstring's step of an ``assay tests`` run (:mod:`agents.testgen.docstring`), at once or
after the explored tests' gates.

:meth:`DocstringStep.now` asks the model what the docstring states that exploration did not
show, runs those claims and the ``>>>`` examples in the sandbox, reports what the code
contradicts as possible bugs and returns the behaviours it bears out.  When nobody picks
(``--all``, the service, the editor unless it asks), :meth:`DocstringStep.defer` leaves the model
call for :meth:`DocstringStep.later`, after the explored tests are written: the first test does
not wait for the model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agents.testgen.docstring import MAX_CLAIMS, check_claims, docstring_claims, docstring_of
from agents.testgen.report import BehaviourResult, TestgenReport
from agents.testgen.symbols import Symbol
from flows import Behaviour, FlowRunner, Sandbox

Listener = Callable[[str, dict[str, Any]], None]


@dataclass
class DocstringStep:
    runner: FlowRunner
    sandbox: Sandbox
    symbol: Symbol
    source: str
    module: str
    pythonpath: str
    report: TestgenReport
    emit: Listener
    limit: int  # behaviours the model may add
    enabled: bool = True
    _header: str | None = None  # set by defer(): the call left for later()

    def now(self, known: list[Behaviour], header: str) -> list[Behaviour]:
        """What only the model adds: behaviours the docstring states that exploration
        (``known``) did not show; the ``>>>`` examples and those claims are run, and what the
        code contradicts is reported as a possible bug."""
        if not self.enabled or not docstring_of(self.source, self.symbol):
            return []
        # Without exploration's behaviours the model lists them all (docstring included).
        claims = docstring_claims(
            self.runner, self.symbol, self.source, self.module, header, known,
            min(self.limit, MAX_CLAIMS),
        ) if known else []  # fmt: skip
        agreed, wrong = check_claims(
            self.sandbox, self.module, self.symbol.qualname, claims, self.pythonpath
        )
        for item in wrong:
            self.report.possible_bugs.append(item.as_dict())
            self.emit("possible-bug", {"line": item.line, **item.as_dict()})
        return agreed

    def defer(self, header: str) -> None:
        self._header = header

    def later(self, results: dict[int, BehaviourResult]) -> list[Behaviour]:
        """The deferred step's behaviours, added to the report's list and ``results``;
        announced as ``behaviours`` with the number of the first."""
        if self._header is None:
            return []
        header, self._header = self._header, None
        more = self.now(list(self.report.behaviours), header)
        if more:
            start = len(self.report.behaviours) + 1
            self.report.behaviours = [*self.report.behaviours, *more]
            for behaviour in more:
                results[id(behaviour)] = BehaviourResult(behaviour)
                self.report.results.append(results[id(behaviour)])
            self.emit("behaviours", {"behaviours": more, "start": start})
        return more
