"""JSONL traces: one line per LLM call or flow event, for `assay trace show` and debugging."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any


class TraceWriter:
    """Appends one JSON object per line to ``path`` (created with its parents on first write).

    Each line is written with a single ``write`` call and flushed, so a crash loses at most the
    line being written and concurrent writers in one process never interleave.
    """

    def __init__(self, path: Path, *, include_content: bool = False, **context: Any) -> None:
        self.path = Path(path)
        self.include_content = include_content  # prompts and replies too, not only their sizes
        self.context = context
        self._lock = threading.Lock()

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(
            {"ts": round(time.time(), 3), **self.context, **record},
            ensure_ascii=False,
            default=str,
        )
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")


def read_trace(path: Path) -> list[dict[str, Any]]:
    """The records of a trace file; a torn last line (a crash mid-write) is skipped."""
    records: list[dict[str, Any]] = []
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
    return records
