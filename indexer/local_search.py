"""Hybrid search over an in-memory copy of one collection, for embedded Qdrant.

Embedded Qdrant (``QdrantClient(path=…)``) is a pure-Python reimplementation of the server:
it checks filters point by point and scores sparse vectors with a Python loop, so a hybrid
query over a few thousand chunks takes hundreds of milliseconds.  :class:`LocalSearch` does the
same query with numpy over arrays built once from the stored points: dense scores by one
matrix product, sparse scores from an inverted index with the IDF Qdrant uses
(``ln((N − df + 0.5) / (df + 0.5) + 1)`` over the points that have a sparse vector), filters as
boolean masks, reciprocal rank fusion ``Σ 1 / (k + rank₀)``, then the same formula
``score × tier weight × path_weight``.  Its results equal Qdrant's own query (a test checks
it); a server always runs the query itself.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from indexer.types import SearchMode


@dataclass(frozen=True)
class LocalPoint:
    id: str
    dense: Sequence[float]
    sparse: tuple[Sequence[int], Sequence[float]]
    payload: Mapping[str, Any]


class LocalSearch:
    def __init__(self, points: Sequence[LocalPoint], dim: int) -> None:
        n = len(points)
        self.ids = [p.id for p in points]
        self.payloads = [p.payload for p in points]
        self.dense = np.zeros((n, dim), dtype=np.float32)
        for row, point in enumerate(points):
            self.dense[row] = point.dense
        norms = np.linalg.norm(self.dense, axis=1)
        self.dense /= np.where(norms == 0, 1.0, norms)[:, None]
        self.repos = np.array([str(p.payload.get("repo", "")) for p in points], dtype=object)
        self.languages = np.array(
            [str(p.payload.get("language", "")) for p in points], dtype=object
        )
        self.paths = np.array([str(p.payload.get("path", "")) for p in points], dtype=str)
        self.path_weights = np.array(
            [float(p.payload.get("path_weight", 1.0)) for p in points], dtype=np.float64
        )
        lengths = np.array([len(p.sparse[0]) for p in points], dtype=np.int64)
        self.sparse_docs = int(np.count_nonzero(lengths))
        tokens = np.fromiter((t for p in points for t in p.sparse[0]), dtype=np.int64)
        values = np.fromiter((v for p in points for v in p.sparse[1]), dtype=np.float64)
        docs = np.repeat(np.arange(n, dtype=np.int64), lengths)
        order = np.argsort(tokens, kind="stable")
        self._docs, self._values = docs[order], values[order]
        self._tokens, self._starts, self._counts = np.unique(
            tokens[order], return_index=True, return_counts=True
        )

    def __len__(self) -> int:
        return len(self.ids)

    def mask(
        self,
        repos: Sequence[str],
        languages: Sequence[str],
        path_prefix: str,
        exclude_repos: Sequence[str],
    ) -> np.ndarray:
        keep: np.ndarray = self.path_weights > 0
        if repos:
            keep &= np.isin(self.repos, list(repos))
        if exclude_repos:
            keep &= ~np.isin(self.repos, list(exclude_repos))
        if languages:
            keep &= np.isin(self.languages, list(languages))
        if path_prefix:
            keep &= np.char.startswith(self.paths, path_prefix.rstrip("/") + "/")
        return keep

    def _top(self, scores: np.ndarray, eligible: np.ndarray, limit: int) -> list[int]:
        """Indices of the ``limit`` best eligible scores, best first (ties: first stored)."""
        candidates = np.flatnonzero(eligible)
        if candidates.size == 0:
            return []
        if candidates.size > limit:
            part = np.argpartition(-scores[candidates], limit - 1)[:limit]
            candidates = candidates[part]
        order = np.lexsort((candidates, -scores[candidates]))
        return [int(i) for i in candidates[order]]

    def _sparse_scores(
        self, query: tuple[Sequence[int], Sequence[float]]
    ) -> tuple[np.ndarray, np.ndarray]:
        scores = np.zeros(len(self.ids), dtype=np.float64)
        overlap = np.zeros(len(self.ids), dtype=bool)
        n = self.sparse_docs
        for token, weight in zip(query[0], query[1], strict=True):
            at = int(np.searchsorted(self._tokens, token))
            if at >= len(self._tokens) or self._tokens[at] != token:
                continue
            start, count = int(self._starts[at]), int(self._counts[at])
            idf = math.log((n - count + 0.5) / (count + 0.5) + 1)
            docs = self._docs[start : start + count]
            scores[docs] += self._values[start : start + count] * (weight * idf)
            overlap[docs] = True
        return scores, overlap

    def query(
        self,
        *,
        dense: Sequence[float] | None,
        sparse: tuple[list[int], list[float]] | None,
        limit: int,
        candidates: int,
        keep: np.ndarray,
        repo_weights: Mapping[str, float] | None,
        mode: SearchMode,
        rrf_k: int,
    ) -> list[tuple[str, float, Mapping[str, Any]]]:
        """``(id, score, payload)`` of the best ``limit`` points; ``repo_weights`` None: the
        relevance alone (no tier or path weights)."""
        legs: list[tuple[list[int], np.ndarray]] = []
        if dense is not None and mode in ("hybrid", "dense"):
            q = np.asarray(dense, dtype=np.float32)
            q /= np.linalg.norm(q) or 1.0
            scores = self.dense @ q
            legs.append((self._top(scores, keep, candidates), scores))
        if sparse is not None and sparse[0] and mode in ("hybrid", "sparse"):
            scores, overlap = self._sparse_scores(sparse)
            legs.append((self._top(scores, keep & overlap, candidates), scores))
        if not legs:
            return []
        if len(legs) == 1:
            ranked, scores = legs[0]
            relevance = {i: float(scores[i]) for i in ranked}
        else:  # equal fused scores keep the order of first appearance, as in Qdrant
            relevance = {}
            for ranked, _ in legs:
                for pos, i in enumerate(ranked):
                    relevance[i] = relevance.get(i, 0.0) + 1.0 / (rrf_k + pos)
            best = sorted(relevance, key=lambda i: -relevance[i])[:candidates]
            relevance = {i: relevance[i] for i in best}
        final = dict(relevance)
        if repo_weights is not None:
            for i in final:
                tier = repo_weights.get(str(self.repos[i]), 1.0)
                final[i] = relevance[i] * tier * float(self.path_weights[i])
        top = sorted(final, key=lambda i: -final[i])[:limit]
        return [(self.ids[i], final[i], self.payloads[i]) for i in top]
