"""``assay tests PATH::SYMBOL``: list the behaviours worth testing, pick, write gated tests."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from agents.cli.common import (
    BaseUrlOpt,
    ModelOpt,
    NoCacheOpt,
    PythonOpt,
    ReportOpt,
    TestCommandOpt,
)
from agents.cli.guards import ModelCalls, in_range, writable_file
from agents.errors import InputError
from agents.testgen.agent import TestgenReport
from flows import Behaviour

out = Console()
err = Console(stderr=True)


def parse_pick(text: str, count: int) -> list[int]:
    """``"1,3"``, ``"1-3"``, ``"all"`` → 0-based indexes into ``count`` behaviours."""
    text = text.strip().lower()
    if text in ("all", "a", "*"):
        return list(range(count))
    picked: list[int] = []
    for part in text.replace(" ", ",").split(","):
        if not part:
            continue
        low, _, high = part.partition("-")
        try:
            numbers = range(int(low), int(high or low) + 1)
        except ValueError as exc:
            raise InputError(
                f"'{part}' is not a behaviour number", "e.g. 1,3 or 1-2 or all"
            ) from exc
        for n in numbers:
            if not 1 <= n <= count:
                raise InputError(f"There is no behaviour {n}", f"pick between 1 and {count}")
            if n - 1 not in picked:
                picked.append(n - 1)
    if not picked:
        raise InputError("No behaviour picked", "e.g. 1,3 or all")
    return picked


def ask_pick(count: int) -> list[int]:
    """Ask on the terminal (or read one line from piped input)."""
    question = "Write tests for which behaviours? (e.g. 1,3 or all) "
    if sys.stdin.isatty():
        return parse_pick(typer.prompt(question.strip(), default="all"), count)
    line = sys.stdin.readline()
    if not line.strip():
        raise InputError("No behaviours picked (no terminal to ask on)", "pass --all or --pick 1,3")
    return parse_pick(line, count)


class TestgenDisplay:
    __test__ = False

    def __call__(self, kind: str, data: dict[str, Any]) -> None:
        stamp = time.strftime("%H:%M:%S")
        if kind == "baseline":
            line = f"measuring the baseline: {data['command']} under coverage"
        elif kind == "explore":
            line = (
                f"exploring {data['symbol']}: calling it with generated arguments "
                f"(up to {data['seconds']:g} s, no model)"
            )
        elif kind == "stage":
            line = f"[bold]{data['name']}[/bold]"
        elif kind == "attempt":
            b: Behaviour = data["behaviour"]
            if data.get("explored"):
                line = f"checking what was observed: {escape(b.description[:80])}"
            else:
                line = f"writing a test: {escape(b.description[:80])} (try {data['attempt']})"
        elif kind == "accepted":
            line = (
                f"[green]accepted[/green] {', '.join(data['tests'])}: killed {data['mutant']} "
                f"→ {data['path']}"
            )
        elif kind == "rejected":
            detail = str(data["detail"]).splitlines()[0][:100] if data["detail"] else ""
            line = f"[red]rejected[/red] ({data['reason']}) {escape(detail)}"
        elif kind == "empty-reply":
            line = "[yellow]the model's reply added nothing[/yellow]: asking once more"
            if data.get("ask") == 2:
                line = "[yellow]the model's reply added nothing again[/yellow]: no draft"
        elif kind == "mutants":
            line = (
                f"measuring {data['measuring']} mutants of {data['symbol']} against its new tests"
            )
        elif kind == "survivors":
            line = f"{data['count']} of {data['measured']} mutants survive"
            if data["count"]:
                line += ": looking for calls that tell them apart (no model)"
        elif kind == "rewritten":
            line = f"[green]rewritten[/green] {data['before']} → {data['after']} (nothing lost)"
        elif kind == "behaviours" and "start" in data:  # added after the explored tests
            print_behaviours(data["behaviours"], data["start"], "Also stated in the docstring:")
            return
        elif kind == "possible-bug":
            line = f"[red]possible bug[/red]: {escape(str(data['line']))}"
        elif kind == "verify":
            line = f"running the whole suite with {data['file']}"
        elif kind == "rolled-back":
            line = f"[red]taken out[/red] (they break the suite): {', '.join(data['tests'])}"
        elif kind == "warning":
            line = f"[yellow]warning[/yellow] {escape(str(data['message']))}"
        elif kind in ("skipped", "stopped"):
            line = f"[yellow]{kind}[/yellow] {escape(str(data.get('reason', ''))[:120])}"
        else:
            return
        err.print(f"[dim]{stamp}[/dim] {line}", soft_wrap=True)


def print_behaviours(
    behaviours: Sequence[Behaviour], start: int = 1, title: str = "Behaviours worth testing:"
) -> None:
    out.print(f"[bold]{title}[/bold]")
    for i, behaviour in enumerate(behaviours, start):
        out.print(f"  {i}. {escape(behaviour.line)}", soft_wrap=True)
        if behaviour.call:
            expected = f" → {behaviour.expected}" if behaviour.expected else ""
            seen = " (observed)" if behaviour.origin == "explored" else ""
            out.print(f"     e.g. {escape(behaviour.call)}{escape(expected)}{seen}", soft_wrap=True)


def print_report(report: TestgenReport) -> None:
    if report.possible_bugs:
        out.print("[bold red]Possible bugs[/bold red] (the docstring and the code disagree):")
        for bug in report.possible_bugs:
            out.print(
                f"  - the docstring says {escape(bug['call'])} gives {escape(bug['docstring'])}; "
                f"the code gives {escape(bug['code'])}",
                soft_wrap=True,
            )
    for result in report.results:
        if result.accepted:
            mark = f"[green]✓[/green] {', '.join(result.accepted)}"
        else:
            mark = f"[red]✗[/red] rejected: {', '.join(result.rejected) or 'no draft'}"
        out.print(f"{escape(result.behaviour.line)}: {mark}", soft_wrap=True)
    out.print(
        f"tests accepted: [bold]{report.accepted}[/bold] of {len(report.results)} behaviour(s); "
        f"calls: {report.calls}; tokens: {report.tokens:,}; time: {report.seconds:.0f} s"
        + (f" (first test after {report.first_seconds:.0f} s)" if report.first_seconds else "")
        + (f"; stopped: {report.stopped}" if report.stopped else "")
    )
    mutants = report.mutants
    if mutants.get("measured"):
        out.print(
            f"mutants of the symbol killed by its new tests: {mutants['killed_before']} of "
            f"{mutants['measured']}"
            + (f", then {mutants['killed_after']} with the hunt's tests"
               if mutants["killed_after"] != mutants["killed_before"] else "")
        )  # fmt: skip
    if report.rewrite.get("tried"):
        out.print(f"readable rewrite: {report.rewrite['kept']} of {report.rewrite['tried']} "
                  "explored test(s) rewritten by the model, nothing lost")  # fmt: skip
    if report.written:
        out.print(f"written: {', '.join(report.written)}")
    if report.removed:
        out.print(f"[red]taken out[/red] (they broke the suite): {', '.join(report.removed)}")


def tests_command(
    symbol: Annotated[str, typer.Argument(help="PATH::SYMBOL: a function, Class.method or class.")],
    all_: Annotated[
        bool, typer.Option("--all", help="Test every behaviour (no question).")
    ] = False,
    pick: Annotated[
        str | None, typer.Option("--pick", help="Behaviours to test, e.g. 1,3 or 1-2.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the diff; write nothing.")
    ] = False,
    repo: Annotated[
        Path | None, typer.Option("--repo", "-C", help="The repository (default: found from PATH).")
    ] = None,
    behaviours: Annotated[
        int,
        typer.Option(
            "--behaviours", help="Behaviours the model may list or add at most (explored: all)."
        ),
    ] = 5,
    repeat: Annotated[int | None, typer.Option("--repeat", help="Runs in a row to pass.")] = None,
    attempts: Annotated[
        int | None, typer.Option("--attempts", help="Tries per behaviour [default: 2].")
    ] = None,
    no_mutation: Annotated[
        bool, typer.Option("--no-mutation", help="Do not require killing a mutant.")
    ] = False,
    candidate_timeout: Annotated[
        float | None, typer.Option("--candidate-timeout", help="Seconds a new test may run.")
    ] = None,
    no_hunt: Annotated[
        bool, typer.Option("--no-hunt", help="Do not measure and hunt the symbol's mutants.")
    ] = False,
    no_explore: Annotated[
        bool, typer.Option("--no-explore", help="Do not call the symbol first; the model lists.")
    ] = False,
    max_minutes: Annotated[
        float | None,
        typer.Option("--max-minutes", help="Time budget for the symbol [default: 2]."),
    ] = None,
    report_path: ReportOpt = None,
    test_command: TestCommandOpt = None,
    python: PythonOpt = None,
    llm_base_url: BaseUrlOpt = None,
    llm_model: ModelOpt = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Write tests for one function, method or class: list the behaviours worth testing, let you
    pick, then write a test per behaviour that passes the gates of `assay cover`.

    Exit codes: 0 at least one test accepted, 1 none, 2 bad input or error, 3 the model failed
    on every call."""
    from agents.cli.common import settings_for
    from agents.runtime import open_run
    from agents.testgen.agent import TestgenAgent, TestgenOptions
    from agents.testgen.symbols import find_repo, find_symbol, parse_spec

    in_range("--behaviours", behaviours, low=1)
    in_range("--max-minutes", max_minutes, above=0)
    report_path = writable_file("--report", report_path)
    file, qualname = parse_spec(symbol)
    root = (repo or find_repo(file if file.exists() else Path.cwd())).expanduser().resolve()
    if repo is None and _package_root(file) is not None:
        root = _package_root(file) or root
    if _is_js(root, file):
        _tests_js(root, file, qualname, dry_run=dry_run, report_path=report_path,
                  choose=_chooser(all_, pick), flags=dict(
            test_command=test_command, llm_base_url=llm_base_url, llm_model=llm_model,
            no_cache=no_cache, cover_repeat=repeat, cover_attempts=attempts,
            cover_candidate_timeout=candidate_timeout,
            cover_mutation=False if no_mutation else None,
            cover_explore=False if no_explore else None,
        ), max_minutes=max_minutes)  # fmt: skip
        return
    target = find_symbol(root, file, qualname)
    loaded = settings_for(
        root, python=python, test_command=test_command, llm_base_url=llm_base_url,
        llm_model=llm_model, no_cache=no_cache, cover_repeat=repeat, cover_attempts=attempts,
        cover_candidate_timeout=candidate_timeout,
        cover_mutation=False if no_mutation else None,
    )  # fmt: skip
    s = loaded.settings
    options = TestgenOptions.from_settings(
        s,
        dry_run=dry_run,
        behaviours=max(1, behaviours),
        **({"explore": False} if no_explore else {}),
        **({"hunt": False} if no_hunt else {}),
        **({"max_minutes": max_minutes} if max_minutes is not None else {}),
    )
    display = TestgenDisplay()
    calls = ModelCalls()
    with open_run(s, "tests", repo=root, wrap_llm=calls.wrap) as run:
        assert run.sandbox is not None and run.llm is not None
        agent = TestgenAgent(
            root, run.llm, run.sandbox, target, options, listener=display, settings=s,
            trace=run.trace,
        )  # fmt: skip
        found = agent.prepare(docstring_later=all_)  # --all: the first test sooner
        print_behaviours(found)
        if all_:
            chosen = list(range(len(found)))
        elif pick:
            chosen = parse_pick(pick, len(found))
        else:
            chosen = ask_pick(len(found))
        report = agent.write([found[i] for i in chosen])
    if dry_run and report.diff:
        sys.stdout.write(report.diff)
    print_report(report)
    out.print(f"trace: {run.trace_path}")
    if report_path is not None:
        from agents.cover.writer import write_atomic

        write_atomic(report_path, json.dumps(report.as_dict(), indent=2) + "\n")
    calls.check(f"{report.accepted} tests accepted")
    if not report.accepted:
        raise typer.Exit(1)


def _package_root(file: Path) -> Path | None:
    """The nearest directory above a JS/TS ``file`` with a ``package.json``."""
    from agents.cover.js.project import SOURCE_EXTENSIONS

    if not file.name.endswith(SOURCE_EXTENSIONS):
        return None
    start = (file if file.is_absolute() else Path.cwd() / file).resolve().parent
    return next((d for d in (start, *start.parents) if (d / "package.json").is_file()), None)


def _is_js(root: Path, file: Path) -> bool:
    from agents.cover.js.project import SOURCE_EXTENSIONS, is_js_project

    return file.name.endswith(SOURCE_EXTENSIONS) and is_js_project(root)


def _chooser(all_: bool, pick: str | None) -> Callable[[list[Behaviour]], list[int]]:
    """Lists the behaviours, then takes ``--all``, ``--pick`` or asks."""

    def choose(found: list[Behaviour]) -> list[int]:
        print_behaviours(found)
        if all_:
            return list(range(len(found)))
        return parse_pick(pick, len(found)) if pick else ask_pick(len(found))

    return choose


def _tests_js(
    root: Path, file: Path, qualname: str, *, dry_run: bool, report_path: Path | None,
    flags: dict[str, Any], max_minutes: float | None,
    choose: Callable[[list[Behaviour]], list[int]],
) -> None:  # fmt: skip
    """``assay tests`` on a JavaScript/TypeScript symbol: the cover pipeline limited to that
    function, class or method — exploration first, its calls grouped into behaviours a person
    picks (the last item: the model's test for what they leave unrun), then the same gates."""
    from agents.cli.common import settings_for
    from agents.cli.cover import _check_endpoint
    from agents.cli.cover_js import cover_js
    from agents.cover.display import print_report as print_cover_report
    from agents.cover.options import CoverOptions
    from agents.cover.writer import write_atomic

    full = (file if file.is_absolute() else Path.cwd() / file).resolve()
    if not full.is_file():
        raise InputError(f"Source file {file} does not exist", "pass an existing source file")
    try:
        rel = full.relative_to(root).as_posix()
    except ValueError as exc:
        raise InputError(f"{file} is not inside the repository {root}", "pass --repo") from exc
    s = settings_for(root, **flags).settings
    options = CoverOptions.from_settings(
        s, include=(rel,), dry_run=dry_run, max_minutes=max_minutes, mutants="off",
        symbol=qualname,
    )  # fmt: skip
    report, _calls = cover_js(root, s, options, None, _check_endpoint, choose)
    print_cover_report(report, out)
    if report_path is not None:
        write_atomic(report_path.expanduser(), json.dumps(report.as_dict(), indent=2) + "\n")
    if not report.accepted:
        raise typer.Exit(1)
