"""``python -m agents.cli``: the ``assay`` command."""

from agents.cli.main import main

main()
