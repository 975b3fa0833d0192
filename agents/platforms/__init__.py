"""The code hosts the PR bot talks to: one module per host, errors translated there.

:mod:`agents.platforms.github` (GitHub App or token) and :mod:`agents.platforms.gitlab`
(project or group access token) implement :class:`~agents.platforms.base.CodeHost`.
"""

from agents.platforms.base import (
    BadPayload,
    CodeHost,
    Event,
    InlineComment,
    NewComment,
    PullRequest,
)

__all__ = ["BadPayload", "CodeHost", "Event", "InlineComment", "NewComment", "PullRequest"]
