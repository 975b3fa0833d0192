"""JSONL traces: one line per LLM call or flow event, for `assay trace show` and debugging.

Traces hold prompts (code, test output): the file is created readable by its owner only (0600,
and an older file is tightened when written to), its directory 0700 where we create it, and a
``redact`` function (e.g. :meth:`flows.credentials.CredentialScreen.redact`) is applied to
every string of a record before it is written.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _redacted(value: Any, redact: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redacted(item, redact) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(item, redact) for item in value]
    return value


class TraceWriter:
    """Appends one JSON object per line to ``path`` (created with its parents on first write).

    Each line is written with a single ``write`` call and flushed, so a crash loses at most the
    line being written and concurrent writers in one process never interleave.
    """

    def __init__(
        self,
        path: Path,
        *,
        include_content: bool = False,
        redact: Callable[[str], str] | None = None,
        **context: Any,
    ) -> None:
        self.path = Path(path)
        self.include_content = include_content  # prompts and replies too, not only their sizes
        self.redact = redact
        self.context = context
        self._lock = threading.Lock()

    def write(self, record: dict[str, Any]) -> None:
        full = {"ts": round(time.time(), 3), **self.context, **record}
        if self.redact is not None:
            full = _redacted(full, self.redact)
        line = json.dumps(full, ensure_ascii=False, default=str)
        with self._lock:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as fh:
                if os.fstat(fd).st_mode & 0o077:
                    os.fchmod(fd, 0o600)
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
