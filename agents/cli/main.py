"""The ``assay`` command line (typer + rich): the app, its command groups, the entry point.

Exit codes (documented in the README):
    0  success
    1  the command ran and found a problem (``doctor`` checks failed, ``cover --fail-under``)
    2  bad input or an error: one line on stderr saying what and how to fix it
  130  interrupted (Ctrl-C)

Each command group lives in a module of its own (``agents.cli.<group>``); this module only
assembles them.
"""

from __future__ import annotations

import signal
import sys
from typing import Annotated, Any

import typer
from rich.text import Text

from agents import __version__
from agents.cli import (
    bundle,
    config,
    cover,
    doctor,
    flows,
    index,
    lsp,
    model,
    review,
    service,
    suppressions,
)
from agents.cli import testgen as tests
from agents.cli.common import err, out
from agents.errors import AssayError
from flows import FlowsError
from indexer import IndexerError

app = typer.Typer(
    name="assay",
    help="Tests that really run and really catch bugs, on models you control.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)

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


app.add_typer(config.config_app, name="config")
app.command("doctor")(doctor.doctor)
app.add_typer(model.model_app, name="model")
app.command("cover")(cover.cover)
app.command("review")(review.review)
app.command("serve")(service.serve)
app.command("worker")(service.worker)
app.add_typer(service.token_app, name="token")
app.command("solve")(flows.solve)
app.command("tests")(tests.tests_command)
app.add_typer(flows.trace_app, name="trace")
app.add_typer(index.index_app, name="index")
app.command("search")(index.search)
index.policy_app.add_typer(suppressions.app, name="suppressions")
app.add_typer(index.policy_app, name="policy")
app.command("lsp")(lsp.lsp)
app.add_typer(bundle.bundle_app, name="bundle")


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
