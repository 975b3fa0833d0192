"""``assay solve`` (the solve flow on a problem and its tests) and ``assay trace show``."""

from __future__ import annotations

import ast
import re
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax
from rich.table import Table

from agents.cli.common import BaseUrlOpt, ModelOpt, NoCacheOpt, PythonOpt
from agents.cli.guards import ModelCalls, in_range, writable_file
from agents.errors import InputError
from flows import (
    SOLUTION_MODULE,
    Problem,
    SolveOptions,
    SolveResult,
    describe_step,
    load_tests,
    summarize,
)

out = Console()
err = Console(stderr=True)
trace_app = typer.Typer(help="Read the JSONL traces of model calls.", no_args_is_help=True)

SOLVE_RUN_TIMEOUT = 120.0  # seconds one run of a candidate and the tests may take
_STARTER = re.compile(r"```(?:python|py)[^\n]*\n(.*?)```", re.S)


def load_problem(problem: Path, tests: Path, entry: str | None = None) -> Problem:
    """A :class:`Problem` from a statement file and a pytest-style test file.

    The tests import the solution from the module ``solution``; the statement's first python
    block, if any, is the starter (signature and imports) the solution must keep.
    """
    texts = []
    for path, what in ((problem, "problem statement"), (tests, "tests")):
        if not path.is_file():
            raise InputError(f"The {what} file {path} does not exist", "pass an existing file")
        try:
            texts.append(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(
                f"The {what} file {path} is not readable UTF-8 text", "pass a text file"
            ) from exc
    statement, source = texts
    try:
        suite = load_tests(source)
    except (SyntaxError, ValueError) as exc:  # ValueError: null bytes
        where = f": {exc.msg} at line {exc.lineno}" if isinstance(exc, SyntaxError) else ""
        raise InputError(f"The tests in {tests} do not parse{where}", "fix them") from exc
    if not suite.cases:
        raise InputError(
            f"No tests found in {tests}",
            "write test_* functions without fixtures, or top-level asserts",
        )
    starter_match = _STARTER.search(statement)
    starter = starter_match.group(1).strip() if starter_match else ""
    entry = entry or _imported_name(source) or _first_def(starter)
    if not entry:
        raise InputError(
            f"Cannot tell which function to write from {tests}",
            f"import it in the tests ('from {SOLUTION_MODULE} import NAME') or pass --entry NAME",
        )
    return Problem(statement.strip(), suite, entry, starter)


def _imported_name(source: str) -> str:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module == SOLUTION_MODULE:
            names = [a.name for a in node.names if a.name != "*"]
            if names:
                return names[0]
    return ""


def _first_def(code: str) -> str:
    found = re.search(r"^\s*(?:async\s+)?def\s+(\w+)", code, re.M)
    return found.group(1) if found else ""


class SolveDisplay:
    """Progress on stderr: one line per stage and per decision of the flow."""

    def __call__(self, kind: str, data: dict[str, Any]) -> None:
        stamp = time.strftime("%H:%M:%S")
        if kind == "call":
            return
        if kind == "stage":
            line = f"[bold]{data['name']}[/bold]"
        elif kind == "tests" and data["compiled"]:
            line = f"  {data['version']}: given {data['given']}, extra {data['extra']} pass"
        elif kind == "tests":
            why = escape(str(data["error"])[:100])
            line = f"  {data['version']}: [red]does not compile[/red]: {why}"
        elif kind in ("reverted", "rotate", "skipped", "dropped-test", "stopped"):
            detail = data.get("reason") or data.get("test") or ""
            line = f"  [yellow]{kind}[/yellow] {escape(str(detail)[:120])}"
        else:
            line = f"  {kind}: " + escape(", ".join(f"{k}={v}" for k, v in data.items())[:140])
        err.print(f"[dim]{stamp}[/dim] {line}", soft_wrap=True)


def print_result(result: SolveResult) -> None:
    if result.code:
        out.print(Syntax(result.code, "python", theme="ansi_dark", background_color="default"))
    else:
        out.print("[red]no code was written[/red]")
    table = Table(title="tests", show_header=True)
    table.add_column("test")
    table.add_column("kind")
    table.add_column("result")
    best = result.best
    for case in [*result.given, *result.extra]:
        ok = best is not None and case.name in best.passed
        mark = "[green]pass[/green]" if ok else "[red]FAIL[/red]"
        table.add_row(case.body.splitlines()[0][:80] if case.body else case.name, case.origin, mark)
    out.print(table)
    given = len(result.given)
    extra_ok = len(best.extra_passed) if best else 0
    out.print(
        f"given tests passed: [bold]{len(result.given_passed)}/{given}[/bold]; extra tests: "
        f"{extra_ok}/{len(result.extra)}; version: {best.origin if best else '-'}"
    )
    out.print(
        f"calls: {result.calls}; tokens: {result.tokens:,}; time: {result.seconds:.0f} s"
        + (f"; stopped: {result.stopped}" if result.stopped else "")
    )


def solve(
    problem: Annotated[Path, typer.Argument(help="The problem statement (markdown or text).")],
    tests: Annotated[
        Path, typer.Option("--tests", help="Given tests; they import from the module 'solution'.")
    ],
    out_path: Annotated[
        Path | None, typer.Option("--out", help="Write the final code to this file.")
    ] = None,
    entry: Annotated[
        str | None, typer.Option("--entry", help="The function to write (default: from tests).")
    ] = None,
    max_calls: Annotated[int, typer.Option("--max-calls", help="Model calls at most.")] = 20,
    max_tokens: Annotated[
        int | None, typer.Option("--max-tokens", help="Tokens at most (prompt + answer).")
    ] = None,
    max_minutes: Annotated[
        float | None, typer.Option("--max-minutes", help="Wall time at most.")
    ] = None,
    candidates: Annotated[int, typer.Option("--candidates", help="Approaches to try.")] = 3,
    extra_tests: Annotated[
        int, typer.Option("--extra-tests", help="Extra tests to generate (0: none).")
    ] = 5,
    no_reflect: Annotated[bool, typer.Option("--no-reflect", help="Skip the reflection.")] = False,
    no_anchors: Annotated[
        bool, typer.Option("--no-anchors", help="Keep fixes that break passing tests.")
    ] = False,
    trace: Annotated[
        Path | None, typer.Option("--trace", help="Trace file (default: ASSAY_HOME/traces/).")
    ] = None,
    python: PythonOpt = None,
    llm_base_url: BaseUrlOpt = None,
    llm_model: ModelOpt = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Solve a problem with the solve flow: reflect, rank approaches, generate extra tests,
    iterate the code in the sandbox until the tests pass.  Prints the code and which tests
    pass.  Exit codes: 0 every given test passes, 1 some fail, 2 bad input or error, 3 the
    model failed on every call."""
    from agents.cli.common import settings_for
    from agents.runtime import open_run
    from flows import Budget, FlowRunner, solve_problem

    in_range("--max-calls", max_calls, low=1)
    in_range("--max-tokens", max_tokens, low=1)
    in_range("--max-minutes", max_minutes, above=0)
    in_range("--candidates", candidates, low=1)
    in_range("--extra-tests", extra_tests, low=0)
    out_path = writable_file("--out", out_path)
    trace = writable_file("--trace", trace)
    loaded = settings_for(
        None, python=python, llm_base_url=llm_base_url, llm_model=llm_model, no_cache=no_cache
    )
    s = loaded.settings
    spec = load_problem(problem.expanduser(), tests.expanduser(), entry)
    budget = Budget(
        max_calls=max_calls,
        max_tokens=max_tokens,
        max_seconds=max_minutes * 60 if max_minutes else None,
    )
    options = SolveOptions(
        candidates=max(1, candidates),
        reflect=not no_reflect,
        extra_tests=max(0, extra_tests),
        anchors=not no_anchors,
    )
    err.print(f"solving for `{spec.entry_point}` with {len(spec.tests.cases)} given test(s)")
    with tempfile.TemporaryDirectory(prefix="assay-solve-") as scratch:
        scratch_dir = Path(scratch)
        calls = ModelCalls()
        with open_run(
            s, "solve", repo=scratch_dir, trace_file=trace, sandbox_timeout=SOLVE_RUN_TIMEOUT,
            wrap_llm=calls.wrap,
        ) as run:  # fmt: skip
            assert run.sandbox is not None and run.llm is not None
            runner = FlowRunner(
                run.llm, budget=budget, trace=run.trace, flow="solve", listener=SolveDisplay()
            )
            result = solve_problem(spec, runner, run.sandbox, options)
    print_result(result)
    out.print(f"trace: {run.trace_path}")
    if out_path is not None and result.code:
        from agents.cover.writer import write_atomic

        write_atomic(out_path, result.code)
        out.print(f"written: {out_path}")
    calls.check("no code was written" if not result.code else "the code is the starter's")
    if not result.solved:
        raise typer.Exit(1)


def _read_summary(file: Path) -> Any:
    """The summary of a trace file, or :class:`InputError` saying why ``file`` is not one."""
    from flows import read_trace

    path, fix = file.expanduser(), "pass a .jsonl trace file (ASSAY_HOME/traces/ or --trace)"
    if path.is_dir():
        raise InputError(f"Trace file {file} is a directory", fix)
    if not path.is_file():
        raise InputError(f"Trace file {file} does not exist", fix)
    try:
        records = [r for r in read_trace(path) if isinstance(r, dict)]
    except UnicodeDecodeError as exc:
        raise InputError(f"{file} is not a trace: it is not UTF-8 text", fix) from exc
    except OSError as exc:
        raise InputError(f"Cannot read {file}: {exc.strerror}", fix) from exc
    records = [r for r in records if r.get("event") in ("call", "step")]
    if not records:
        raise InputError(f"{file} is not a trace: it holds no call or step records", fix)
    try:
        return summarize(records)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{file} has a malformed record ({exc})", fix) from exc


@trace_app.command("show")
def trace_show(
    file: Annotated[Path, typer.Argument(help="A trace file (JSONL).")],
    content: Annotated[
        bool, typer.Option("--content", help="Also print prompts and answers (when recorded).")
    ] = False,
    stage: Annotated[str | None, typer.Option("--stage", help="Only this stage's calls.")] = None,
) -> None:
    """Render a trace: every model call (stage, sizes, tokens, latency, parse outcome), the
    flow's decisions, and totals per stage."""
    summary = _read_summary(file)
    start = summary.start or 0.0
    out.print(f"[bold]model calls in {file.name}[/bold]")
    out.print(
        f"[dim]{'#':>3} {'t+s':>6}  {'stage':<16} {'model':<20} {'prompt→answer':>16} "
        f"{'tokens in/out':>13} {'latency':>8}  outcome[/dim]"
    )
    events = sorted(
        [("call", c) for c in summary.calls] + [("step", s) for s in summary.steps],
        key=lambda item: float(item[1].get("ts", 0)),
    )
    n = 0
    texts: list[str] = []
    for kind, record in events:
        offset = float(record.get("ts", start)) - start
        if kind == "step":
            if stage is None and record.get("kind") != "stage":
                out.print(f"{'':>3} {offset:>6.1f}  [dim]· {escape(describe_step(record))}[/dim]",
                          soft_wrap=True)  # fmt: skip
            continue
        if stage is not None and record.get("stage") != stage:
            continue
        n += 1
        word = escape(str(record["outcome"])[:80])
        sizes = f"{record.get('prompt_chars', 0)}→{record.get('response_chars', 0)} ch"
        tokens = f"{record.get('prompt_tokens', 0)}/{record.get('completion_tokens', 0)}"
        out.print(
            f"{n:>3} {offset:>6.1f}  {escape(str(record.get('stage', '?'))[:16]):<16} "
            f"{escape(str(record.get('model', ''))[:20]):<20} {sizes:>16} {tokens:>13} "
            f"{float(record.get('latency') or 0):>6.1f} s  "
            + (word if record["outcome"] == "ok" else f"[red]{word}[/red]"),
            soft_wrap=True,
        )
        if content and ("messages" in record or "response" in record):
            texts.append(f"[bold]── call {n} ({escape(str(record.get('stage')))}) ──[/bold]")
            for message in record.get("messages") or []:
                if isinstance(message, dict):
                    role, text = escape(str(message.get("role"))), str(message.get("content"))
                    texts.append(f"[bold]{role}[/bold]: {escape(text)}")
            texts.append(f"[bold]answer[/bold]: {escape(str(record.get('response', '')))}\n")
    for text in texts:
        out.print(text, soft_wrap=True)
    totals = Table(title="per stage")
    for name in ("stage", "calls", "failed", "prompt tokens", "answer tokens", "model s"):
        totals.add_column(name, justify="left" if name == "stage" else "right")
    rows = [*summary.stages.items(), ("total", summary.total)]
    for name, t in rows:
        totals.add_row(
            name, str(t.calls), str(t.failed), f"{t.prompt_tokens:,}",
            f"{t.completion_tokens:,}", f"{t.seconds:.1f}",
        )  # fmt: skip
    out.print(totals)
