"""The repositories the index knows: where each comes from and what its last run did.

A small JSON file (``repos.json`` in the index directory), written atomically.  The chunks
themselves live in the store; this is what ``assay index update`` and ``status`` read.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from indexer.errors import IndexerError, RepoNotIndexed


@dataclass
class RepoRecord:
    name: str
    location: str  # an absolute path or a URL
    ref: str | None = None  # None: HEAD (a URL's default branch)
    commit: str | None = None
    model: str = ""
    last_run: str | None = None  # ISO 8601, UTC
    files: int = 0
    chunks: int = 0
    problems: int = 0
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


class Registry:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, RepoRecord]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise IndexerError(
                f"Cannot read the index registry {self.path}: {exc}",
                "fix or delete it, then 'assay index add' the repositories again",
            ) from exc
        known = {f.name for f in fields(RepoRecord)}
        return {
            name: RepoRecord(**{k: v for k, v in rec.items() if k in known})
            for name, rec in data.get("repos", {}).items()
        }

    def get(self, name: str) -> RepoRecord:
        records = self.load()
        if name not in records:
            known = ", ".join(sorted(records)) or "none yet"
            raise RepoNotIndexed(
                f"Repository {name!r} is not in the index (indexed: {known})",
                "add it with 'assay index add PATH|URL'",
            )
        return records[name]

    def put(self, record: RepoRecord) -> None:
        records = self.load()
        records[record.name] = record
        self._save(records)

    def remove(self, name: str) -> None:
        records = self.load()
        records.pop(name, None)
        self._save(records)

    def _save(self, records: dict[str, RepoRecord]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"version": 1, "repos": {n: asdict(r) for n, r in sorted(records.items())}}
        fd, tmp = tempfile.mkstemp(prefix=".repos-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=2)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
