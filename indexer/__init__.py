"""assay's repository index: git sources, tree-sitter chunks, embeddings, Qdrant, quality policy.

A library: it takes everything it needs as arguments and imports nothing else of assay's.

    from indexer import CodeIndex, Store, make_embedder, open_snapshot, load_policy

    with Store(path=home / "qdrant") as store:
        index = CodeIndex(store, make_embedder("all-MiniLM-L6-v2"))
        with open_snapshot("/src/app", None, home / "clones", name="app") as snapshot:
            report = index.index(snapshot, "app", policy)
        hits = index.search("retry with backoff", k=5, policy=policy, explain=True)

The names below load on first use (importing :mod:`indexer` stays cheap: no Qdrant, no torch).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from indexer.errors import (
    EmbedderError,
    IndexerError,
    PolicyError,
    RepoNotIndexed,
    SourceError,
    StoreError,
)

_LAZY = {
    "CodeIndex": "indexer.index",
    "Store": "indexer.store",
    "Embedder": "indexer.embed",
    "HashingEmbedder": "indexer.embed",
    "SentenceTransformerEmbedder": "indexer.embed",
    "make_embedder": "indexer.embed",
    "ChunkLimits": "indexer.chunking",
    "chunk_text": "indexer.chunking",
    "parser_for": "indexer.languages",
    "FileLimits": "indexer.files",
    "Policy": "indexer.quality",
    "TIERS": "indexer.quality",
    "load_policy": "indexer.quality",
    "save_policy": "indexer.quality",
    "open_snapshot": "indexer.sources",
    "default_name": "indexer.sources",
    "is_url": "indexer.sources",
    "Progress": "indexer.index",
    "SearchMode": "indexer.types",
    "Registry": "indexer.registry",
    "RepoRecord": "indexer.registry",
    "Chunk": "indexer.types",
    "Hit": "indexer.types",
    "IndexReport": "indexer.types",
}

if TYPE_CHECKING:
    from indexer.chunking import ChunkLimits, chunk_text
    from indexer.embed import Embedder, HashingEmbedder, SentenceTransformerEmbedder, make_embedder
    from indexer.files import FileLimits
    from indexer.index import CodeIndex, Progress
    from indexer.languages import parser_for
    from indexer.quality import TIERS, Policy, load_policy, save_policy
    from indexer.registry import Registry, RepoRecord
    from indexer.sources import default_name, is_url, open_snapshot
    from indexer.store import Store
    from indexer.types import Chunk, Hit, IndexReport, SearchMode


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'indexer' has no attribute {name!r}")


__all__ = [
    "TIERS",
    "Chunk",
    "ChunkLimits",
    "CodeIndex",
    "Embedder",
    "EmbedderError",
    "FileLimits",
    "HashingEmbedder",
    "Hit",
    "IndexReport",
    "IndexerError",
    "Policy",
    "PolicyError",
    "Progress",
    "Registry",
    "RepoNotIndexed",
    "RepoRecord",
    "SearchMode",
    "SentenceTransformerEmbedder",
    "SourceError",
    "Store",
    "StoreError",
    "chunk_text",
    "default_name",
    "is_url",
    "load_policy",
    "make_embedder",
    "open_snapshot",
    "parser_for",
    "save_policy",
]
