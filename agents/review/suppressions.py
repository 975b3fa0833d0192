"""Findings a person marked wrong, remembered per repository by fingerprint.

A dismissed finding (a thumbs-down or ``/assay wrong [reason]`` on the PR bot's comment, ``assay
policy suppressions add``, or the REST API) is not posted again for that repository, on later
pushes or other pull requests: reviews drop findings whose fingerprint is suppressed and count
them.  The store is SQLite in ``ASSAY_HOME`` (``suppressions.sqlite``), shared by the CLI, the
service and its worker threads; ``assay policy suppressions`` lists and removes entries.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from agents.errors import InputError
from agents.settings import Settings

_FINGERPRINT = re.compile(r"^[0-9a-f]{12}$")
SCHEMA = """
CREATE TABLE IF NOT EXISTS suppressions (
    repo TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    path TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    by TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    PRIMARY KEY (repo, fingerprint)
)
"""


@dataclass(frozen=True)
class Suppression:
    repo: str
    fingerprint: str
    path: str = ""
    message: str = ""
    reason: str = ""
    by: str = ""  # who dismissed it ("github:alice", "cli")
    created_at: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_fingerprint(value: str) -> str:
    value = value.strip().lower()
    if not _FINGERPRINT.match(value):
        raise InputError(
            f"{value!r} is not a finding's fingerprint",
            "pass the 12 hexadecimal characters shown with the finding (JSON 'fingerprint')",
        )
    return value


class Suppressions:
    """The store (a connection per operation: safe across threads and processes)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def for_settings(cls, settings: Settings) -> Suppressions:
        return cls(settings.home / "suppressions.sqlite")

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30)
        try:
            db.execute(SCHEMA)
            yield db
            db.commit()
        finally:
            db.close()

    def add(
        self, repo: str, fingerprint: str, *, path: str = "", message: str = "",
        reason: str = "", by: str = "",
    ) -> Suppression:  # fmt: skip
        """Remember a dismissal (a repeat updates the reason)."""
        item = Suppression(repo, check_fingerprint(fingerprint), path, message[:500],
                           reason[:500], by[:100], time.time())  # fmt: skip
        with self._db() as db:
            db.execute(
                "INSERT INTO suppressions VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (repo, fingerprint) DO UPDATE SET reason = excluded.reason, "
                "by = excluded.by",
                (item.repo, item.fingerprint, item.path, item.message, item.reason, item.by,
                 item.created_at),
            )  # fmt: skip
        return item

    def remove(self, repo: str, fingerprint: str) -> bool:
        with self._db() as db:
            done = db.execute(
                "DELETE FROM suppressions WHERE repo = ? AND fingerprint = ?",
                (repo, check_fingerprint(fingerprint)),
            )
            return done.rowcount > 0

    def list(self, repo: str | None = None) -> list[Suppression]:
        if not self.path.exists():
            return []
        query = "SELECT * FROM suppressions"
        args: tuple[str, ...] = ()
        if repo is not None:
            query, args = query + " WHERE repo = ?", (repo,)
        with self._db() as db:
            rows = db.execute(query + " ORDER BY repo, created_at", args).fetchall()
        return [Suppression(*row) for row in rows]

    def fingerprints(self, repo: str) -> set[str]:
        return {s.fingerprint for s in self.list(repo)}
