"""The ``assay`` command line (typer + rich).

Exit codes (documented in the README):
    0  success
    1  the command ran and found a problem (``doctor`` checks failed, ``cover --fail-under``)
    2  bad input or an error: one line on stderr saying what and how to fix it
  130  interrupted (Ctrl-C)
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from agents import __version__
from agents.cli_options import BaseUrlOpt, ModelOpt, PythonOpt, RepoOpt
from agents.errors import AssayError
from agents.settings import LoadedSettings, load_settings
from flows.errors import FlowsError
from indexer.errors import IndexerError

app = typer.Typer(
    name="assay",
    help="Tests that really run and really catch bugs, on models you control.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)
config_app = typer.Typer(help="Show the effective settings.", no_args_is_help=True)
app.add_typer(config_app, name="config")

out = Console()
err = Console(stderr=True)

_state: dict[str, Any] = {"debug": False}


def _version(value: bool) -> None:
    if value:
        out.print(f"assay {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", callback=_version, is_eager=True, help="Print the version."
        ),
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    _state["debug"] = debug


def settings_for(repo: Path | None, **flags: Any) -> LoadedSettings:
    """Settings for a command: flags (``None`` = not given) over env over the repo's files."""
    from agents.runtime import resolve_repo

    root = resolve_repo(repo) if repo is not None else None
    if flags.pop("no_cache", False):
        flags["cache"] = False
    return load_settings(root, flags)


@config_app.command("show")
def config_show(
    repo: RepoOpt = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Print every setting, its effective value and where it came from (secrets masked)."""
    loaded = settings_for(repo)
    rows = loaded.rows()
    if as_json:
        out.print_json(json.dumps({k: {"value": v, "source": s} for k, v, s in rows}))
        return
    table = Table(title="assay settings", show_lines=False)
    table.add_column("key", style="bold")
    table.add_column("value")
    table.add_column("from", style="dim")
    for key, value, source in rows:
        table.add_row(key, value, source)
    out.print(table)
    out.print(
        "[dim]Precedence: command-line flag > env ASSAY_<KEY> > assay.toml / "
        "[tool.assay] in pyproject.toml > default.[/dim]"
    )


@app.command()
def doctor(
    repo: RepoOpt = Path("."),
    python: PythonOpt = None,
    llm_base_url: BaseUrlOpt = None,
    llm_model: ModelOpt = None,
) -> None:
    """Check Python, pytest, coverage, the sandbox, the model endpoint, the model file and the
    index store; print what to fix.  Exits 1 when a check fails."""
    from agents.doctor import run_checks
    from agents.runtime import resolve_python

    loaded = settings_for(repo, python=python, llm_base_url=llm_base_url, llm_model=llm_model)
    resolve_python(loaded.settings.python)
    checks = run_checks(loaded)
    table = Table(title=f"assay {__version__} doctor")
    table.add_column("check", style="bold")
    table.add_column("status")
    table.add_column("detail")
    table.add_column("fix", style="yellow")
    marks = {"ok": "[green]ok[/green]", "warn": "[yellow]warn[/yellow]", "fail": "[red]FAIL[/red]"}
    for check in checks:
        table.add_row(check.name, marks[check.status], escape(check.detail), escape(check.fix))
    out.print(table)
    failed = [c for c in checks if c.status == "fail"]
    if failed:
        out.print(f"[red]{len(failed)} check(s) failed.[/red]")
        raise typer.Exit(1)
    out.print("[green]All checks passed.[/green]")


def _register_subcommands() -> None:
    from agents.cli_bundle import bundle_app
    from agents.cli_cover import cover
    from agents.cli_flows import solve, trace_app
    from agents.cli_index import index_app, policy_app, search
    from agents.cli_lsp import lsp
    from agents.cli_model import model_app
    from agents.cli_service import review, serve, token_app, worker
    from agents.cli_testgen import tests_command

    app.add_typer(model_app, name="model")
    app.command("cover")(cover)
    app.command("review")(review)
    app.command("serve")(serve)
    app.command("worker")(worker)
    app.add_typer(token_app, name="token")
    app.command("solve")(solve)
    app.command("tests")(tests_command)
    app.add_typer(trace_app, name="trace")
    app.add_typer(index_app, name="index")
    app.command("search")(search)
    app.add_typer(policy_app, name="policy")
    app.command("lsp")(lsp)
    app.add_typer(bundle_app, name="bundle")


_register_subcommands()


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``assay`` console script: one-line errors, documented exit codes.

    Usage errors exit 2 and Ctrl-C exits 130 (typer's standalone mode); our own errors are
    printed here as one line and exit 2.
    """
    # SIGTERM (a CI runner cancelling the job) unwinds like Ctrl-C, so that context managers
    # stop what the command started (a managed model server, sandbox runs).
    signal.signal(signal.SIGTERM, _terminated)
    try:
        app(args=argv, standalone_mode=True)
    except (AssayError, FlowsError, IndexerError) as exc:
        if _state["debug"]:
            raise
        err.print(Text.assemble(("error: ", "bold red"), str(exc)), soft_wrap=True)
        sys.exit(getattr(exc, "exit_code", 2))


if __name__ == "__main__":
    main()
