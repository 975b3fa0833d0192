"""Small deterministic embedders for the index tests (the real model has its own test)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from indexer.embed import Embedder, HashingEmbedder
from indexer.lexical import code_tokens


class CountingEmbedder:
    """Wraps an embedder and records every text it was asked to embed."""

    def __init__(self, inner: Embedder | None = None) -> None:
        self.inner = inner or HashingEmbedder(64)
        self.texts: list[str] = []

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.texts.extend(texts)
        return self.inner.embed(texts)


class VocabEmbedder:
    """A "semantic" embedder that knows a fixed vocabulary of words and nothing else.

    Identifiers it has never seen are invisible to it, as a rare identifier is mostly invisible
    to a real model's dense vector: the case hybrid search exists for.
    """

    VOCAB = (
        "parse", "http", "response", "file", "checksum", "digest", "read", "write", "user",
        "login", "password", "cache", "retry", "sort", "list", "number", "string", "value",
        "return", "result", "items", "count", "data", "config", "error",
    )  # fmt: skip

    @property
    def name(self) -> str:
        return "vocab-test"

    @property
    def dim(self) -> int:
        return len(self.VOCAB) + 1

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        out = []
        for text in texts:
            words = set(code_tokens(text))
            vec = [1.0 if w in words else 0.0 for w in self.VOCAB] + [1.0]
            norm = math.sqrt(sum(v * v for v in vec))
            out.append([v / norm for v in vec])
        return out
