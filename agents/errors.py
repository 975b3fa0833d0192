"""Errors the assay application raises on purpose.

Each is one line for the user (what happened, with which input, and what to do).  The CLI prints
it and exits with ``exit_code`` (2 unless said otherwise); no traceback unless ``--debug``.
Errors from the libraries (:class:`flows.errors.FlowsError`, :class:`indexer.errors.IndexerError`)
are handled the same way.
"""

from __future__ import annotations


class AssayError(Exception):
    exit_code = 2

    def __init__(self, what: str, fix: str = "") -> None:
        self.what = what
        self.fix = fix
        super().__init__(f"{what}: {fix}" if fix else what)


class ConfigError(AssayError):
    """A setting is unknown, malformed or invalid (file, environment or flag)."""


class InputError(AssayError):
    """A path, repository or argument given on the command line cannot be used."""


class ModelError(AssayError):
    """The embedded model is missing, corrupt, or its server cannot start."""


class PlatformError(AssayError):
    """A code host (GitHub, GitLab) refused or failed a call; translated at its boundary.

    ``status`` is the HTTP status (0 when the host was unreachable); ``transient`` says whether
    trying again later can help (rate limits, 5xx, network errors).
    """

    def __init__(self, what: str, fix: str = "", *, status: int = 0, transient: bool = False):
        super().__init__(what, fix)
        self.status = status
        self.transient = transient


class ServiceError(AssayError):
    """The service cannot start or run as configured (a missing secret, a bad queue URL)."""


class ModelFailedError(AssayError):
    """The model failed on every call of a run (errors, timeouts, garbage): nothing it was asked
    for came back.  Exit 3, so that CI fails loudly instead of passing having done nothing."""

    exit_code = 3
