"""How a cover run looks on a terminal: the live view while it runs and the table at the end."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, TaskID
from rich.table import Table

from agents.cover.explore import EXPLORED_QUALNAME
from agents.cover.report import CoverReport, Percentages


class CoverDisplay:
    """The live view of a run: a progress bar over targets and one log line per verdict."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: TaskID | None = None
        self.accepted = 0
        self.rejected = 0
        self.coverage = ""
        self.current = ""

    def _status(self, doing: str) -> None:
        if self.task is not None:
            summary = f"[green]{self.accepted}✓[/green] [red]{self.rejected}✗[/red] {self.coverage}"
            self.progress.update(self.task, description=f"{summary} {doing}")

    def _log(self, message: str, **kw: Any) -> None:
        stamp = time.strftime("%H:%M:%S")
        self.progress.console.print(f"[dim]{stamp}[/dim] {message}", soft_wrap=True, **kw)

    def __call__(self, kind: str, data: dict[str, Any]) -> None:
        log = self._log
        if kind == "baseline":
            log(f"measuring the baseline: {data['command']} under coverage (branch)")
        elif kind == "baseline-done":
            p: Percentages = data["coverage"]
            log(f"baseline: line {p.line:.1f} %, branch {p.branch:.1f} %")
            self.coverage = f"{p.combined:.1f} %"
        elif kind == "allow-failing":
            log(f"[yellow]continuing without {len(data['tests'])} failing test(s)[/yellow]")
        elif kind == "targets":
            self.task = self.progress.add_task("", total=data["count"])
            log(f"{data['count']} function(s) with missed lines or branches")
        elif kind == "target":
            target = data["target"]
            if data["chain"] == 0 and self.task is not None and self.current:
                self.progress.advance(self.task)
            self.current = target.key
            self._status(f"{target.key}")
        elif kind == "attempt":
            self._status(f"{data['target'].key}: asking the model (try {data['attempt']})")
        elif kind == "gates":
            self._status(f"{data['target'].key}: running the new test in the sandbox")
        elif kind == "explore":
            self._status(f"{data['path']}: exploring (up to {data['seconds']:.0f} s, no model)")
        elif kind == "explored":
            label = data.get("pass", 1)
            if label == "mutants":
                found = f"{data['calls_kept']} of {data['calls_tried']} calls told a mutant apart"
                how = " for surviving mutants"
            else:
                found = f"{data['calls_kept']} of {data['calls_tried']} calls reached missed code"
                how = " again" if label != 1 else ""
            if data.get("error"):
                found += f" (stopped: {escape(data['error'])})"
            log(f"explored{how} {data['file']}: {found}")
        elif kind == "telling-apart":
            self._status(f"{data['path']}: the explored calls on its mutants (up to "
                         f"{data['seconds']:.0f} s)")  # fmt: skip
        elif kind == "told-apart":
            stopped = f" (stopped: {escape(data['error'])})" if data.get("error") else ""
            added = f"{data['caught_by_added']} more by {len(data['added'])} call(s) added"
            kept = f"{data['caught_by_kept']} caught by the kept ones"
            log(f"mutants of {data['path']}: {data['run']} of {data['mutants']} run through the "
                f"explored calls; {kept}, {added}{stopped}")  # fmt: skip
        elif kind == "accepted":
            self.accepted += len(data["tests"])
            cov: Percentages = data["coverage"]
            self.coverage = f"{cov.combined:.1f} %"
            gained = len(data["lines"]) + len(data["branches"])
            tests = data["tests"]
            named = ", ".join(tests) if len(tests) <= 4 else f"{len(tests)} tests"
            said = Counter(data.get("notes") or ())
            notes = "; ".join(n + (f" (×{k})" if k > 1 else "") for n, k in said.items())
            log(
                f"[green]accepted[/green] {named} for {data['target'].key}: "
                f"+{gained} lines/branches, killed {data['mutant']} → {data['path']}"
                + (f" ({escape(notes)})" if notes else "")
            )
            self._status(self.current)
        elif kind == "rejected":
            self.rejected += 1
            detail = str(data["detail"]).splitlines()[0][:100] if data["detail"] else ""
            log(f"[red]rejected[/red] ({data['reason']}) {escape(detail)}")
            self._status(self.current)
        elif kind == "round":
            log(f"round {data['round']}: {data['targets']} function(s) still missed")
            if self.task is not None:
                self.progress.reset(self.task, total=data["targets"])
                self.current = ""
        elif kind == "verify":
            log(f"running the whole suite with {', '.join(data['files'])}")
        elif kind == "rolled-back":
            log(f"[red]rolled back[/red] {', '.join(data['files'])}: the suite failed with them")
        elif kind == "mutants":
            sample = "" if data["measuring"] == data["total"] else f" (a sample of {data['total']})"
            log(f"mutation score: running {data['measuring']} mutant(s){sample} against the tests")
        elif kind == "mutation":
            score = data["score"]
            log(f"mutation score {data['which']}: {_score(score.percent)} "
                f"({score.killed} of {score.measured} mutants caught)")  # fmt: skip
        elif kind == "rewritten":
            log(f"rewrote {data['before']} → {data['after']} ({data['path']})")
        elif kind == "survivors":
            beyond = f" (and {data['beyond']} the sample left out)" if data.get("beyond") else ""
            log(f"{data['count']} surviving mutant(s){beyond} become targets")
        elif kind == "done" and self.task is not None:
            self.progress.update(self.task, completed=self.progress.tasks[0].total)


def _pct(p: Percentages | None, attr: str) -> str:
    return "-" if p is None else f"{getattr(p, attr):.1f}"


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} %"


def _mutation_cells(report: CoverReport) -> tuple[dict[str, str], str]:
    """Per file and in total, "before → after" of the mutation score (killed of measured)."""
    before = report.mutation.get("before") or {}
    after = report.mutation.get("after") or before
    cells = {}
    for path in report.files:
        b, a = before.get("files", {}).get(path), after.get("files", {}).get(path)
        if b or a:
            cells[path] = f"{_pct_of(b)} → {_pct_of(a)}"
    total = f"{_pct_of(before)} → {_pct_of(after)}" if before else "-"
    return cells, total


def _pct_of(entry: dict[str, Any] | None) -> str:
    if not entry or entry.get("score") is None:
        return "-"
    return f"{entry['score']:.1f}"


def print_report(report: CoverReport, console: Console) -> None:
    title = "coverage and mutation score" if report.mutation else "coverage"
    table = Table(title=f"assay cover: {title} before → after", show_footer=True)
    table.add_column("file", footer="total")
    tb, ta = report.total_before, report.total_after
    table.add_column("line %", justify="right", footer=f"{_pct(tb, 'line')} → {_pct(ta, 'line')}")
    table.add_column(
        "branch %", justify="right", footer=f"{_pct(tb, 'branch')} → {_pct(ta, 'branch')}"
    )
    table.add_column(
        "line+branch %",
        justify="right",
        footer=f"{_pct(tb, 'combined')} → {_pct(ta, 'combined')}",
    )
    cells, total = _mutation_cells(report)
    if report.mutation:
        table.add_column("mutation %", justify="right", footer=total)
    for path in report.files:
        b, a = report.before.get(path), report.after.get(path)
        changed = b != a
        style = "green" if changed else ""
        row = [
            path,
            f"{_pct(b, 'line')} → {_pct(a, 'line')}",
            f"{_pct(b, 'branch')} → {_pct(a, 'branch')}",
            f"{_pct(b, 'combined')} → {_pct(a, 'combined')}",
        ]
        table.add_row(*row, *([cells.get(path, "-")] if report.mutation else []), style=style)
    console.print(table)
    _print_mutation(report, console)
    rejected = ", ".join(f"{k} {v}" for k, v in sorted(report.rejected.items())) or "none"
    console.print(
        f"tests accepted: [bold]{report.accepted}[/bold]; candidates rejected: {rejected}"
    )
    console.print(
        f"tokens: {report.tokens:,}; LLM time: {report.llm_seconds:.0f} s; "
        f"wall time: {report.wall_seconds:.0f} s; stopped: {report.stopped}"
    )
    repairs = list(
        dict.fromkeys(
            (r["target"], c["model"], c["observed"])
            for r in report.oracle_repairs
            for c in r["changes"]
        )
    )
    if repairs:
        console.print(
            f"{len(repairs)} expected value(s) came from the code's observed behaviour, not the "
            "model's: review them, a disagreement can be a bug in the code"
        )
        for target, expected, observed in repairs[:10]:
            who = "exploration" if target.endswith(f"::{EXPLORED_QUALNAME}") else "model"
            console.print(
                f"  {target}: {who} expected {expected}, code gave {observed}",
                soft_wrap=True,
                markup=False,
            )
    if report.written:
        console.print(f"written: {', '.join(report.written)}")
    if report.rolled_back:
        console.print(f"[red]rolled back[/red] (the suite failed with them): {report.rolled_back}")
    for path, why in report.skipped:
        console.print(f"[yellow]skipped[/yellow] {path}: {why}")


def _print_mutation(report: CoverReport, console: Console) -> None:
    after = report.mutation.get("after") or report.mutation.get("before")
    if not after:
        return
    sample = (
        f"; a seeded sample of {after['measured']} of {after['total']} mutants"
        if after.get("sampled")
        else ""
    )
    survivors = report.mutation.get("survivors", [])
    console.print(
        f"mutants caught: {after['killed']} of {after['measured']}{sample}; "
        f"{len(survivors)} survive (--report lists each with its diff: an equivalent mutant "
        "changes nothing observable and cannot be caught)"
    )
    if report.mutation.get("not_rerun"):
        console.print(
            f"{report.mutation['not_rerun']} survivor(s) were not measured again within the time "
            "budget and count as alive (a longer --max-minutes measures them)"
        )
    kept = report.mutation.get("tests_for_mutants", {})
    if kept:
        console.print(f"{len(kept)} test(s) were written for a surviving mutant")
    beyond = report.mutation.get("beyond_sample") or {}
    if beyond.get("searched"):
        console.print(
            f"beyond the sample: {beyond['searched']} more mutant(s) searched, "
            f"{beyond['caught']} already told apart by the explored tests' calls, "
            f"{len(beyond['killed'])} killed by a new test (not in the score above)"
        )
    rewrite = report.rewrite
    if rewrite.get("tried"):
        refused = sorted((rewrite.get("refused") or {}).items(), key=lambda kv: (-kv[1], kv[0]))
        why = "; ".join(f"{reason} {count}" for reason, count in refused)
        console.print(
            f"readable rewrite: {rewrite['kept']} of {rewrite['tried']} explored test(s) "
            f"rewritten by the model ({rewrite['tokens']:,} tokens); the rest kept as written"
            + (f" (not kept: {why})" if why else "")
        )
