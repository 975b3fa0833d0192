"""The ``assay`` command line (typer + rich): the app, its command groups, the entry point.

Exit codes (documented in the README):
    0  success
    1  the command ran and found a problem (``doctor`` checks failed, ``cover --fail-under``)
    2  bad input or an error: one line on stderr saying what and how to fix it (usage errors
       too: an unknown option, a value of the wrong type or out of range)
    3  the model failed on every call of the run (:class:`~agents.errors.ModelFailedError`):
       CI fails loudly instead of passing having done nothing
  130  interrupted (Ctrl-C, SIGTERM)

Each command group lives in a module of its own (``agents.cli.<group>``); this module only
assembles them.
"""

from __future__ import annotations

import signal
import sys
from typing import Annotated, Any

import typer
from rich.text import Text
from typer._click.exceptions import ClickException, NoArgsIsHelpError  # typer's own click

from agents import __version__
from agents.cli import (
    bundle,
    config,
    cover,
    describe,
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
from flows import FlowsError, mask_url
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
app.command("describe")(describe.describe)
app.command("ask")(describe.ask)
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
        code = app(args=argv, prog_name="assay", standalone_mode=False)
    except NoArgsIsHelpError as exc:  # `assay`, `assay index`: the help, as before
        exc.show()
        sys.exit(exc.exit_code)
    except ClickException as exc:  # an unknown option, a value of the wrong type or range
        _error(exc.format_message(), _help_hint(exc))
        sys.exit(2)
    except typer.Abort:
        err.print("aborted")
        sys.exit(1)
    except (AssayError, FlowsError, IndexerError) as exc:
        if _state["debug"]:
            raise
        _error(str(exc))
        sys.exit(getattr(exc, "exit_code", 2))
    sys.exit(code if isinstance(code, int) else 0)


def _error(message: str, fix: str = "") -> None:
    """The one line of a failed command (URL passwords masked: error lines end up in CI logs)."""
    line = mask_url(" ".join(message.split()).rstrip(".") + (f": {fix}" if fix else ""))
    err.print(Text.assemble(("error: ", "bold red"), line), soft_wrap=True)


def _help_hint(exc: ClickException) -> str:
    ctx = getattr(exc, "ctx", None)
    return f"see '{ctx.command_path} --help'" if ctx is not None else "see 'assay --help'"
