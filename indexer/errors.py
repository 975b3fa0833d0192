"""Errors raised by the indexer library (one line for the user: what happened, what to do)."""

from __future__ import annotations


class IndexerError(Exception):
    """Base class of every error the indexer raises on purpose."""
