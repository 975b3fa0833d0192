"""The sparse lexical vector of a text: code-aware tokens, hashed, term-frequency weighted.

``parseHTTPResponse_v2`` yields ``parsehttpresponse_v2`` (the exact identifier) and its parts
``parse``, ``http``, ``response``, ``v2``, so both an exact identifier and its words match.
Values are saturated term frequencies (BM25's ``k1``); the inverse document frequency is
applied by the store (Qdrant's ``IDF`` modifier), so it follows the collection as it grows.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+[0-9]*|[A-Z]+[0-9]*|[0-9]+")
K1 = 1.2


def code_tokens(text: str) -> list[str]:
    """Lower-cased tokens of ``text``: whole identifiers and their snake/camel parts."""
    tokens: list[str] = []
    for ident in _IDENT.findall(text):
        whole = ident.lower().strip("_")
        if len(whole) < 2:
            continue
        tokens.append(whole)
        parts = [p.lower() for piece in ident.split("_") for p in _CAMEL.findall(piece)]
        if len(parts) > 1:
            tokens.extend(p for p in parts if len(p) > 1)
    return tokens


def token_id(token: str) -> int:
    return zlib.crc32(token.encode("utf-8"))


def sparse_vector(text: str, *, query: bool = False) -> tuple[list[int], list[float]]:
    """``(indices, values)`` of ``text``; a query counts each distinct token once."""
    counts = Counter(token_id(t) for t in code_tokens(text))
    indices = sorted(counts)
    if query:
        return indices, [1.0] * len(indices)
    return indices, [counts[i] * (K1 + 1) / (counts[i] + K1) for i in indices]
