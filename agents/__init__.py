"""assay's application layer: settings, agents (testgen, cover, review), CLI, service, LSP.

The only package that reads settings and wires the libraries (:mod:`indexer`, :mod:`flows`)
together.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("assay")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
