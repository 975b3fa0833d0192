"""``assay lsp``: the language server for editors, speaking LSP on stdin/stdout."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer


def lsp(
    stdio: Annotated[
        bool, typer.Option("--stdio", help="Speak LSP on stdin/stdout (the default).")
    ] = True,
    log_level: Annotated[
        str, typer.Option("--log-level", help="Server log on stderr: DEBUG, INFO, WARNING.")
    ] = "INFO",
) -> None:
    """The language server for editors (VS Code, Neovim, JetBrains): code lenses to generate
    tests, raise a file's coverage, review your changes; settings come from the editor.

    Exit codes: 0 after the editor's shutdown and exit (or when its input ends), 1 on an exit
    without a shutdown; running work is cancelled either way."""
    # The protocol owns stdout: a stray print or a child process writing there would corrupt
    # it, so everything else that writes to fd 1 (or sys.stdout) goes to stderr.
    protocol_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    from agents.lsp.features import run_stdio

    run_stdio(log_level, stdout=protocol_out)
