"""The records the indexer hands around: chunks, search hits, run reports."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

SearchMode = Literal["hybrid", "dense", "sparse"]
_ID_NAMESPACE = uuid.UUID("6f1d7c3e-2b1a-4f7e-9a55-3c2d1e0f9b42")


@dataclass(frozen=True)
class Chunk:
    """A piece of one file: a function, method, class, group of small ones, or a line window.

    ``start_line``/``end_line`` are 1-based and inclusive.  ``context`` is the small header
    (path, enclosing class signature, imports) embedded with the code but not part of it.
    """

    path: str
    language: str
    symbol: str
    kind: str
    start_line: int
    end_line: int
    text: str
    context: str = ""

    @property
    def embed_text(self) -> str:
        return f"{self.context}\n{self.text}" if self.context else self.text


@dataclass(frozen=True)
class Hit:
    """One search result with how its score came about (``assay search --explain``).

    ``score`` = ``relevance`` × ``tier_weight`` × ``path_weight``; ``relevance`` is the fused
    rank score in hybrid mode (reciprocal rank fusion), the cosine similarity in dense mode and
    the IDF-weighted term score in sparse mode.
    """

    repo: str
    path: str
    language: str
    symbol: str
    kind: str
    start_line: int
    end_line: int
    text: str
    score: float
    relevance: float | None = None
    tier: str = "normal"
    tier_weight: float = 1.0
    path_weight: float = 1.0
    blob: str = ""

    @property
    def location(self) -> str:
        return f"{self.repo}:{self.path}:{self.start_line}-{self.end_line}"


@dataclass(frozen=True)
class FileProblem:
    """A file that was skipped (``binary``, ``too large`` …) or chunked by the fallback."""

    path: str
    reason: str


@dataclass
class IndexReport:
    """What one indexing run of one repository did."""

    repo: str
    commit: str | None
    model: str
    files_seen: int = 0
    files_embedded: int = 0
    files_unchanged: int = 0
    files_deleted: int = 0
    chunks_embedded: int = 0
    chunks_total: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    skipped: list[FileProblem] = field(default_factory=list)
    fallbacks: list[FileProblem] = field(default_factory=list)


# What the store takes and gives back.
@dataclass(frozen=True)
class PointRecord:
    """One chunk ready to store: its identity, vectors and payload."""

    repo: str
    path: str
    blob: str
    chunk_no: int
    dense: Sequence[float]
    sparse: tuple[list[int], list[float]]
    payload: Mapping[str, Any]

    @property
    def id(self) -> str:
        key = f"{self.repo}\0{self.path}\0{self.blob}\0{self.chunk_no}"
        return str(uuid.uuid5(_ID_NAMESPACE, key))


@dataclass(frozen=True)
class SearchFilter:
    repos: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    path_prefix: str = ""  # a directory every hit lies under (narrows a path glob server-side)
    exclude_repos: tuple[str, ...] = ()


@dataclass(frozen=True)
class Weighting:
    """Tier weights per repository (repositories not named weigh 1)."""

    repo_weights: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredHit:
    id: str
    score: float
    payload: Mapping[str, Any]
