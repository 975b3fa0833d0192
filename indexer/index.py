"""The facade: index a repository snapshot incrementally, search with the quality policy.

Incremental by construction: the store says which ``path → (blob SHA, chunker version)`` it
holds for a repository in the embedder's collection (one collection per model), so a file is
read, chunked and embedded only when its blob is new; the points of changed and deleted files
are deleted first.  Chunks are written file by file (never half a file), so an interrupted run
is finished by the next.  Reading and chunking the next batch overlaps the embedding of the
current one (the model runs in a worker thread; it releases the GIL).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pathspec import GitIgnoreSpec

from indexer.chunking import CHUNKER_VERSION, ChunkLimits, chunk_text
from indexer.embed import Embedder
from indexer.files import FileLimits, decode, language_for
from indexer.lexical import sparse_vector
from indexer.quality import Policy
from indexer.sources import FileEntry, Snapshot
from indexer.store import (
    PointRecord,
    SearchFilter,
    Store,
    StoredHit,
    Weighting,
    collection_name,
)
from indexer.types import Chunk, FileProblem, Hit, IndexReport, SearchMode

Progress = Callable[[str, int, int], None]  # (phase, done, total)
_WILD = re.compile(r"[*?\[]")


@dataclass
class _Batch:
    files: list[tuple[FileEntry, list[Chunk]]]
    future: Future[list[list[float]]]


class CodeIndex:
    """Index and search code with one embedder in one store."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        *,
        chunk_limits: ChunkLimits | None = None,
        file_limits: FileLimits | None = None,
        embed_batch: int = 256,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.chunk_limits = chunk_limits or ChunkLimits()
        self.file_limits = file_limits or FileLimits()
        self.embed_batch = embed_batch
        self.collection = collection_name(embedder.name)
        self._embed_seconds = 0.0

    # Indexing.
    def index(
        self,
        snapshot: Snapshot,
        repo: str,
        policy: Policy | None = None,
        *,
        progress: Progress | None = None,
    ) -> IndexReport:
        """Bring ``repo``'s chunks in line with ``snapshot``: embed what is new, drop what is
        gone.  Bad files are skipped or chunked by line windows and listed in the report."""
        started = time.monotonic()
        policy = policy or Policy()
        coll = self.collection  # created with the first vectors: no change, no model loaded
        report = IndexReport(repo=repo, commit=snapshot.commit, model=self.embedder.name)
        entries = snapshot.entries()
        report.skipped += [FileProblem(p, "vendored or tool directory") for p in snapshot.pruned]
        exists = self.store.exists(coll)
        stored = self.store.file_versions(coll, repo) if exists else {}
        current: dict[str, FileEntry] = {}
        todo: list[FileEntry] = []
        for entry in entries:
            reason = self.file_limits.skip_reason(entry.path, entry.size)
            if reason:
                report.skipped.append(FileProblem(entry.path, reason))
                continue
            current[entry.path] = entry
            if stored.get(entry.path) == (entry.blob, CHUNKER_VERSION):
                report.files_unchanged += 1
            else:
                todo.append(entry)
        report.files_seen = len(current)
        gone = [path for path in stored if path not in current]
        report.files_deleted = len(gone)
        stale = gone + [e.path for e in todo if e.path in stored]
        if stale:
            self.store.delete_paths(coll, repo, stale)
        tier = policy.tier(repo)
        done = 0
        if progress:
            progress("index", 0, len(todo))
        for files, vectors in self._embedded(self._chunked(snapshot, todo, report)):
            records, at = [], 0
            for entry, chunks in files:
                weight = policy.path_weight(repo, entry.path)
                for no, chunk in enumerate(chunks):
                    records.append(_record(repo, entry, no, chunk, vectors[at], tier, weight))
                    at += 1
            if records:
                self.store.ensure_collection(self.embedder.name, len(records[0].dense))
                self.store.upsert(coll, records)
            report.chunks_embedded += len(records)
            report.files_embedded += sum(1 for _, chunks in files if chunks)
            done += len(files)
            if progress:
                progress("index", done, len(todo))
        report.embed_seconds = self._embed_seconds
        report.chunks_total = self.store.count(coll, repo) if self.store.exists(coll) else 0
        report.seconds = time.monotonic() - started
        return report

    def _chunked(
        self, snapshot: Snapshot, todo: Sequence[FileEntry], report: IndexReport
    ) -> Iterator[list[tuple[FileEntry, list[Chunk]]]]:
        """Batches of whole files with about ``embed_batch`` chunks each."""
        batch: list[tuple[FileEntry, list[Chunk]]] = []
        size = 0
        for entry in todo:
            chunks = self._chunk_file(snapshot, entry, report)
            batch.append((entry, chunks))
            size += len(chunks)
            if size >= self.embed_batch:
                yield batch
                batch, size = [], 0
        if batch:
            yield batch

    def _chunk_file(self, snapshot: Snapshot, entry: FileEntry, report: IndexReport) -> list[Chunk]:
        try:
            data = snapshot.read(entry)
        except Exception as exc:  # a broken object or a file gone: report it, go on
            report.skipped.append(FileProblem(entry.path, f"unreadable: {exc}"))
            return []
        text, problem = decode(data)
        if text is None:
            report.skipped.append(FileProblem(entry.path, problem or "skipped"))
            return []
        language = language_for(entry.path)
        try:
            chunks, fallback = chunk_text(
                entry.path, text, "text" if problem else language, self.chunk_limits
            )
        except Exception as exc:  # a parser crash must not stop the run
            report.skipped.append(FileProblem(entry.path, f"chunking failed: {exc}"))
            return []
        if problem or fallback:
            report.fallbacks.append(FileProblem(entry.path, problem or fallback or ""))
        if problem:  # keep the language for filters, the chunks are line windows
            chunks = [_relabel(c, language) for c in chunks]
        return chunks

    def _embed(self, texts: list[str]) -> list[list[float]]:
        started = time.monotonic()
        vectors = self.embedder.embed(texts) if texts else []
        self._embed_seconds += time.monotonic() - started
        return vectors

    def _embedded(
        self, batches: Iterator[list[tuple[FileEntry, list[Chunk]]]]
    ) -> Iterator[tuple[list[tuple[FileEntry, list[Chunk]]], list[list[float]]]]:
        """Embed batch *n* in a worker while batch *n + 1* is read and chunked."""
        self._embed_seconds = 0.0
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed") as pool:
            pending: _Batch | None = None
            for files in batches:
                texts = [c.embed_text for _, chunks in files for c in chunks]
                batch = _Batch(files, pool.submit(self._embed, texts))
                if pending is not None:
                    yield pending.files, pending.future.result()
                pending = batch
            if pending is not None:
                yield pending.files, pending.future.result()

    def remove(self, repo: str) -> None:
        """Drop every chunk of ``repo``, in every model's collection."""
        for coll in self.store.collections():
            self.store.delete_repo(coll, repo)

    def count(self, repo: str | None = None) -> int:
        if not self.store.exists(self.collection):
            return 0
        return self.store.count(self.collection, repo)

    def apply_policy(self, policy: Policy, repos: Sequence[str]) -> int:
        """Bring the stored ``tier`` and ``path_weight`` of ``repos`` in line with ``policy``
        (every model's collection).  Returns how many files changed weight."""
        changed = 0
        for coll in self.store.collections():
            for repo in repos:
                self.store.set_payload(coll, repo, {"tier": policy.tier(repo)})
                groups: dict[float, list[str]] = {}
                for path, old in self.store.path_weights(coll, repo).items():
                    new = policy.path_weight(repo, path)
                    if new != old:
                        groups.setdefault(new, []).append(path)
                for weight, paths in groups.items():
                    self.store.set_payload(coll, repo, {"path_weight": weight}, paths)
                    changed += len(paths)
        return changed

    # Search.
    def search(
        self,
        query: str,
        *,
        k: int = 10,
        repos: Sequence[str] = (),
        languages: Sequence[str] = (),
        path_glob: str | None = None,
        policy: Policy | None = None,
        mode: SearchMode = "hybrid",
        explain: bool = False,
        rrf_k: int = 10,
        query_vector: Sequence[float] | None = None,
    ) -> list[Hit]:
        """The ``k`` best chunks for ``query``: relevance × tier weight × path weight, with
        deprecated repositories left out.  ``path_glob`` is gitignore-style; its literal
        directory narrows the search in the store, the rest is matched here.  ``query_vector``:
        the query's embedding when the caller has it already (batched queries)."""
        if not self.store.exists(self.collection) or not query.strip():
            return []
        policy = policy or Policy()
        spec = GitIgnoreSpec.from_lines([path_glob]) if path_glob else None
        search_filter = SearchFilter(
            repos=tuple(repos),
            languages=tuple(languages),
            path_prefix=glob_directory(path_glob) if path_glob else "",
            exclude_repos=tuple(policy.excluded_repos()),
        )
        dense: Sequence[float] | None = None
        if mode != "sparse":
            dense = query_vector if query_vector is not None else self.embedder.embed([query])[0]
        sparse = sparse_vector(query, query=True) if mode != "dense" else None
        fetch = k if spec is None else min(max(k * 8, 64), 512)
        candidates = max(64, fetch * 4)

        def run(limit: int, weighting: Weighting | None) -> list[StoredHit]:
            return self.store.query(
                self.collection,
                dense=dense,
                sparse=sparse,
                limit=limit,
                candidates=candidates,
                search_filter=search_filter,
                weighting=weighting,
                mode=mode,
                rrf_k=rrf_k,
            )

        found = run(fetch, Weighting(policy.repo_weights()))
        if spec is not None:
            found = [h for h in found if spec.match_file(str(h.payload.get("path", "")))][:k]
        relevance: dict[str, float] = {}
        if explain and found:
            relevance = {h.id: h.score for h in run(candidates, None)}
        return [_hit(h.payload, h.score, relevance.get(h.id), policy) for h in found]


def glob_directory(glob: str) -> str:
    """The literal directory a gitignore-style glob is confined to (``""`` when none)."""
    pattern = glob.strip()
    anchored = pattern.lstrip("/")
    if "/" not in anchored.rstrip("/"):
        return ""  # no slash inside: it matches at any depth
    parts = anchored.rstrip("/").split("/")[:-1]
    literal = []
    for part in parts:
        if _WILD.search(part):
            break
        literal.append(part)
    return "/".join(literal)


def _record(
    repo: str,
    entry: FileEntry,
    no: int,
    chunk: Chunk,
    vector: list[float],
    tier: str,
    weight: float,
) -> PointRecord:
    payload = {
        "language": chunk.language,
        "symbol": chunk.symbol,
        "kind": chunk.kind,
        "start_line": chunk.start_line,
        "end_line": chunk.end_line,
        "text": chunk.text,
        "v": CHUNKER_VERSION,
        "tier": tier,
        "path_weight": weight,
    }
    return PointRecord(
        repo, entry.path, entry.blob, no, vector, sparse_vector(chunk.embed_text), payload
    )


def _relabel(chunk: Chunk, language: str) -> Chunk:
    return Chunk(
        chunk.path,
        language,
        chunk.symbol,
        chunk.kind,
        chunk.start_line,
        chunk.end_line,
        chunk.text,
        chunk.context,
    )


def _hit(p: Mapping[str, Any], score: float, relevance: float | None, policy: Policy) -> Hit:
    repo = str(p.get("repo", ""))
    return Hit(
        repo=repo,
        path=str(p.get("path", "")),
        language=str(p.get("language", "")),
        symbol=str(p.get("symbol", "")),
        kind=str(p.get("kind", "")),
        start_line=int(p.get("start_line", 0)),
        end_line=int(p.get("end_line", 0)),
        text=str(p.get("text", "")),
        score=score,
        relevance=relevance,
        tier=policy.tier(repo),
        tier_weight=policy.tier_weight(repo),
        path_weight=float(p.get("path_weight", 1.0)),
        blob=str(p.get("blob", "")),
    )
