"""``assay lsp``: the language server editors talk to (VS Code, Neovim, JetBrains).

Code lenses "Generate tests" over Python functions, methods and classes (and the exported
functions, classes and methods of JavaScript/TypeScript packages); commands that generate
tests for a symbol, raise the coverage of a file, and review the changes against a base branch
(findings as diagnostics, suggested changes as code actions).  Work runs in worker threads with
``$/progress`` and can be cancelled; tests come back as a ``workspace/applyEdit`` the editor
previews before it applies.  The engine runs here (:mod:`agents.lsp.local`) or in an assay
service (:mod:`agents.lsp.remote`).

Modules: :mod:`~agents.lsp.config` (editor settings → assay settings), :mod:`~agents.lsp.documents`
(symbols and lenses), :mod:`~agents.lsp.edits` (patches → workspace edits),
:mod:`~agents.lsp.jobs` (cancellation and progress), :mod:`~agents.lsp.findings` (review
diagnostics), :mod:`~agents.lsp.commands` (the commands), :mod:`~agents.lsp.server` (the server
class), :mod:`~agents.lsp.features` (what it answers, and :func:`run_stdio`).
"""

from __future__ import annotations

__all__ = ["serve"]


def serve(log_level: str = "INFO") -> None:
    """Run the server on stdin/stdout until the client says exit."""
    from agents.lsp.features import run_stdio

    run_stdio(log_level)
