"""``assay config show``: every setting, its value and where it came from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from agents.cli.common import RepoOpt, out, settings_for

config_app = typer.Typer(help="Show the effective settings.", no_args_is_help=True)


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
        "[dim]Precedence: command-line flag > env ASSAY_<KEY> > the repository's assay.toml > "
        ".assay.toml ([review], [tests]) > [tool.assay] in pyproject.toml > default.[/dim]"
    )
