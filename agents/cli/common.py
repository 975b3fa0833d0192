"""What several ``assay`` commands share: the consoles, the option declarations, and
:func:`settings_for` (one precedence for every command)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from agents.runtime import resolve_repo
from agents.settings import LoadedSettings, load_settings

out = Console()
err = Console(stderr=True)

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
InstallCommandOpt = Annotated[
    str | None,
    typer.Option(
        "--install-command",
        help="JavaScript/TypeScript: install the package's dependencies in the sandbox's copy "
        "first, with the network (e.g. 'npm ci'); default: use its node_modules.",
    ),
]
TestCommandOpt = Annotated[
    str | None,
    typer.Option("--test-command", help="The project's pytest command [default: pytest]."),
]
ReportOpt = Annotated[Path | None, typer.Option("--report", help="Write the results as JSON here.")]


# The flag of a setting where it is not ``--<the key with dashes>``.
FLAGS = {
    "cache": "--no-cache",
    "cover_repeat": "--repeat",
    "cover_attempts": "--attempts",
    "cover_tests_per_target": "--tests-per-target",
    "cover_candidate_timeout": "--candidate-timeout",
    "cover_mutation": "--no-mutation",
    "cover_explore": "--no-explore",
    "cover_explore_seconds": "--explore-seconds",
    "service_host": "--host",
    "service_port": "--port",
}


def flag_of(key: str) -> str:
    return FLAGS.get(key, "--" + key.replace("_", "-"))


def settings_for(repo: Path | None, **flags: Any) -> LoadedSettings:
    """Settings for a command: flags (``None`` = not given) over env over the repo's files."""
    root = resolve_repo(repo) if repo is not None else None
    if flags.pop("no_cache", False):
        flags["cache"] = False
    return load_settings(root, flags, {key: flag_of(key) for key in flags})
