"""The service's state: jobs and webhook deliveries (SQLite here, Redis in :mod:`.redis_store`),
API tokens, repositories and their quality policies (SQLite in ``ASSAY_HOME/service``).

A job is a row that outlives any process: ``queued`` → ``running`` (claimed by one worker with a
lease it renews while it works) → ``done`` or ``failed``.  :meth:`SqliteJobs.claim` is one atomic
compare-and-set: a job runs in one place at a time, and a job whose worker died (its lease ran
out) is claimed again by the next worker, up to ``max_attempts`` runs.  Only the worker holding
the claim can record progress or the result, so a result is recorded once.
"""

from __future__ import annotations

import builtins
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

STATES = ("queued", "running", "done", "failed")


@dataclass
class Job:
    id: str
    kind: str
    params: dict[str, Any]
    state: str = "queued"
    progress: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    error: str | None = None
    attempts: int = 0
    worker: str | None = None
    lease_until: float | None = None
    created_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    dedupe_key: str | None = None
    token: str | None = None  # id of the API token that asked for it

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")

    def public(self) -> dict[str, Any]:
        """What the API shows (parameters with large texts elided)."""
        data = asdict(self)
        data["params"] = {
            k: (f"<{len(v)} characters>" if isinstance(v, str) and len(v) > 500 else v)
            for k, v in self.params.items()
        }
        data.pop("lease_until")
        return data


class JobStore(Protocol):
    """Jobs and delivery ids, shared by the API server and every worker."""

    def create(
        self, kind: str, params: dict[str, Any], *, token: str | None = None,
        dedupe_key: str | None = None,
    ) -> tuple[Job, bool]: ...  # fmt: skip

    def get(self, job_id: str) -> Job | None: ...

    def list(self, limit: int = 50) -> builtins.list[Job]: ...

    def claim(self, job_id: str, worker: str, lease: float, max_attempts: int) -> Job | None: ...

    def heartbeat(self, job_id: str, worker: str, lease: float) -> bool: ...

    def set_progress(self, job_id: str, worker: str, progress: dict[str, Any]) -> bool: ...

    def finish(self, job_id: str, worker: str, result: dict[str, Any]) -> bool: ...

    def fail(self, job_id: str, worker: str, error: str, *, retry: bool) -> bool: ...

    def stale(self, now: float) -> builtins.list[str]: ...

    def queued(self) -> builtins.list[str]: ...

    def first_delivery(self, key: str, ttl: float) -> bool: ...

    def forget_delivery(self, key: str) -> None: ...

    def purge(self, finished_before: float) -> int: ...

    def ping(self) -> None: ...

    def close(self) -> None: ...


class SqliteDB:
    """One SQLite file, a connection per thread, WAL, and a busy timeout."""

    def __init__(self, path: Path, schema: str) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self.conn().executescript(schema)  # idempotent: CREATE … IF NOT EXISTS

    def conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """An immediate (write-locked) transaction."""
        conn = self.conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


JOBS_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, params TEXT NOT NULL, state TEXT NOT NULL,
    progress TEXT NOT NULL DEFAULT '{}', result TEXT, error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0, worker TEXT, lease_until REAL,
    created_at REAL NOT NULL, started_at REAL, finished_at REAL, dedupe_key TEXT UNIQUE,
    token TEXT
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, lease_until);
CREATE TABLE IF NOT EXISTS deliveries (key TEXT PRIMARY KEY, expires REAL NOT NULL);
"""


def _job(row: sqlite3.Row) -> Job:
    data = dict(row)
    data["params"] = json.loads(data["params"])
    data["progress"] = json.loads(data["progress"] or "{}")
    data["result"] = json.loads(data["result"]) if data["result"] else None
    return Job(**data)


class SqliteJobs:
    """The embedded job store: a table in ``ASSAY_HOME/service/jobs.db``."""

    def __init__(self, path: Path) -> None:
        self.db = SqliteDB(path, JOBS_SCHEMA)

    def create(
        self, kind: str, params: dict[str, Any], *, token: str | None = None,
        dedupe_key: str | None = None,
    ) -> tuple[Job, bool]:  # fmt: skip
        job = Job(uuid.uuid4().hex, kind, params, created_at=time.time(), dedupe_key=dedupe_key)
        job.token = token
        with self.db.tx() as db:
            if dedupe_key:
                row = db.execute(
                    "SELECT * FROM jobs WHERE dedupe_key = ?", (dedupe_key,)
                ).fetchone()
                if row is not None:
                    return _job(row), False
            db.execute(
                "INSERT INTO jobs (id, kind, params, state, created_at, dedupe_key, token) "
                "VALUES (?, ?, ?, 'queued', ?, ?, ?)",
                (job.id, kind, json.dumps(params), job.created_at, dedupe_key, token),
            )
        return job, True

    def get(self, job_id: str) -> Job | None:
        row = self.db.conn().execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _job(row) if row else None

    def list(self, limit: int = 50) -> builtins.list[Job]:
        rows = self.db.conn().execute(
            "SELECT * FROM jobs ORDER BY created_at DESC LIMIT ?", (limit,)
        )
        return [_job(r) for r in rows]

    def claim(self, job_id: str, worker: str, lease: float, max_attempts: int) -> Job | None:
        now = time.time()
        with self.db.tx() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return None
            job = _job(row)
            claimable = job.state == "queued" or (
                job.state == "running" and (job.lease_until or 0) < now
            )
            if not claimable:
                return None
            if job.attempts >= max_attempts:
                db.execute(
                    "UPDATE jobs SET state='failed', finished_at=?, lease_until=NULL, error=? "
                    "WHERE id=?",
                    (now, f"gave up after {job.attempts} run(s): the worker stopped each time",
                     job_id),
                )  # fmt: skip
                return None
            db.execute(
                "UPDATE jobs SET state='running', worker=?, lease_until=?, attempts=attempts+1, "
                "started_at=COALESCE(started_at, ?) WHERE id=?",
                (worker, now + lease, now, job_id),
            )
        job.state, job.worker, job.attempts = "running", worker, job.attempts + 1
        job.lease_until, job.started_at = now + lease, job.started_at or now
        return job

    def _update(self, sql: str, args: tuple[Any, ...]) -> bool:
        with self.db.tx() as db:
            return db.execute(sql, args).rowcount == 1

    def heartbeat(self, job_id: str, worker: str, lease: float) -> bool:
        return self._update(
            "UPDATE jobs SET lease_until=? WHERE id=? AND worker=? AND state='running'",
            (time.time() + lease, job_id, worker),
        )

    def set_progress(self, job_id: str, worker: str, progress: dict[str, Any]) -> bool:
        return self._update(
            "UPDATE jobs SET progress=? WHERE id=? AND worker=? AND state='running'",
            (json.dumps(progress), job_id, worker),
        )

    def finish(self, job_id: str, worker: str, result: dict[str, Any]) -> bool:
        return self._update(
            "UPDATE jobs SET state='done', result=?, error=NULL, finished_at=?, lease_until=NULL "
            "WHERE id=? AND worker=? AND state='running'",
            (json.dumps(result), time.time(), job_id, worker),
        )

    def fail(self, job_id: str, worker: str, error: str, *, retry: bool) -> bool:
        if retry:
            return self._update(
                "UPDATE jobs SET state='queued', error=?, lease_until=NULL "
                "WHERE id=? AND worker=? AND state='running'",
                (error, job_id, worker),
            )
        return self._update(
            "UPDATE jobs SET state='failed', error=?, finished_at=?, lease_until=NULL "
            "WHERE id=? AND worker=? AND state='running'",
            (error, time.time(), job_id, worker),
        )

    def stale(self, now: float) -> builtins.list[str]:
        rows = self.db.conn().execute(
            "SELECT id FROM jobs WHERE state='running' AND lease_until < ?", (now,)
        )
        return [r[0] for r in rows]

    def queued(self) -> builtins.list[str]:
        rows = self.db.conn().execute("SELECT id FROM jobs WHERE state='queued'")
        return [r[0] for r in rows]

    def first_delivery(self, key: str, ttl: float) -> bool:
        now = time.time()
        with self.db.tx() as db:
            db.execute("DELETE FROM deliveries WHERE key=? AND expires < ?", (key, now))
            cur = db.execute(
                "INSERT OR IGNORE INTO deliveries (key, expires) VALUES (?, ?)", (key, now + ttl)
            )
            return cur.rowcount == 1

    def forget_delivery(self, key: str) -> None:
        with self.db.tx() as db:
            db.execute("DELETE FROM deliveries WHERE key=?", (key,))

    def purge(self, finished_before: float) -> int:
        with self.db.tx() as db:
            db.execute("DELETE FROM deliveries WHERE expires < ?", (time.time(),))
            cur = db.execute(
                "DELETE FROM jobs WHERE state IN ('done', 'failed') AND finished_at < ?",
                (finished_before,),
            )
            return cur.rowcount

    def ping(self) -> None:
        self.db.conn().execute("SELECT 1").fetchone()

    def close(self) -> None:
        self.db.close()
