"""The scale-out job store: the same jobs and delivery ids as :class:`~.store.SqliteJobs`, in Redis.

A job is a hash ``assay:job:<id>`` (``state``, ``worker``, ``lease_until``, ``attempts`` as fields
for the scripts, the rest as JSON in ``doc``), listed in the sorted set ``assay:jobs`` by creation
time.  Claiming, and every update a worker makes, is a Lua script: one atomic compare-and-set, as
in SQLite, so the API server and any number of ``assay worker`` machines can share it.
"""

from __future__ import annotations

import builtins
import json
import time
import uuid
from typing import Any

import redis

from agents.errors import ServiceError
from agents.service.store import Job

PREFIX = "assay:"
JOBS = PREFIX + "jobs"
RUNNING = PREFIX + "running"

_CLAIM = """
local k = KEYS[1]
local state = redis.call('HGET', k, 'state')
if not state then return 0 end
local now = tonumber(ARGV[1])
local lease = tonumber(redis.call('HGET', k, 'lease_until') or '0')
if not (state == 'queued' or (state == 'running' and lease < now)) then return 0 end
local attempts = tonumber(redis.call('HGET', k, 'attempts') or '0')
if attempts >= tonumber(ARGV[4]) then
  redis.call('HSET', k, 'state', 'failed', 'finished_at', ARGV[1], 'lease_until', '0',
             'error', 'gave up after ' .. attempts .. ' run(s): the worker stopped each time')
  redis.call('ZREM', KEYS[2], ARGV[5])
  return -1
end
redis.call('HSET', k, 'state', 'running', 'worker', ARGV[2], 'lease_until', ARGV[3],
           'attempts', attempts + 1)
if not redis.call('HGET', k, 'started_at') then redis.call('HSET', k, 'started_at', ARGV[1]) end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[5])
return 1
"""

# KEYS: job hash, running zset.  ARGV: worker, then field/value pairs to set, then the id and the
# lease: '' takes the job off the running set, 'keep' leaves it, a number moves it.
_UPDATE = """
local k = KEYS[1]
if redis.call('HGET', k, 'state') ~= 'running' then return 0 end
if redis.call('HGET', k, 'worker') ~= ARGV[1] then return 0 end
local n = tonumber(ARGV[2])
for i = 0, n - 1 do
  redis.call('HSET', k, ARGV[3 + 2 * i], ARGV[4 + 2 * i])
end
local id, lease = ARGV[3 + 2 * n], ARGV[4 + 2 * n]
if lease == '' then
  redis.call('ZREM', KEYS[2], id)
elseif lease ~= 'keep' then
  redis.call('ZADD', KEYS[2], lease, id)
end
return 1
"""


def _num(value: Any) -> float | None:
    if value in (None, b"", ""):
        return None
    number = float(value)
    return number or None


class RedisJobs:
    """Jobs and delivery ids in Redis (``ASSAY_REDIS_URL``)."""

    def __init__(self, url: str) -> None:
        try:
            self.r = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
        except ValueError as exc:
            raise ServiceError(f"Invalid Redis URL: {exc}", "fix ASSAY_REDIS_URL") from exc
        self._claim = self.r.register_script(_CLAIM)
        self._update_script = self.r.register_script(_UPDATE)

    @staticmethod
    def _key(job_id: str) -> str:
        return f"{PREFIX}job:{job_id}"

    def create(
        self, kind: str, params: dict[str, Any], *, token: str | None = None,
        dedupe_key: str | None = None,
    ) -> tuple[Job, bool]:  # fmt: skip
        job = Job(uuid.uuid4().hex, kind, params, created_at=time.time(), dedupe_key=dedupe_key)
        job.token = token
        if dedupe_key:
            claimed = self.r.set(f"{PREFIX}dedupe:{dedupe_key}", job.id, nx=True)
            if not claimed:
                existing: Any = self.r.get(f"{PREFIX}dedupe:{dedupe_key}")
                found = self.get(existing.decode()) if existing else None
                if found is not None:
                    return found, False
                self.r.set(f"{PREFIX}dedupe:{dedupe_key}", job.id)
        doc = {"kind": kind, "params": params, "created_at": job.created_at,
               "dedupe_key": dedupe_key, "token": token}  # fmt: skip
        pipe = self.r.pipeline()
        pipe.hset(
            self._key(job.id),
            mapping={"state": "queued", "attempts": 0, "doc": json.dumps(doc), "progress": "{}"},
        )
        pipe.zadd(JOBS, {job.id: job.created_at})
        pipe.execute()
        return job, True

    def get(self, job_id: str) -> Job | None:
        raw: Any = self.r.hgetall(self._key(job_id))
        if not raw:
            return None
        h = {k.decode(): v.decode() for k, v in raw.items()}
        doc = json.loads(h["doc"])
        return Job(
            id=job_id,
            kind=doc["kind"],
            params=doc["params"],
            state=h["state"],
            progress=json.loads(h.get("progress") or "{}"),
            result=json.loads(h["result"]) if h.get("result") else None,
            error=h.get("error") or None,
            attempts=int(h.get("attempts") or 0),
            worker=h.get("worker") or None,
            lease_until=_num(h.get("lease_until")),
            created_at=doc["created_at"],
            started_at=_num(h.get("started_at")),
            finished_at=_num(h.get("finished_at")),
            dedupe_key=doc.get("dedupe_key"),
            token=doc.get("token"),
        )

    def list(self, limit: int = 50) -> builtins.list[Job]:
        ids: Any = self.r.zrevrange(JOBS, 0, limit - 1)
        return [j for j in (self.get(i.decode()) for i in ids) if j is not None]

    def claim(self, job_id: str, worker: str, lease: float, max_attempts: int) -> Job | None:
        now = time.time()
        keys = [self._key(job_id), RUNNING]
        done = self._claim(keys=keys, args=[now, worker, now + lease, max_attempts, job_id])
        return self.get(job_id) if done == 1 else None

    def _update(
        self, job_id: str, worker: str, fields: dict[str, Any], lease: float | str | None
    ) -> bool:
        flat: list[Any] = [worker, len(fields)]
        for key, value in fields.items():
            flat += [key, value]
        flat += [job_id, "" if lease is None else lease]
        return bool(self._update_script(keys=[self._key(job_id), RUNNING], args=flat))

    def heartbeat(self, job_id: str, worker: str, lease: float) -> bool:
        until = time.time() + lease
        return self._update(job_id, worker, {"lease_until": until}, until)

    def set_progress(self, job_id: str, worker: str, progress: dict[str, Any]) -> bool:
        return self._update(job_id, worker, {"progress": json.dumps(progress)}, "keep")

    def finish(self, job_id: str, worker: str, result: dict[str, Any]) -> bool:
        fields = {"state": "done", "result": json.dumps(result), "error": "",
                  "finished_at": time.time(), "lease_until": 0}  # fmt: skip
        return self._update(job_id, worker, fields, None)

    def fail(self, job_id: str, worker: str, error: str, *, retry: bool) -> bool:
        if retry:
            fields: dict[str, Any] = {"state": "queued", "error": error, "lease_until": 0}
        else:
            fields = {"state": "failed", "error": error, "finished_at": time.time(),
                      "lease_until": 0}  # fmt: skip
        return self._update(job_id, worker, fields, None)

    def stale(self, now: float) -> builtins.list[str]:
        ids: Any = self.r.zrangebyscore(RUNNING, 0, now)
        return [i.decode() for i in ids]

    def queued(self) -> builtins.list[str]:
        out = []
        ids: Any = self.r.zrange(JOBS, 0, -1)
        for job_id in ids:
            if self.r.hget(self._key(job_id.decode()), "state") == b"queued":
                out.append(job_id.decode())
        return out

    def first_delivery(self, key: str, ttl: float) -> bool:
        return bool(self.r.set(f"{PREFIX}delivery:{key}", 1, nx=True, ex=max(1, int(ttl))))

    def forget_delivery(self, key: str) -> None:
        self.r.delete(f"{PREFIX}delivery:{key}")

    def purge(self, finished_before: float) -> int:
        removed = 0
        ids: Any = self.r.zrangebyscore(JOBS, 0, finished_before)
        for job_id in ids:
            job = self.get(job_id.decode())
            if job and job.finished and (job.finished_at or 0) < finished_before:
                self.r.delete(self._key(job.id))
                self.r.zrem(JOBS, job.id)
                if job.dedupe_key:
                    self.r.delete(f"{PREFIX}dedupe:{job.dedupe_key}")
                removed += 1
        return removed

    def ping(self) -> None:
        self.r.ping()

    def close(self) -> None:
        self.r.close()
