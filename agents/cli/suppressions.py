"""``assay policy suppressions``: findings people marked wrong, per repository.

A review never posts a suppressed finding again for that repository (its fingerprint is
remembered).  The PR bot adds entries from a thumbs-down or ``/assay wrong [reason]``; here they
are listed, added by hand (a fingerprint from ``assay review --json``) and removed.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agents.cli.common import settings_for

if TYPE_CHECKING:
    from agents.review.suppressions import Suppressions

app = typer.Typer(
    help="Findings marked wrong, per repository: list (default), add, remove.",
    invoke_without_command=True,
)
out = Console()
RepoNameOpt = Annotated[
    str | None,
    typer.Option(
        "--repo",
        help="The repository's name (the PR bot's owner/name, or the "
        "directory name for 'assay review').",
    ),
]


def _store() -> Suppressions:
    from agents.review.suppressions import Suppressions

    return Suppressions.for_settings(settings_for(None).settings)


@app.callback()
def suppressions_list(
    ctx: typer.Context,
    repo: RepoNameOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List the suppressed findings (of one repository with --repo)."""
    if ctx.invoked_subcommand is not None:
        return
    items = _store().list(repo)
    if as_json:
        out.print_json(json.dumps([s.as_dict() for s in items]))
        return
    if not items:
        out.print("No suppressed findings" + (f" in {escape(repo)}." if repo else "."))
        return
    table = Table(title="suppressed findings")
    for column in ("repo", "fingerprint", "where", "finding", "reason", "by", "when"):
        table.add_column(column, overflow="fold")
    for s in items:
        when = time.strftime("%Y-%m-%d", time.gmtime(s.created_at))
        table.add_row(s.repo, s.fingerprint, s.path, s.message[:80], s.reason, s.by, when)
    out.print(table)


@app.command("add")
def suppressions_add(
    fingerprint: Annotated[str, typer.Argument(help="The finding's fingerprint (12 hex).")],
    repo: Annotated[str, typer.Option("--repo", help="The repository's name.")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is wrong.")] = "",
) -> None:
    """Never post this finding again in this repository."""
    item = _store().add(repo, fingerprint, reason=reason, by="cli")
    out.print(f"Suppressed {item.fingerprint} in {escape(repo)}.")


@app.command("remove")
def suppressions_remove(
    fingerprint: Annotated[str, typer.Argument(help="The finding's fingerprint.")],
    repo: Annotated[str, typer.Option("--repo", help="The repository's name.")],
) -> None:
    """Post this finding again when a review finds it."""
    from agents.errors import InputError

    if not _store().remove(repo, fingerprint):
        raise InputError(
            f"No suppressed finding {fingerprint} in {repo}",
            "see 'assay policy suppressions --repo NAME' for what is there",
        )
    out.print(f"Removed {fingerprint} from {escape(repo)}'s suppressions.")
