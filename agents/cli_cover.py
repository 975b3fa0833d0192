"""``assay cover``: raise a repository's line+branch coverage with tests that pass every gate."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from agents.cli_options import (
    BaseUrlOpt,
    ModelOpt,
    NoCacheOpt,
    PythonOpt,
    ReportOpt,
    TestCommandOpt,
)
from agents.cover.report import CoverReport, Percentages

out = Console()
err = Console(stderr=True)


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
            found = f"{data['calls_kept']} of {data['calls_tried']} calls reached missed code"
            if data.get("error"):
                found += f" (stopped: {escape(data['error'])})"
            again = " again" if data.get("pass", 1) > 1 else ""
            log(f"explored{again} {data['file']}: {found}")
        elif kind == "accepted":
            self.accepted += len(data["tests"])
            cov: Percentages = data["coverage"]
            self.coverage = f"{cov.combined:.1f} %"
            gained = len(data["lines"]) + len(data["branches"])
            tests = data["tests"]
            named = ", ".join(tests) if len(tests) <= 4 else f"{len(tests)} tests"
            log(
                f"[green]accepted[/green] {named} for {data['target'].key}: "
                f"+{gained} lines/branches, killed {data['mutant']} → {data['path']}"
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
        elif kind == "done" and self.task is not None:
            self.progress.update(self.task, completed=self.progress.tasks[0].total)


def _pct(p: Percentages | None, attr: str) -> str:
    return "-" if p is None else f"{getattr(p, attr):.1f}"


def print_report(report: CoverReport, console: Console) -> None:
    table = Table(title="assay cover: coverage before → after", show_footer=True)
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
    for path in report.files:
        b, a = report.before.get(path), report.after.get(path)
        changed = b != a
        style = "green" if changed else ""
        table.add_row(
            path,
            f"{_pct(b, 'line')} → {_pct(a, 'line')}",
            f"{_pct(b, 'branch')} → {_pct(a, 'branch')}",
            f"{_pct(b, 'combined')} → {_pct(a, 'combined')}",
            style=style,
        )
    console.print(table)
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
        from agents.cover.explore import EXPLORED_QUALNAME

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


def write_report_json(path: Path, report: CoverReport) -> None:
    from agents.cover.writer import write_atomic

    write_atomic(path, json.dumps(report.as_dict(), indent=2) + "\n")


def _check_endpoint(llm: Any) -> None:
    """Fail before the baseline run when the endpoint is down or rejects us."""
    from flows.errors import LLMAuthError, LLMError, LLMUnreachable

    try:
        llm.list_models()
    except (LLMUnreachable, LLMAuthError):
        raise
    except LLMError:
        pass  # some endpoints do not list models; the first real call will tell


def cover(
    path: Annotated[
        Path, typer.Argument(help="The repository (default: the current directory).")
    ] = Path("."),
    files: Annotated[
        list[str] | None, typer.Option("--files", help="Only sources matching these globs.")
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", help="Skip sources matching these globs.")
    ] = None,
    diff: Annotated[
        str | None,
        typer.Option(
            "--diff", metavar="BASE", help="Only lines changed since this git ref (diff coverage)."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the diff; write nothing.")
    ] = False,
    report_path: ReportOpt = None,
    fail_under: Annotated[
        float | None, typer.Option("--fail-under", help="Exit 1 if line+branch % ends below this.")
    ] = None,
    max_minutes: Annotated[
        float | None, typer.Option("--max-minutes", help="Stop asking after this long.")
    ] = None,
    max_tokens: Annotated[
        int | None, typer.Option("--max-tokens", help="Stop asking after this many tokens.")
    ] = None,
    target_coverage: Annotated[
        float | None,
        typer.Option("--target-coverage", help="Stop when line+branch % reaches this."),
    ] = None,
    repeat: Annotated[
        int | None,
        typer.Option("--repeat", help="Runs in a row a new test must pass [default: 3]."),
    ] = None,
    attempts: Annotated[
        int | None,
        typer.Option("--attempts", help="Tries per test, with the failure fed back [default: 2]."),
    ] = None,
    no_mutation: Annotated[
        bool, typer.Option("--no-mutation", help="Do not require killing a mutant.")
    ] = False,
    no_observed_oracles: Annotated[
        bool,
        typer.Option(
            "--no-observed-oracles",
            help="Do not fix a test's wrong expected values from the code's observed results.",
        ),
    ] = False,
    no_explore: Annotated[
        bool,
        typer.Option(
            "--no-explore",
            help="Skip exploration (calling the code with generated arguments, no model) and "
            "ask the model for every test.",
        ),
    ] = False,
    explore_seconds: Annotated[
        float | None,
        typer.Option(
            "--explore-seconds",
            min=1,
            help="Seconds of exploration per file, at most [default: 20; a quarter of "
            "--max-minutes over all files when that is less].",
        ),
    ] = None,
    allow_failing: Annotated[
        bool, typer.Option("--allow-failing", help="Continue when existing tests fail.")
    ] = False,
    into: Annotated[
        str,
        typer.Option(
            "--into",
            help="new: tests/test_<module>_assay.py; existing: append to tests/test_<module>.py.",
        ),
    ] = "new",
    strategy: Annotated[
        str,
        typer.Option(
            "--strategy",
            help="direct: one prompt per function; flow: reflect, propose, one test each.",
        ),
    ] = "direct",
    rounds: Annotated[
        int,
        typer.Option("--rounds", min=1, help="Passes over the functions still missed."),
    ] = 3,
    tests_per_target: Annotated[
        int | None,
        typer.Option("--tests-per-target", help="New tests per function at most [default: 2]."),
    ] = None,
    candidate_timeout: Annotated[
        float | None,
        typer.Option("--candidate-timeout", help="Seconds a new test may run [default: 60]."),
    ] = None,
    sandbox_timeout: Annotated[
        float | None, typer.Option("--sandbox-timeout", help="Seconds the whole suite may run.")
    ] = None,
    grow: Annotated[
        bool,
        typer.Option(
            "--grow",
            help="Cover every indexed repository the quality policy marks grow (its local "
            "checkout), one after another, instead of PATH.",
        ),
    ] = False,
    test_command: TestCommandOpt = None,
    python: PythonOpt = None,
    llm_base_url: BaseUrlOpt = None,
    llm_model: ModelOpt = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Measure line+branch coverage, write tests for what is missed, keep only tests that pass
    repeatedly, add coverage and kill a mutant.

    Exit codes: 0 done, 1 below --fail-under, 2 bad input or error, 130 interrupted."""
    from agents.cli import settings_for
    from agents.cover.engine import CoverOptions
    from agents.cover.writer import write_atomic
    from agents.errors import AssayError, InputError

    if strategy not in ("direct", "flow"):
        raise InputError(f"--strategy {strategy!r} is unknown", "use --strategy direct or flow")
    if into not in ("new", "existing"):
        raise InputError(f"--into {into!r} is not a mode", "use --into new or --into existing")
    if report_path is not None and report_path.expanduser().is_dir():
        raise InputError(f"--report {report_path} is a directory", "pass a file path")
    flags: dict[str, Any] = dict(
        python=python,
        test_command=test_command,
        llm_base_url=llm_base_url,
        llm_model=llm_model,
        no_cache=no_cache,
        sandbox_timeout=sandbox_timeout,
        cover_repeat=repeat,
        cover_attempts=attempts,
        cover_tests_per_target=tests_per_target,
        cover_candidate_timeout=candidate_timeout,
        cover_mutation=False if no_mutation else None,
        cover_explore=False if no_explore else None,
        cover_explore_seconds=explore_seconds,
    )

    def options_for(s: Any) -> CoverOptions:
        return CoverOptions(
            include=tuple(files or ()),
            exclude=tuple([*s.cover_exclude, *(exclude or ())]),
            diff_base=diff,
            dry_run=dry_run,
            repeat=s.cover_repeat,
            attempts=s.cover_attempts,
            mutation=s.cover_mutation,
            observed_oracles=not no_observed_oracles,
            allow_failing=allow_failing,
            max_minutes=max_minutes,
            max_tokens=max_tokens,
            target_coverage=target_coverage,
            max_tests_per_target=s.cover_tests_per_target,
            rounds=rounds,
            strategy=strategy,
            candidate_timeout=s.cover_candidate_timeout,
            suite_timeout=s.sandbox_timeout,
            test_command=s.test_command,
            into=into,
            explore=s.cover_explore,
            explore_seconds=s.cover_explore_seconds,
        )

    checkouts = grow_checkouts(settings_for(path, **flags).settings) if grow else [("", path)]
    reports: dict[str, CoverReport] = {}
    failed: list[str] = []
    for name, checkout in checkouts:
        if name:
            out.rule(f"{name}: {checkout}")
        try:
            s = settings_for(checkout, **flags).settings
            report = _cover_one(checkout, s, options_for(s))
        except AssayError as exc:  # this repository's input; a dead endpoint stops all
            if not grow:
                raise
            err.print(f"[red]error[/red] {escape(name)}: {escape(str(exc))}")  # go on
            failed.append(name)
            continue
        reports[name or str(checkout)] = report
        print_report(report, out)
        if report.stopped == "interrupted":
            break
    if report_path is not None:
        if grow:
            data = {n: r.as_dict() for n, r in reports.items()}
            write_atomic(report_path.expanduser(), json.dumps(data, indent=2) + "\n")
        else:
            write_report_json(report_path.expanduser(), next(iter(reports.values())))
        out.print(f"report: {report_path}")
    if any(r.stopped == "interrupted" for r in reports.values()):
        raise typer.Exit(130)
    if failed:
        raise InputError(
            f"assay cover failed for {', '.join(failed)} (see above)",
            "fix what the error says for each, or lower its tier",
        )
    if fail_under is not None:
        below = False
        for name, report in reports.items():
            reached = report.total_after.combined if report.total_after else 0.0
            if reached < fail_under:
                where = f"{name}: " if grow else ""
                out.print(
                    f"[red]{escape(where)}line+branch coverage {reached:.1f} % is below "
                    f"{fail_under:g} %[/red]"
                )
                below = True
        if below:
            raise typer.Exit(1)


def grow_checkouts(s: Any) -> list[tuple[str, Path]]:
    """The repositories the tech leads marked ``grow`` that have a local checkout here."""
    from agents.errors import InputError
    from agents.indexing import IndexService

    service = IndexService(s)
    wanted = service.policy().grow_repos()
    if not wanted:
        raise InputError(
            "No repository is marked grow in the quality policy",
            "mark one with: assay policy set-tier NAME grow",
        )
    records = {r.name: r for r in service.status()}
    found: list[tuple[str, Path]] = []
    for name in wanted:
        record = records.get(name)
        location = Path(record.location) if record and "://" not in record.location else None
        if location is None or not location.is_dir():
            why = "not indexed" if record is None else f"no local checkout ({record.location})"
            err.print(f"[yellow]skipped[/yellow] {escape(name)}: {escape(why)}")
            continue
        found.append((name, location))
    if not found:
        raise InputError(
            f"None of the repositories marked grow ({', '.join(wanted)}) has a local checkout",
            "index a local checkout of one: assay index add PATH --tier grow",
        )
    return found


def _cover_one(path: Path, s: Any, options: Any) -> CoverReport:
    """One repository's run with its settings ``s`` and the command's ``options``."""
    from agents.cover.engine import CoverAgent
    from agents.runtime import open_llm, resolve_python
    from flows.sandbox import Sandbox

    repo = path.expanduser().resolve()
    interpreter = resolve_python(s.python)
    memory = s.sandbox_memory_mb * 2**20 if s.sandbox_memory_mb else None
    trace = s.traces_dir / f"cover-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(bar_width=20),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    with Sandbox(
        repo, interpreter, timeout=s.sandbox_timeout, memory_limit=memory,
        max_isolation=s.sandbox_isolation,
    ) as sandbox:  # fmt: skip
        with progress, open_llm(s, trace_path=trace) as llm:
            _check_endpoint(llm)
            agent = CoverAgent(repo, llm, sandbox, options, listener=CoverDisplay(progress))
            report = agent.run()
    if options.dry_run and report.diff:
        sys.stdout.write(report.diff)
    return report
