"""Context for a review from the repository index: related code and the best practices.

The index (:mod:`agents.indexing`, built by ``assay index``) is optional: without it, or when
it fails, a review goes on with the diff alone and says so (``status``).  Retrieval asks for
callers and callees of the changed symbols and for code similar to the change; the index weights
hits by the quality policy's tiers and leaves deprecated code out.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from pathlib import PurePosixPath
from types import ModuleType
from typing import Any, Protocol

from agents.gitdiff import Hunk

MAX_HIT_LINES = 20
MAX_RELATED_CHARS = 2400
MAX_PRACTICES_CHARS = 1500
LANGS = {
    ".py": "python",
    ".js": "javascript",
    ".ts": "typescript",
    ".tsx": "typescript",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".rb": "ruby",
    ".c": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
}
_DEF = re.compile(r"^\s*(?:async\s+)?(?:def|class|func|fn|function)\s+([A-Za-z_]\w*)")
_HEADER_NAME = re.compile(r"(?:def|class|func|fn|function)\s+([A-Za-z_]\w*)")
_CALL = re.compile(r"\b([A-Za-z_]\w{2,})\s*\(")
_KEYWORDS = {"print", "len", "str", "int", "dict", "list", "set", "range", "super", "isinstance"}


class ReviewContext(Protocol):
    status: str

    def related(self, hunks: list[Hunk], k: int) -> list[str]: ...

    def best_practices(self) -> str: ...


class NoContext:
    """No index: the diff alone."""

    def __init__(self, status: str = "not used", practices: str = "") -> None:
        self.status = status
        self._practices = practices

    def related(self, hunks: list[Hunk], k: int) -> list[str]:
        return []

    def best_practices(self) -> str:
        return self._practices[:MAX_PRACTICES_CHARS]


def load_index() -> tuple[ModuleType | None, str]:
    """The index module if this build has it, with a one-line status."""
    try:
        module = importlib.import_module("agents.indexing")
    except ImportError as exc:
        return None, f"unavailable (the index is not in this build: {exc})"
    if not callable(getattr(module, "retrieve", None)):
        return None, "unavailable (this build's index has no retrieve())"
    return module, "used"


def changed_symbols(hunks: Iterable[Hunk]) -> list[str]:
    """Names of the functions and classes a change touches (defined in it, or enclosing it)."""
    names: list[str] = []
    for hunk in hunks:
        found = _HEADER_NAME.search(hunk.header)
        if found:
            names.append(found.group(1))
        for ln in hunk.lines:
            if ln.kind == "+" and (m := _DEF.match(ln.text)):
                names.append(m.group(1))
    return list(dict.fromkeys(names))


def called_names(hunks: Iterable[Hunk]) -> list[str]:
    names = [
        m.group(1)
        for hunk in hunks
        for ln in hunk.lines
        if ln.kind == "+"
        for m in _CALL.finditer(ln.text)
    ]
    return [n for n in dict.fromkeys(names) if n not in _KEYWORDS]


def _attr(hit: Any, *names: str) -> Any:
    for name in names:
        value = hit.get(name) if isinstance(hit, dict) else getattr(hit, name, None)
        if value not in (None, ""):
            return value
    return None


def render_hit(hit: Any) -> tuple[str, str, int]:
    """(``# path:lines (symbol)`` + code, path, start line) of one index hit."""
    path = str(_attr(hit, "path", "file", "file_path") or "?")
    start = _attr(hit, "start_line", "start", "line") or 0
    end = _attr(hit, "end_line", "end") or start
    symbol = _attr(hit, "symbol", "name", "qualname")
    text = str(_attr(hit, "text", "content", "code", "snippet") or "")
    body = "\n".join(text.splitlines()[:MAX_HIT_LINES])
    title = f"# {path}:{start}-{end}" + (f" ({symbol})" if symbol else "")
    return f"{title}\n{body}", path, int(start)


class IndexContext:
    """Related code, best practices and path weights from :mod:`agents.indexing`, degrading to
    nothing (with ``status`` saying why) when the index is missing, empty or failing."""

    def __init__(
        self, repo: str | None, *, settings: Any = None, fallback_practices: str = ""
    ) -> None:
        self.repo = repo
        self.settings = settings
        self.fallback_practices = fallback_practices
        self._index, self.status = load_index()
        self._policy: Any = None
        if self._index is not None:
            self._check_indexed()

    def _failed(self, exc: Exception) -> None:
        self.status = f"unavailable ({exc.__class__.__name__}: {str(exc)[:120]})"
        self._index = None

    def _check_indexed(self) -> None:
        """Skip retrieval (and the cost of opening the store) when nothing is indexed."""
        service = getattr(self._index, "shared_service", None)
        if not callable(service):
            return
        try:
            svc = service(self.settings)
            names = {r.name for r in svc.status()}
            self._policy = svc.policy()
        except Exception as exc:  # the index is optional: any failure degrades the review
            self._failed(exc)
            return
        if not names or (self.repo and self.repo not in names):
            what = f"repository '{self.repo}'" if self.repo and names else "repository"
            self.status = f"not used (no {what} indexed)"
            self._retrieval = False
        else:
            self._retrieval = True

    _retrieval = True

    def _retrieve(self, query: str, k: int, lang: str | None) -> list[Any]:
        if self._index is None or not self._retrieval or not query.strip():
            return []
        try:
            kwargs = {"settings": self.settings} if self.settings is not None else {}
            return list(self._index.retrieve(query, k, repo=self.repo, lang=lang, **kwargs))
        except Exception as exc:  # the index is optional: any failure degrades the review
            self._failed(exc)
            return []

    def path_weight(self, path: str) -> float:
        """The quality policy's weight of ``path`` in this repository (1 without a policy)."""
        getter = getattr(self._policy, "path_weight", None)
        if not callable(getter) or not self.repo:
            return 1.0
        try:
            return float(getter(self.repo, path))
        except Exception:  # optional, as above
            return 1.0

    def related(self, hunks: list[Hunk], k: int) -> list[str]:
        if not hunks or self._index is None or not self._retrieval:
            return []
        path = hunks[0].path
        lang = LANGS.get(PurePosixPath(path).suffix.lower())
        queries = [
            " ".join(changed_symbols(hunks)[:5]),  # callers and definitions of what changed
            " ".join(called_names(hunks)[:8]),  # what the change calls
            "\n".join("\n".join(h.text().splitlines()[:15]) for h in hunks[:2]),  # similar code
        ]
        spans = [(h.new_start, h.new_end) for h in hunks]
        out: list[str] = []
        seen: set[tuple[str, int]] = set()
        used = 0
        for query in queries:
            for hit in self._retrieve(query, k, lang):
                if _attr(hit, "deprecated") is True or _attr(hit, "tier") == "deprecated":
                    continue  # the index leaves them out; a stale one never reaches the model
                text, hit_path, start = render_hit(hit)
                inside = hit_path == path and any(a <= start <= b for a, b in spans)
                if (hit_path, start) in seen or inside:
                    continue
                seen.add((hit_path, start))
                if used + len(text) > MAX_RELATED_CHARS:
                    return out
                out.append(text)
                used += len(text)
                if len(out) >= k:
                    return out
        return out

    def best_practices(self) -> str:
        text = ""
        getter = getattr(self._index, "best_practices", None) if self._index else None
        if callable(getter):
            try:
                kwargs = {"settings": self.settings} if self.settings is not None else {}
                text = str(getter(self.repo, **kwargs) or "")
            except Exception:  # optional, as above
                text = ""
        practices = "\n\n".join(t for t in (text.strip(), self.fallback_practices.strip()) if t)
        return practices[:MAX_PRACTICES_CHARS]
