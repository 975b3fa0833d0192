"""Command-line options that several ``assay`` commands share: one declaration each."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

RepoOpt = Annotated[
    Path,
    typer.Option("--repo", "-C", help="The repository whose assay.toml / pyproject applies."),
]
PythonOpt = Annotated[
    str | None,
    typer.Option("--python", help="Interpreter of the project under test (default: assay's)."),
]
BaseUrlOpt = Annotated[
    str | None,
    typer.Option("--llm-base-url", help="OpenAI-compatible endpoint (default: embedded model)."),
]
ModelOpt = Annotated[str | None, typer.Option("--llm-model", help="Model name at the endpoint.")]
NoCacheOpt = Annotated[
    bool, typer.Option("--no-cache", help="Do not reuse cached LLM answers for this run.")
]
TestCommandOpt = Annotated[
    str | None,
    typer.Option("--test-command", help="The project's pytest command [default: pytest]."),
]
ReportOpt = Annotated[Path | None, typer.Option("--report", help="Write the results as JSON here.")]
