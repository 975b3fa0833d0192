"""Jobs: a persistent store of what to do plus a huey queue that carries job ids to workers.

Why huey: one small, well-kept library whose queue runs on SQLite (embedded: a file in
``ASSAY_HOME``, workers as threads of the server) and on Redis (scale-out: ``assay worker``
processes on other machines) with the same task code, and whose consumer handles threads,
delays and graceful shutdown.  Celery has no maintained SQLite broker, RQ, Dramatiq and arq are
Redis (or RabbitMQ) only.

What huey does not give (it removes a message before running it, so a worker killed mid-job
loses it) the job store gives: a job is claimed with a lease that a heartbeat renews; when a
worker dies its lease runs out and the recovery loop puts the job back on the queue; the claim is
an atomic compare-and-set, so extra messages for a job are harmless, and only the claim holder
can record the result.  Side effects (PR comments) are idempotent upserts keyed by markers, so a
job that runs again after a crash updates what it posted instead of posting twice.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from huey import RedisHuey, SqliteHuey
from huey.api import Huey
from huey.consumer import Consumer

from agents.errors import AssayError, PlatformError
from agents.service.store import Job, JobStore, SqliteJobs
from agents.settings import Settings
from flows import LLMRateLimited, LLMServerError, LLMTimeout, LLMUnreachable, mask_url

log = logging.getLogger("assay.jobs")
# What running a job again later can cure: a busy, failing or unreachable model, the network.
TRANSIENT: tuple[type[BaseException], ...] = (
    LLMRateLimited,
    LLMServerError,
    LLMTimeout,
    LLMUnreachable,
    ConnectionError,
    TimeoutError,
)
PURGE_EVERY = 3600.0


@dataclass
class JobContext:
    """What a job handler gets: its job, the settings, and a way to report progress."""

    job: Job
    settings: Settings
    report: Callable[[dict[str, Any]], None]
    notes: dict[str, Any] = field(default_factory=dict)

    def progress(
        self, stage: str, done: int | None = None, total: int | None = None, **more: Any
    ) -> None:
        data: dict[str, Any] = {"stage": stage, **more}
        if done is not None:
            data["done"] = done
        if total is not None:
            data["total"] = total
        self.report(data)


Handler = Callable[[JobContext], dict[str, Any]]


def is_transient(exc: BaseException) -> bool:
    """Whether running the job again later can help: a code host's 429/5xx/network error, a
    busy or unreachable model, a broken connection.  Everything else (bad input, a bug, a
    refused credential) fails the job at once with its own message."""
    if isinstance(exc, PlatformError):
        return exc.transient
    return isinstance(exc, TRANSIENT)


def make_store(settings: Settings) -> JobStore:
    if settings.redis_url is not None:
        from agents.service.redis_store import RedisJobs

        return RedisJobs(settings.redis_url.get_secret_value())
    return SqliteJobs(settings.service_dir / "jobs.db")


def make_huey(settings: Settings) -> Huey:
    if settings.redis_url is not None:
        url = settings.redis_url.get_secret_value()
        return RedisHuey("assay", url=url, results=False, read_timeout=1)
    settings.service_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("assay", filename=str(settings.service_dir / "queue.db"), results=False)


class _ThreadConsumer(Consumer):
    """huey's consumer inside another program: the program owns the signal handlers."""

    def _set_signal_handlers(self) -> None:
        pass


class JobQueue:
    """Submit jobs, run them exactly once (per result), recover them when a worker dies."""

    def __init__(
        self,
        settings: Settings,
        handlers: Mapping[str, Handler],
        *,
        store: JobStore | None = None,
        huey: Huey | None = None,
    ) -> None:
        self.settings = settings
        self.handlers = dict(handlers)
        self.store = store or make_store(settings)
        self.huey = huey or make_huey(settings)
        self._task = self.huey.task(name="run_job")(self.run)
        self.lease = settings.job_lease_seconds
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._consumer: Consumer | None = None
        self._requeued: dict[str, float] = {}
        self.identity = f"{socket.gethostname()}/{os.getpid()}"

    # -- submitting ---------------------------------------------------------------------------

    def submit(
        self, kind: str, params: dict[str, Any], *, token: str | None = None,
        dedupe_key: str | None = None,
    ) -> tuple[Job, bool]:  # fmt: skip
        """A new job (queued at once), or the existing one with the same ``dedupe_key``."""
        if kind not in self.handlers:
            raise AssayError(f"Unknown job kind '{kind}'", f"use one of {sorted(self.handlers)}")
        job, created = self.store.create(kind, params, token=token, dedupe_key=dedupe_key)
        if created:
            self.enqueue(job.id)
        return job, created

    def enqueue(self, job_id: str, delay: float = 0.0) -> None:
        if delay > 0:
            self._task.schedule(args=(job_id,), delay=delay)
        else:
            self._task(job_id)

    def wait(self, job_id: str, timeout: float, poll: float = 0.05) -> Job | None:
        """The job once finished, or as it is when ``timeout`` runs out."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.store.get(job_id)
            if job is None or job.finished or time.monotonic() >= deadline:
                return job
            time.sleep(min(poll, max(0.0, deadline - time.monotonic())))
            poll = min(poll * 1.5, 0.5)

    # -- running ------------------------------------------------------------------------------

    def run(self, job_id: str) -> None:
        """The huey task: claim the job, run its handler with a heartbeat, record the outcome."""
        worker = f"{self.identity}/{uuid.uuid4().hex[:8]}"
        try:
            job = self.store.claim(job_id, worker, self.lease, self.settings.job_max_attempts)
        except Exception:
            log.exception("claiming job %s failed", job_id)
            return
        if job is None:
            return  # done, running elsewhere, or given up
        beat = threading.Event()
        thread = threading.Thread(
            target=self._heartbeat, args=(job_id, worker, beat), daemon=True, name="assay-beat"
        )
        thread.start()

        def report(progress: dict[str, Any]) -> None:
            self.store.set_progress(job_id, worker, progress)

        ctx = JobContext(job=job, settings=self.settings, report=report)
        try:
            result = self.handlers[job.kind](ctx)
        except Exception as exc:
            self._failed(job, worker, exc)
        else:
            if not self.store.finish(job_id, worker, result):
                log.warning("job %s finished after losing its claim; result not recorded", job_id)
        finally:
            beat.set()
            thread.join(timeout=5)

    def _failed(self, job: Job, worker: str, exc: Exception) -> None:
        """Record a failure: queued again (later) when that can help and runs are left, else
        failed now with the error's own message."""
        retry = is_transient(exc) and job.attempts < self.settings.job_max_attempts
        message = str(exc) if isinstance(exc, AssayError) else f"{type(exc).__name__}: {exc}"
        message = mask_url(message)
        log.warning("job %s (%s) failed%s: %s", job.id, job.kind,
                    " (will run again)" if retry else "", message)  # fmt: skip
        if self.store.fail(job.id, worker, message[:2000], retry=retry) and retry:
            self.enqueue(job.id, delay=min(30.0, 2.0**job.attempts))

    def _heartbeat(self, job_id: str, worker: str, done: threading.Event) -> None:
        while not done.wait(self.lease / 3):
            try:
                if not self.store.heartbeat(job_id, worker, self.lease):
                    return
            except Exception:  # a blip: the next beat tries again, the lease has slack
                log.warning("heartbeat of job %s failed", job_id, exc_info=True)

    # -- recovery -----------------------------------------------------------------------------

    def recover(self, *, startup: bool = False) -> list[str]:
        """Put jobs whose worker died back on the queue (and, at start-up, queued jobs whose
        message was lost between the store and the queue)."""
        now = time.time()
        ids: list[str] = list(self.store.stale(now))
        if startup:
            waiting = set(self._enqueued_ids())
            ids += [j for j in self.store.queued() if j not in waiting]
        out: list[str] = []
        for job_id in dict.fromkeys(ids):
            if self._requeued.get(job_id, 0) > now - self.lease:
                continue
            self._requeued[job_id] = now
            self.enqueue(job_id)
            out.append(job_id)
        if out:
            log.info("recovered %d job(s): %s", len(out), ", ".join(out))
        return out

    def _enqueued_ids(self) -> list[str]:
        ids = []
        for data in self.huey.storage.enqueued_items():
            try:
                message = self.huey.serializer.deserialize(data)
                ids += [str(a) for a in (message.args or ())]
            except Exception:  # a message of another version: ignore it
                continue
        return ids

    def _recovery_loop(self) -> None:
        last_purge = 0.0
        while not self._stop.wait(max(0.2, min(self.lease / 4, 15.0))):
            try:
                self.recover()
                if time.monotonic() - last_purge > PURGE_EVERY:
                    last_purge = time.monotonic()
                    self.store.purge(time.time() - self.settings.job_result_days * 86400)
            except Exception:
                log.warning("job recovery failed", exc_info=True)

    # -- workers ------------------------------------------------------------------------------

    def consumer(self, workers: int, *, embedded: bool) -> Consumer:
        cls = _ThreadConsumer if embedded else Consumer
        return cls(
            self.huey,
            workers=workers,
            worker_type="thread",
            initial_delay=0.05,
            backoff=1.2,
            max_delay=0.5,
            periodic=False,
            scheduler_interval=1,
            shutdown_timeout=5.0,
        )

    def start_recovery(self) -> None:
        self.recover(startup=True)
        thread = threading.Thread(target=self._recovery_loop, daemon=True, name="assay-recovery")
        thread.start()
        self._threads.append(thread)

    def start(self, workers: int) -> None:
        """Workers as threads of this process (the embedded mode), plus the recovery loop."""
        self.start_recovery()
        if workers > 0:
            self._consumer = self.consumer(workers, embedded=True)
            self._consumer.start()

    def serve_forever(self, workers: int) -> None:
        """``assay worker``: run jobs until SIGINT/SIGTERM."""
        self.start_recovery()
        try:
            self.consumer(workers, embedded=False).run()
        finally:
            self.stop()

    def alive_workers(self) -> int | None:
        """Worker threads alive in this process (None: this process runs no workers)."""
        if self._consumer is None:
            return None
        return sum(1 for _, thread in self._consumer.worker_threads if thread.is_alive())

    def stop(self) -> None:
        self._stop.set()
        if self._consumer is not None:
            self._consumer.stop(graceful=True)
            self._consumer = None
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()
        self.store.close()
