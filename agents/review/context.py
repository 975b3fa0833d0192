"""Context for a review from the repository index: related code and the best practices.

The index (:mod:`agents.indexing`, built by ``assay index``) is optional for a review: when the
repository is not indexed the review reads the diff alone (``status`` says so); when the index
cannot be read (a locked store, a missing model) the review goes on without it and says so once,
as a warning (``warning``).  Retrieval asks for callers and callees of the changed symbols and
for code similar to the change; the index weights hits by the quality policy's tiers and leaves
deprecated code out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Any, Protocol

from agents import indexing
from agents.gitdiff import Hunk
from agents.settings import Settings

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
    the diff alone when the repository is not indexed (``status``) or the index cannot be read
    (``warning``, said once)."""

    def __init__(
        self, repo: str | None, *, settings: Settings, fallback_practices: str = ""
    ) -> None:
        self.repo = repo
        self.settings = settings
        self.fallback_practices = fallback_practices
        self.status = "used"
        self.warning = ""
        self._policy: Any = None
        self._retrieval = self._check_indexed()

    def _failed(self, exc: Exception) -> None:
        if not self.warning:
            self.warning = (
                f"the code index could not be read ({exc.__class__.__name__}: {str(exc)[:160]}); "
                "this review ran without related code from it"
            )
        self.status = "unavailable (see the warning)"
        self._retrieval = False

    def _check_indexed(self) -> bool:
        """Retrieval only when the repository is indexed (opening the store costs time)."""
        try:
            service = indexing.shared_service(self.settings)
            names = {r.name for r in service.status()}
            self._policy = service.policy()
        except indexing.INDEX_FAILURES as exc:
            self._failed(exc)
            return False
        if not names or (self.repo and self.repo not in names):
            what = f"repository '{self.repo}'" if self.repo and names else "repository"
            self.status = f"not used (no {what} indexed)"
            return False
        return True

    def _retrieve(self, query: str, k: int, lang: str | None) -> list[Any]:
        if not self._retrieval or not query.strip():
            return []
        try:
            hits = indexing.retrieve(query, k, repo=self.repo, lang=lang, settings=self.settings)
        except indexing.INDEX_FAILURES as exc:
            self._failed(exc)
            return []
        return list(hits)

    def path_weight(self, path: str) -> float:
        """The quality policy's weight of ``path`` in this repository (1 without a policy)."""
        if self._policy is None or not self.repo:
            return 1.0
        return float(self._policy.path_weight(self.repo, path))

    def related(self, hunks: list[Hunk], k: int) -> list[str]:
        if not hunks or not self._retrieval:
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
        if self._policy is not None:
            text = str(self._policy.best_practices(self.repo) or "")
        practices = "\n\n".join(t for t in (text.strip(), self.fallback_practices.strip()) if t)
        return practices[:MAX_PRACTICES_CHARS]
