"""Errors raised by the flows library.

Every error carries ``what`` (what happened, naming the input) and ``fix`` (what to do).
``str(err)`` is the one line a user sees.  Applications may replace ``fix`` with advice that
knows about their own commands (see :meth:`FlowsError.with_fix`).
"""

from __future__ import annotations

from typing import Self


class FlowsError(Exception):
    """Base class of every error the flows library raises on purpose."""

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
        """Return the same error with other advice (keeps the type and the cause)."""
        self.fix = fix
        self.args = (self.message,)
        return self


class LLMError(FlowsError):
    """The LLM endpoint failed in a way retries did not cure."""

    def __init__(self, what: str, fix: str | None = None, *, base_url: str = "") -> None:
        self.base_url = base_url
        super().__init__(what, fix)


class LLMUnreachable(LLMError):
    default_fix = "check that the server is running and the base URL is right"


class LLMAuthError(LLMError):
    default_fix = "check the API key"


class LLMModelNotFound(LLMError):
    default_fix = "pick a model the endpoint serves"


class LLMTimeout(LLMError):
    default_fix = "raise the timeout or shorten the request"


class LLMOutOfTime(LLMTimeout):
    """The call used up the time it was given (what the run's budget had left): the budget
    ran out, which says nothing about the model."""

    default_fix = "raise the time budget (--max-minutes)"


class LLMRateLimited(LLMError):
    default_fix = "wait, lower the request rate, or raise the retry limit"


class LLMServerError(LLMError):
    default_fix = "check the model server's log"


class LLMBadResponse(LLMError):
    default_fix = "check that the endpoint speaks the OpenAI chat-completions API"


class SandboxError(FlowsError):
    """The sandbox could not run a command at all (not: the command failed)."""
