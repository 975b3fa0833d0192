"""The one module that talks to Qdrant: embedded (``path=``) or a server (``url=``).

One collection per embedding model (``assay_chunks__<model>``), each point one chunk with a
dense vector (``dense``, cosine) and a sparse lexical vector (``lexical``, Qdrant's ``IDF``
modifier), and the payload ``repo, path, dirs, language, symbol, kind, start_line, end_line,
blob, v, chunk_no, tier, path_weight, text``.

Search (:meth:`Store.query`) on a server runs in Qdrant: the dense and the sparse leg are
prefetched with the filters, fused by reciprocal rank fusion, then re-scored by a formula
``$score × tier weight × path_weight`` (the tier weight is built from the policy as conditions
on ``repo``; ``path_weight`` is payload kept in sync with the policy) before the top ``k`` are
taken; deprecated repositories are filtered out in the query.  Payload indexes (keyword: repo,
path, dirs, language, blob, tier; float: path_weight; integer: chunk_no) are created on a
server only.  Formula queries and parameterised RRF need Qdrant ≥ 1.16.

Embedded Qdrant can run the same query (``local_search=False``) but it is pure Python, point
by point: hundreds of milliseconds at a few thousand chunks, and it ignores payload indexes.
So in embedded mode the same search (same filters, fusion, formula, scores) runs client-side
with numpy over an in-memory copy of the collection (:mod:`indexer.local_search`), loaded on
the first query and again after a write.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from qdrant_client import QdrantClient
from qdrant_client import models as qm
from qdrant_client.http.exceptions import ApiException

from indexer.errors import StoreError
from indexer.local_search import LocalPoint, LocalSearch
from indexer.types import PointRecord, SearchFilter, SearchMode, StoredHit, Weighting

COLLECTION_PREFIX = "assay_chunks__"
DENSE, SPARSE = "dense", "lexical"
_KEYWORDS = ("repo", "path", "dirs", "language", "blob", "tier")


def collection_name(model: str) -> str:
    return COLLECTION_PREFIX + re.sub(r"[^a-z0-9_-]+", "-", model.lower()).strip("-")


def parent_dirs(path: str) -> list[str]:
    """``a/b/c.py`` → ``["a", "a/b"]``: the payload that lets a glob's directory filter."""
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


class Store:
    """Qdrant, embedded at ``path`` or a server at ``url`` (then ``api_key`` if it needs one).
    Messages name the server ``shown_url`` (a masked ``url``), else ``url`` without credentials."""

    def __init__(
        self,
        *,
        path: Path | None = None,
        url: str | None = None,
        api_key: str | None = None,
        timeout: float = 30.0,
        local_search: bool = True,
        shown_url: str | None = None,
    ) -> None:
        if (path is None) == (url is None):
            raise StoreError("Give the store a path or a URL, not both or neither")
        self.embedded = url is None
        # Embedded: search an in-memory copy with numpy (see indexer.local_search); False runs
        # embedded Qdrant's own, much slower, query (same results: the tests compare them).
        self.local_search = local_search and self.embedded
        self._local: dict[str, LocalSearch] = {}
        where = shown_url or re.sub(r"//[^/?#]*@", "//", str(url))  # no user or password
        self.location = str(path) if path is not None else where
        self._url = url
        try:
            if path is not None:
                path.mkdir(parents=True, exist_ok=True)
                self._client = QdrantClient(path=str(path))
                self._tune_embedded()
            else:
                self._client = QdrantClient(url=url, api_key=api_key, timeout=int(timeout))
        except RuntimeError as exc:
            if "already accessed" in str(exc):
                raise StoreError(
                    f"The embedded index at {path} is in use by another assay process",
                    "wait for it to finish, or run a Qdrant server and set ASSAY_QDRANT_URL",
                ) from exc
            raise StoreError(f"Cannot open the embedded index at {path}: {exc}") from exc
        self._known: dict[str, int] = {}  # collection → dimension, checked once

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _guard(self, doing: str) -> Iterator[None]:
        try:
            yield
        except (ApiException, OSError) as exc:
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if self._url:  # the client's own message may repeat the URL, password and all
                detail = detail.replace(self._url, self.location)
            where = "embedded index" if self.embedded else "Qdrant server"
            raise StoreError(
                f"Cannot {doing} at the {where} {self.location}: {detail}",
                "check that Qdrant runs and the URL and API key are right"
                if not self.embedded
                else "check the disk and the permissions of that directory",
            ) from exc

    # Collections.
    def collections(self) -> list[str]:
        with self._guard("list collections"):
            names = [c.name for c in self._client.get_collections().collections]
        return sorted(n for n in names if n.startswith(COLLECTION_PREFIX))

    def ensure_collection(self, model: str, dim: int) -> str:
        name = collection_name(model)
        if self._known.get(name) == dim:
            return name
        with self._guard(f"create collection {name}"):
            if self._client.collection_exists(name):
                info = self._client.get_collection(name)
                vectors = info.config.params.vectors
                size = vectors[DENSE].size if isinstance(vectors, dict) else None
                if size != dim:
                    raise StoreError(
                        f"Collection {name} holds {size}-dimensional vectors, model {model} "
                        f"makes {dim}",
                        f"delete the collection {name} or use the model it was built with",
                    )
            else:
                self._client.create_collection(
                    name,
                    vectors_config={DENSE: qm.VectorParams(size=dim, distance=qm.Distance.COSINE)},
                    sparse_vectors_config={SPARSE: qm.SparseVectorParams(modifier=qm.Modifier.IDF)},
                )
                if self.embedded:
                    self._tune_embedded()
                else:
                    self._payload_indexes(name)
        self._known[name] = dim
        return name

    def _tune_embedded(self) -> None:
        """Embedded Qdrant commits every point to SQLite on its own, an fsync each (~20 ms a
        point on a plain disk: minutes for a repository).  WAL with ``synchronous=NORMAL``
        keeps the file consistent and a commit cheap; a crash may lose the last writes, which
        the next update re-indexes.  Reaches into qdrant-client's local mode: where its
        layout differs, nothing is tuned and writes are only slower."""
        local = getattr(self._client, "_client", None)
        for collection in getattr(local, "collections", {}).values():
            conn = getattr(getattr(collection, "storage", None), "storage", None)
            if isinstance(conn, sqlite3.Connection):
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("PRAGMA journal_mode=WAL")
                    conn.execute("PRAGMA synchronous=NORMAL")

    def _payload_indexes(self, name: str) -> None:
        for key in _KEYWORDS:
            self._client.create_payload_index(name, key, qm.PayloadSchemaType.KEYWORD)
        self._client.create_payload_index(name, "path_weight", qm.PayloadSchemaType.FLOAT)
        self._client.create_payload_index(name, "chunk_no", qm.PayloadSchemaType.INTEGER)

    def exists(self, collection: str) -> bool:
        with self._guard("read collections"):
            return bool(self._client.collection_exists(collection))

    # Points.
    def _scroll(
        self, collection: str, flt: qm.Filter, fields: list[str]
    ) -> Iterator[Mapping[str, Any]]:
        offset: Any = None
        with self._guard(f"read {collection}"):
            while True:
                points, offset = self._client.scroll(
                    collection, flt, limit=2048, offset=offset, with_payload=fields
                )
                for point in points:
                    yield point.payload or {}
                if offset is None:
                    return

    def file_versions(self, collection: str, repo: str) -> dict[str, tuple[str, int]]:
        """``path → (blob, chunker version)`` of what is stored for ``repo``."""
        flt = qm.Filter(must=[_match("repo", repo), _match("chunk_no", 0)])
        return {
            p["path"]: (p["blob"], int(p.get("v", 0)))
            for p in self._scroll(collection, flt, ["path", "blob", "v"])
        }

    def path_weights(self, collection: str, repo: str) -> dict[str, float]:
        flt = qm.Filter(must=[_match("repo", repo), _match("chunk_no", 0)])
        fields = ["path", "path_weight"]
        return {
            p["path"]: float(p.get("path_weight", 1.0))
            for p in self._scroll(collection, flt, fields)
        }

    def upsert(self, collection: str, records: Iterable[PointRecord]) -> int:
        points = []
        for rec in records:
            vector: dict[str, Any] = {DENSE: list(rec.dense)}
            if rec.sparse[0]:
                vector[SPARSE] = qm.SparseVector(indices=rec.sparse[0], values=rec.sparse[1])
            payload = {
                **rec.payload,
                "repo": rec.repo,
                "path": rec.path,
                "dirs": parent_dirs(rec.path),
                "blob": rec.blob,
                "chunk_no": rec.chunk_no,
            }
            points.append(qm.PointStruct(id=rec.id, vector=vector, payload=payload))
        if points:
            self._local.pop(collection, None)
            with self._guard(f"write to {collection}"):
                self._client.upsert(collection, points, wait=True)
        return len(points)

    def delete_paths(self, collection: str, repo: str, paths: Sequence[str]) -> None:
        self._local.pop(collection, None)
        for at in range(0, len(paths), 512):
            flt = qm.Filter(
                must=[
                    _match("repo", repo),
                    qm.FieldCondition(
                        key="path", match=qm.MatchAny(any=list(paths[at : at + 512]))
                    ),
                ]
            )
            with self._guard(f"delete from {collection}"):
                self._client.delete(collection, qm.FilterSelector(filter=flt), wait=True)

    def delete_repo(self, collection: str, repo: str) -> None:
        self._local.pop(collection, None)
        flt = qm.Filter(must=[_match("repo", repo)])
        with self._guard(f"delete from {collection}"):
            self._client.delete(collection, qm.FilterSelector(filter=flt), wait=True)

    def set_payload(
        self, collection: str, repo: str, values: Mapping[str, Any], paths: Sequence[str] = ()
    ) -> None:
        """Set ``values`` on the points of ``repo`` (only those of ``paths`` when given)."""
        self._local.pop(collection, None)
        chunks = [list(paths[at : at + 512]) for at in range(0, len(paths), 512)] or [[]]
        for batch in chunks:
            must: list[qm.Condition] = [_match("repo", repo)]
            if batch:
                must.append(qm.FieldCondition(key="path", match=qm.MatchAny(any=batch)))
            with self._guard(f"update {collection}"):
                self._client.set_payload(
                    collection, dict(values), points=qm.Filter(must=must), wait=True
                )

    def count(self, collection: str, repo: str | None = None) -> int:
        flt = qm.Filter(must=[_match("repo", repo)]) if repo else None
        with self._guard(f"count {collection}"):
            return int(self._client.count(collection, count_filter=flt, exact=True).count)

    # Search.
    def query(
        self,
        collection: str,
        *,
        dense: Sequence[float] | None,
        sparse: tuple[list[int], list[float]] | None,
        limit: int,
        candidates: int,
        search_filter: SearchFilter,
        weighting: Weighting | None,
        mode: SearchMode = "hybrid",
        rrf_k: int = 10,
    ) -> list[StoredHit]:
        """The top ``limit`` chunks, weighted when ``weighting`` is given (else relevance only:
        what ``--explain`` shows next to the final score)."""
        if self.local_search:
            return self._query_local(
                collection, dense, sparse, limit, candidates, search_filter, weighting, mode, rrf_k
            )
        flt = _filter(search_filter)
        legs = []
        if dense is not None and mode in ("hybrid", "dense"):
            legs.append(qm.Prefetch(query=list(dense), using=DENSE, limit=candidates, filter=flt))
        if sparse is not None and sparse[0] and mode in ("hybrid", "sparse"):
            vec = qm.SparseVector(indices=sparse[0], values=sparse[1])
            legs.append(qm.Prefetch(query=vec, using=SPARSE, limit=candidates, filter=flt))
        if not legs:
            return []
        if len(legs) == 1:
            leg = legs[0]
            base = qm.Prefetch(query=leg.query, using=leg.using, limit=candidates, filter=flt)
        else:
            fusion = qm.RrfQuery(rrf=qm.Rrf(k=rrf_k))
            base = qm.Prefetch(prefetch=legs, query=fusion, limit=candidates, filter=flt)
        kwargs: dict[str, Any]
        if weighting is None:
            kwargs = {"prefetch": base.prefetch, "query": base.query, "using": base.using}
        else:
            formula = qm.FormulaQuery(
                formula=qm.MultExpression(mult=["$score", _tier_expr(weighting), "path_weight"]),
                defaults={"path_weight": 1.0},
            )
            kwargs = {"prefetch": [base], "query": formula}
        with self._guard(f"search {collection}"):
            response = self._client.query_points(
                collection, query_filter=flt, limit=limit, with_payload=True, **kwargs
            )
        return [StoredHit(str(p.id), float(p.score), p.payload or {}) for p in response.points]

    def _query_local(
        self,
        collection: str,
        dense: Sequence[float] | None,
        sparse: tuple[list[int], list[float]] | None,
        limit: int,
        candidates: int,
        f: SearchFilter,
        weighting: Weighting | None,
        mode: SearchMode,
        rrf_k: int,
    ) -> list[StoredHit]:
        engine = self._local.get(collection)
        if engine is None:
            engine = self._local[collection] = self._load_local(collection)
        if not len(engine):
            return []
        keep = engine.mask(f.repos, f.languages, f.path_prefix, f.exclude_repos)
        found = engine.query(
            dense=dense,
            sparse=sparse,
            limit=limit,
            candidates=candidates,
            keep=keep,
            repo_weights=None if weighting is None else weighting.repo_weights,
            mode=mode,
            rrf_k=rrf_k,
        )
        return [StoredHit(pid, score, payload) for pid, score, payload in found]

    def _load_local(self, collection: str) -> LocalSearch:
        points: list[LocalPoint] = []
        offset: Any = None
        with self._guard(f"read {collection}"):
            dim = self._known.get(collection) or self._dimension(collection)
            while True:
                batch, offset = self._client.scroll(
                    collection, limit=4096, offset=offset, with_payload=True, with_vectors=True
                )
                for p in batch:
                    vectors = p.vector if isinstance(p.vector, dict) else {}
                    lexical = vectors.get(SPARSE)
                    sparse = (
                        (lexical.indices, lexical.values)
                        if isinstance(lexical, qm.SparseVector)
                        else ([], [])
                    )
                    dense: Any = vectors.get(DENSE) or []
                    points.append(LocalPoint(str(p.id), dense, sparse, p.payload or {}))
                if offset is None:
                    break
        return LocalSearch(points, dim)

    def _dimension(self, collection: str) -> int:
        vectors = self._client.get_collection(collection).config.params.vectors
        return int(vectors[DENSE].size) if isinstance(vectors, dict) else 0


def _match(key: str, value: Any) -> qm.FieldCondition:
    return qm.FieldCondition(key=key, match=qm.MatchValue(value=value))


def _filter(f: SearchFilter) -> qm.Filter:
    must: list[qm.Condition] = [qm.FieldCondition(key="path_weight", range=qm.Range(gt=0))]
    if f.repos:
        must.append(qm.FieldCondition(key="repo", match=qm.MatchAny(any=list(f.repos))))
    if f.languages:
        must.append(qm.FieldCondition(key="language", match=qm.MatchAny(any=list(f.languages))))
    if f.path_prefix:
        must.append(_match("dirs", f.path_prefix))
    must_not: list[qm.Condition] = []
    if f.exclude_repos:
        must_not.append(qm.FieldCondition(key="repo", match=qm.MatchAny(any=list(f.exclude_repos))))
    return qm.Filter(must=must, must_not=must_not or None)


def _tier_expr(weighting: Weighting) -> Any:
    """``1 + Σ (w − 1)·[repo ∈ repos weighing w]``: the tier weight as a formula."""
    by_weight: dict[float, list[str]] = {}
    for repo, weight in weighting.repo_weights.items():
        if weight != 1.0:
            by_weight.setdefault(weight, []).append(repo)
    if not by_weight:
        return 1.0
    terms: list[Any] = [1.0]
    for weight, repos in sorted(by_weight.items()):
        cond = qm.FieldCondition(key="repo", match=qm.MatchAny(any=sorted(repos)))
        terms.append(qm.MultExpression(mult=[cond, weight - 1.0]))
    return qm.SumExpression(sum=terms)
