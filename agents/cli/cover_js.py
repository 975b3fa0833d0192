"""``assay cover`` on a JavaScript/TypeScript package: the CLI's side of
:mod:`agents.cover.js.engine` (progress, the model's calls, the dry run's diff)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from agents.cli.common import err
from agents.cli.guards import ModelCalls
from agents.cover.display import CoverDisplay
from agents.cover.report import CoverReport


def cover_js(
    repo: Path,
    s: Any,
    options: Any,
    install_command: str | None,
    check_endpoint: Callable[[Any], None],
    choose: Callable[[list[Any]], list[int]] | None = None,
) -> tuple[CoverReport, ModelCalls]:
    """``assay cover`` on a JavaScript/TypeScript package (:mod:`agents.cover.js.engine`);
    ``choose`` (``assay tests``) is asked which explored behaviours to test, with the progress
    display paused while it asks."""
    from agents.cover.js.engine import JsCoverAgent
    from agents.runtime import open_run

    progress = Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(bar_width=20),
        MofNCompleteColumn(), TimeElapsedColumn(), console=err, transient=True,
    )  # fmt: skip
    calls = ModelCalls()

    def paused(behaviours: list[Any]) -> list[int]:
        assert choose is not None
        progress.stop()
        try:
            return choose(behaviours)
        finally:
            progress.start()

    with (
        progress,
        open_run(s, "cover", repo=repo, language="javascript", wrap_llm=calls.wrap) as run,
    ):
        assert run.sandbox is not None and run.llm is not None
        check_endpoint(run.llm)
        agent = JsCoverAgent(
            repo, run.llm, run.sandbox, options, install_command=install_command,
            listener=CoverDisplay(progress), trace=run.trace,
            choose=paused if choose is not None else None,
        )  # fmt: skip
        report = agent.run()
    if options.dry_run and report.diff:
        sys.stdout.write(report.diff)
    return report, calls
