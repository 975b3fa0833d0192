"""The ``assay`` command line: one module per command group, assembled in :mod:`.main`."""

from __future__ import annotations

from typing import Any

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    """The ``assay`` console script (see :func:`agents.cli.main.main`)."""
    from agents.cli.main import main as run

    run(argv)


def __getattr__(name: str) -> Any:
    if name == "app":
        from agents.cli.main import app

        return app
    raise AttributeError(f"module 'agents.cli' has no attribute {name!r}")
