"""assay's repository index: git sources, tree-sitter chunks, embeddings, Qdrant, quality policy.

A library: it takes everything it needs as arguments and imports nothing else of assay's.
"""

from indexer.errors import IndexerError

__all__ = ["IndexerError"]
