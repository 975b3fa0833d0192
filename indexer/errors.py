"""Errors raised by the indexer library (one line for the user: what happened, what to do).

Every error carries ``what`` (what happened, naming the input) and ``fix`` (what to do);
``str(err)`` is the line a user sees.  Errors from git, tree-sitter, the embedding model and
Qdrant are translated to these at the module that talks to them.
"""

from __future__ import annotations

from typing import Self


class IndexerError(Exception):
    """Base class of every error the indexer raises on purpose."""

    default_fix = ""

    def __init__(self, what: str, fix: str | None = None) -> None:
        self.what = what
        self.fix = self.default_fix if fix is None else fix
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return f"{self.what}: {self.fix}" if self.fix else self.what

    def __str__(self) -> str:
        return self.message

    def with_fix(self, fix: str) -> Self:
        """The same error with other advice (applications know their own commands)."""
        self.fix = fix
        self.args = (self.message,)
        return self


class SourceError(IndexerError):
    """A repository cannot be read, cloned or fetched, or a ref does not exist."""

    default_fix = "check the path or URL and the ref"


class EmbedderError(IndexerError):
    """The embedding model cannot be loaded or fails to embed."""

    default_fix = "check the embedding model name or path"


class StoreError(IndexerError):
    """The Qdrant store cannot be opened, reached or written."""

    default_fix = "check the Qdrant path or URL"


class PolicyError(IndexerError):
    """The quality policy file is malformed or an edit is invalid."""

    default_fix = "fix the policy file or the command's arguments"


class RepoNotIndexed(IndexerError):
    """A command names a repository the index does not know."""

    default_fix = "see the indexed repositories with 'assay index status'"
