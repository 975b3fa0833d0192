"""pytest plugin of score.py: deselect exactly the test ids listed in $BENCH_DESELECT.

pytest's own ``--deselect`` matches node-id *prefixes* (``test_1`` also drops ``test_10`` …
``test_19``), which would drop passing tests of generated suites named ``test_0`` … ``test_N``.
Loaded with ``-p bench_deselect`` from a directory on PYTHONPATH; the file holds one id a line.
"""

from __future__ import annotations

import os
from pathlib import Path


def pytest_collection_modifyitems(config, items):
    path = os.environ.get("BENCH_DESELECT")
    if not path or not Path(path).exists():
        return
    drop = set(Path(path).read_text().splitlines())
    if not drop:
        return
    kept = [it for it in items if it.nodeid not in drop]
    gone = [it for it in items if it.nodeid in drop]
    if gone:
        config.hook.pytest_deselected(items=gone)
        items[:] = kept
