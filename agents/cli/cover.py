"""``assay cover``: raise a repository's line+branch coverage with tests that pass every gate."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from agents.cli.common import (
    BaseUrlOpt,
    InstallCommandOpt,
    ModelOpt,
    NoCacheOpt,
    PythonOpt,
    ReportOpt,
    TestCommandOpt,
    err,
    out,
)
from agents.cli.guards import Deadline, ModelCalls, in_range, writable_file
from agents.cover.display import CoverDisplay, print_report
from agents.cover.report import CoverReport


def report_data(report: CoverReport, calls: Any = None) -> dict[str, Any]:
    """The JSON report; ``model_failed`` says the model failed on every call (exit 3)."""
    data = report.as_dict()
    if calls is not None and calls.never_answered:
        data["model_failed"] = True
    return data


def _check_endpoint(llm: Any) -> None:
    """Fail before the baseline run when the endpoint is down or rejects us."""
    from flows import LLMAuthError, LLMError, LLMUnreachable

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
    junit: Annotated[
        Path | None, typer.Option("--junit", help="Write the run as JUnit XML (for CI views).")
    ] = None,
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
    mutants: Annotated[
        str | None,
        typer.Option(
            "--mutants",
            help="off; report: the mutation score before → after; raise: and surviving mutants "
            "become targets [default: raise].",
        ),
    ] = None,
    mutation_budget: Annotated[
        int | None,
        typer.Option(
            "--mutation-budget",
            min=0,
            help="Mutants measured at most; beyond, a seeded sample (0: all) [default: 150].",
        ),
    ] = None,
    no_rewrite: Annotated[
        bool,
        typer.Option(
            "--no-rewrite",
            help="Keep explored tests as the rules write them (no model call to make them read "
            "like a person's).",
        ),
    ] = False,
    fail_under_mutation: Annotated[
        float | None,
        typer.Option("--fail-under-mutation", help="Exit 1 if the mutation score ends below this."),
    ] = None,
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
    install_command: InstallCommandOpt = None,
    python: PythonOpt = None,
    llm_base_url: BaseUrlOpt = None,
    llm_model: ModelOpt = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Measure line+branch coverage, write tests for what is missed, keep only tests that pass
    repeatedly, add coverage and kill a mutant.

    Exit codes: 0 done, 1 below --fail-under, 2 bad input or error, 3 the model failed on
    every call, 130 interrupted."""
    from agents.cli.common import settings_for
    from agents.cover.options import CoverOptions
    from agents.cover.writer import write_atomic
    from agents.errors import AssayError, InputError, ModelFailedError

    if mutants is not None and mutants not in ("off", "report", "raise"):
        raise InputError(f"--mutants {mutants!r} is not a mode", "use off, report or raise")
    if strategy not in ("direct", "flow"):
        raise InputError(f"--strategy {strategy!r} is unknown", "use --strategy direct or flow")
    if into not in ("new", "existing"):
        raise InputError(f"--into {into!r} is not a mode", "use --into new or --into existing")
    in_range("--fail-under", fail_under, low=0, high=100)
    in_range("--target-coverage", target_coverage, above=0, high=100)
    in_range("--max-minutes", max_minutes, above=0)
    in_range("--max-tokens", max_tokens, low=1)
    report_path = writable_file("--report", report_path)
    junit = writable_file("--junit", junit)
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
        cover_mutants=mutants,
        cover_mutation_budget=mutation_budget,
    )

    def options_for(s: Any) -> CoverOptions:
        return CoverOptions.from_settings(
            s, include=tuple(files or ()), exclude=tuple(exclude or ()), diff_base=diff,
            dry_run=dry_run, observed_oracles=not no_observed_oracles,
            allow_failing=allow_failing, max_minutes=max_minutes, max_tokens=max_tokens,
            target_coverage=target_coverage, rounds=rounds, strategy=strategy, into=into,
            rewrite=not no_rewrite,
        )  # fmt: skip

    checkouts = grow_checkouts(settings_for(path, **flags).settings) if grow else [("", path)]
    reports: dict[str, CoverReport] = {}
    models: dict[str, ModelCalls] = {}
    failed: list[str] = []
    for name, checkout in checkouts:
        if name:
            out.rule(f"{name}: {checkout}")
        try:
            s = settings_for(checkout, **flags).settings
            report, models[name or str(checkout)] = _cover_one(
                checkout, s, options_for(s), install_command
            )
        except AssayError as exc:  # this repository's input; a dead endpoint stops all
            if not grow or isinstance(exc, ModelFailedError):
                raise
            err.print(f"[red]error[/red] {escape(name)}: {escape(str(exc))}")  # go on
            failed.append(name)
            continue
        reports[name or str(checkout)] = report
        print_report(report, out)
        if report.stopped == "interrupted":
            break
    if report_path is not None:
        data = {n: report_data(r, models.get(n)) for n, r in reports.items()}
        if not grow:
            data = next(iter(data.values()), {})
        write_atomic(report_path, json.dumps(data, indent=2) + "\n")
        out.print(f"report: {report_path}")
    if junit is not None:
        from agents.cover.junit import junit_xml

        write_atomic(junit, junit_xml(reports, fail_under))
    if any(r.stopped == "interrupted" for r in reports.values()):
        raise typer.Exit(130)
    for name, calls in models.items():  # CI must not pass a run the model never answered
        calls.check(f"{reports[name].accepted} tests accepted" + (f" in {name}" if grow else ""))
    if failed:
        raise InputError(
            f"assay cover failed for {', '.join(failed)} (see above)",
            "fix what the error says for each, or lower its tier",
        )
    if fail_under_mutation is not None:
        _check_mutation(reports, fail_under_mutation, grow)
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


def _check_mutation(reports: dict[str, CoverReport], limit: float, grow: bool) -> None:
    """Exit 1 when a run's final mutation score is below ``limit`` (or was not measured)."""
    below = False
    for name, report in reports.items():
        final = report.mutation.get("after") or report.mutation.get("before") or {}
        score = final.get("score")
        if score is None or score < limit:
            where = f"{name}: " if grow else ""
            shown = "not measured (--mutants off?)" if score is None else f"{score:.1f} %"
            out.print(f"[red]{escape(where)}mutation score {shown} is below {limit:g} %[/red]")
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


def _cover_one(
    path: Path, s: Any, options: Any, install_command: str | None = None
) -> tuple[CoverReport, ModelCalls]:
    """One repository's run with its settings ``s`` and the command's ``options``: its report
    and how the model answered (a JS/TS package: :mod:`agents.cli.cover_js`)."""
    from agents.cover.engine import CoverAgent
    from agents.cover.js.project import is_js_project
    from agents.cover.targets import unusable_sources
    from agents.errors import InputError
    from agents.runtime import open_run
    from flows import BudgetExhausted, LLMError

    repo = path.expanduser().resolve()
    if is_js_project(repo):
        from agents.cli.cover_js import cover_js

        return cover_js(repo, s, options, install_command, _check_endpoint)
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(bar_width=20),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    calls = ModelCalls()
    deadline = Deadline(options.max_minutes)  # the baseline and exploration count too
    with (
        progress,
        open_run(s, "cover", repo=repo, stop_check=deadline.check, wrap_llm=calls.wrap) as run,
    ):
        assert run.sandbox is not None and run.llm is not None
        _check_endpoint(run.llm)
        display = CoverDisplay(progress)
        agent = CoverAgent(repo, run.llm, run.sandbox, options, listener=display, trace=run.trace,
                           started=deadline.started)  # fmt: skip
        try:
            report = agent.run()
        except LLMError:  # the model failed too often in a row
            if not calls.never_answered:
                raise
            report = agent.report  # what the run has, for the report and CI; then exit 3
            report.stopped = "error: the model failed on every call"
            report.usage = agent.runner.usage.as_dict()
        except BudgetExhausted as exc:  # spent before the baseline run was measured
            raise InputError(
                f"--max-minutes {options.max_minutes:g}: {exc.what} before the baseline run "
                f"of {repo} finished", "raise --max-minutes",
            ) from exc  # fmt: skip
    unusable = unusable_sources(repo, report.files)
    report.skipped[:0] = [s for s in unusable if s not in report.skipped]
    if options.dry_run and report.diff:
        sys.stdout.write(report.diff)
    return report, calls
