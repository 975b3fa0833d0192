"""What admins set: API tokens (hashed) and the repositories the API can work on.

One SQLite file in ``ASSAY_HOME/service/admin.db`` on the API server (workers do not need it:
a job carries the repository path it needs).  The quality policy is the index's
(:mod:`agents.indexing`).  A token is stored as the SHA-256 of the
token, never the token itself.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.service.store import SqliteDB

ADMIN_SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, hash TEXT NOT NULL, scopes TEXT NOT NULL,
    created_at REAL NOT NULL, last_used REAL, revoked_at REAL
);
CREATE TABLE IF NOT EXISTS repos (name TEXT PRIMARY KEY, data TEXT NOT NULL, updated REAL);
"""


@dataclass
class TokenRecord:
    id: str
    name: str
    hash: str
    scopes: list[str]
    created_at: float
    last_used: float | None = None
    revoked_at: float | None = None

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "scopes": self.scopes,
            "created_at": self.created_at,
            "last_used": self.last_used,
            "revoked": self.revoked_at is not None,
        }


@dataclass
class Repo:
    name: str
    path: str | None = None  # a checkout on the server's machine
    clone_url: str | None = None
    default_branch: str = "main"
    extra: dict[str, Any] = field(default_factory=dict)


class AdminStore:
    def __init__(self, path: Path) -> None:
        self.db = SqliteDB(path, ADMIN_SCHEMA)

    # -- tokens -------------------------------------------------------------------------------

    def add_token(self, record: TokenRecord) -> None:
        with self.db.tx() as db:
            db.execute(
                "INSERT INTO tokens (id, name, hash, scopes, created_at) VALUES (?, ?, ?, ?, ?)",
                (record.id, record.name, record.hash, json.dumps(record.scopes), record.created_at),
            )

    def token(self, token_id: str) -> TokenRecord | None:
        row = self.db.conn().execute("SELECT * FROM tokens WHERE id = ?", (token_id,)).fetchone()
        if row is None:
            return None
        data = dict(row)
        data["scopes"] = json.loads(data["scopes"])
        return TokenRecord(**data)

    def tokens(self) -> list[TokenRecord]:
        ids = [r[0] for r in self.db.conn().execute("SELECT id FROM tokens ORDER BY created_at")]
        return [t for t in (self.token(i) for i in ids) if t is not None]

    def revoke_token(self, token_id: str) -> bool:
        with self.db.tx() as db:
            cur = db.execute(
                "UPDATE tokens SET revoked_at=? WHERE id=? AND revoked_at IS NULL",
                (time.time(), token_id),
            )
            return cur.rowcount == 1

    def touch_token(self, token_id: str) -> None:
        with self.db.tx() as db:
            db.execute("UPDATE tokens SET last_used=? WHERE id=?", (time.time(), token_id))

    # -- repositories and policies ------------------------------------------------------------

    def put_repo(self, repo: Repo) -> None:
        data = {
            "path": repo.path,
            "clone_url": repo.clone_url,
            "default_branch": repo.default_branch,
            **repo.extra,
        }
        with self.db.tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO repos (name, data, updated) VALUES (?, ?, ?)",
                (repo.name, json.dumps(data), time.time()),
            )

    def repo(self, name: str) -> Repo | None:
        row = self.db.conn().execute("SELECT data FROM repos WHERE name = ?", (name,)).fetchone()
        if row is None:
            return None
        data = json.loads(row[0])
        return Repo(
            name=name,
            path=data.pop("path", None),
            clone_url=data.pop("clone_url", None),
            default_branch=data.pop("default_branch", "main"),
            extra=data,
        )

    def repos(self) -> list[Repo]:
        names = [r[0] for r in self.db.conn().execute("SELECT name FROM repos ORDER BY name")]
        return [r for r in (self.repo(n) for n in names) if r is not None]

    def ping(self) -> None:
        self.db.conn().execute("SELECT 1").fetchone()

    def close(self) -> None:
        self.db.close()
