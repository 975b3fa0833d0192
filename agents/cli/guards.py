"""What commands check before a run and after it, so that bad input fails at once in one line
and a run that did nothing does not pass for one that worked:

- :func:`in_range`: a number flag inside its range (percentages, budgets, counts);
- :func:`writable_file`, :func:`writable_dir`: where a command will write its output can be
  written, checked before the run (not after an hour of work);
- :class:`ModelCalls`: counts the model's answers and failures of a run; a run where the model
  failed on every call ends with :class:`~agents.errors.ModelFailedError` (exit 3);
- :class:`Deadline`: ``--max-minutes`` for the whole run, the sandboxed runs included.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from agents.errors import InputError, ModelFailedError
from flows import BudgetExhausted, Completer, Completion, LLMError, LLMOutOfTime, mask_url


def in_range(
    flag: str,
    value: float | None,
    *,
    low: float | None = None,
    high: float | None = None,
    above: float | None = None,
) -> None:
    """``value`` within ``[low, high]`` (``above``: strictly greater), or :class:`InputError`."""
    if value is None:
        return
    if value != value or (above is not None and value <= above) or (
        low is not None and value < low) or (high is not None and value > high):  # fmt: skip
        parts = [f"more than {above:g}" if above is not None else ""]
        parts += [f"at least {low:g}" if low is not None else ""]
        parts += [f"at most {high:g}" if high is not None else ""]
        wanted = " and ".join(p for p in parts if p)
        raise InputError(f"{flag} {value:g} is out of range", f"pass a number {wanted}")


def writable_file(flag: str, path: Path | None) -> Path | None:
    """``path`` (expanded) if a file can be written there: its directory exists and takes a new
    file (tried, then removed), and it is not a directory.  Else :class:`InputError`."""
    if path is None:
        return None
    target = path.expanduser()
    fix = "pass a file path in an existing, writable directory"
    if target.is_dir():
        raise InputError(f"{flag} {path} is a directory", "pass a file path")
    parent = target.parent
    if not parent.is_dir():
        raise InputError(f"{flag} {path}: the directory {parent} does not exist", fix)
    try:
        with tempfile.NamedTemporaryFile(dir=parent, prefix=f".{target.name}.", delete=True):
            pass
    except OSError as exc:
        raise InputError(f"{flag} {path} cannot be written ({exc.strerror})", fix) from exc
    if target.exists() and not os.access(target, os.W_OK):
        raise InputError(f"{flag} {path} is read-only", fix)
    return target


def writable_dir(what: str, path: Path) -> Path:
    """``path`` (expanded) if a directory can be made there: its nearest existing ancestor is a
    directory that takes a new file (tried, then removed).  Else :class:`InputError`."""
    target = path.expanduser().absolute()
    fix = "pass a directory under an existing, writable one"
    if target.exists() and not target.is_dir():
        raise InputError(f"{what} {path} is not a directory", fix)
    ancestor = next((p for p in (target, *target.parents) if p.exists()), Path("/"))
    if not ancestor.is_dir():
        raise InputError(f"{what} {path}: {ancestor} is not a directory", fix)
    try:
        with tempfile.NamedTemporaryFile(dir=ancestor, prefix=".assay-probe-", delete=True):
            pass
    except OSError as exc:
        raise InputError(f"{what} {path} cannot be written ({exc.strerror})", fix) from exc
    return target


class ModelCalls:
    """A :class:`flows.Completer` around a run's model that counts answers and failures."""

    def __init__(self) -> None:
        self.answered = 0
        self.failed = 0
        self.last_error = ""
        self.client: Any = None

    def wrap(self, client: Any) -> ModelCalls:
        self.client = client
        return self

    def __getattr__(self, name: str) -> Any:  # list_models, model_for, base_url, close …
        if name == "client":
            raise AttributeError(name)
        return getattr(self.client, name)

    def complete(self, messages: Sequence[Mapping[str, str]], **params: Any) -> Completion:
        completer: Completer = self.client
        try:
            answer = completer.complete(messages, **params)
        except LLMOutOfTime:
            raise  # the run's time ran out during the call: the budget's doing, not the model's
        except LLMError as exc:
            self.failed += 1
            self.last_error = str(exc)
            raise
        self.answered += 1
        return answer

    @property
    def never_answered(self) -> bool:
        """The model was asked and failed every time."""
        return self.failed > 0 and self.answered == 0

    def check(self, what: str = "nothing it was asked for came back") -> None:
        """:class:`ModelFailedError` (exit 3) when the model failed on every call."""
        if self.never_answered:
            raise ModelFailedError(
                mask_url(
                    f"The model failed on every call ({self.failed} of {self.failed}; last: "
                    f"{self.last_error.split(': ')[0][:160]}): {what}"
                ),
                "check the endpoint with 'assay doctor' (exit code 3)",
            )


class Deadline:
    """``--max-minutes`` as a wall-clock limit of the whole run: :meth:`check` (the sandbox's
    ``stop_check``, called while a sandboxed run waits) raises :class:`flows.BudgetExhausted`
    once the time is spent, which stops that run; once only, so that what the run accepted can
    still be verified."""

    def __init__(self, minutes: float | None, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.started = clock()
        self.seconds = minutes * 60 if minutes is not None else None
        self.deadline = self.started + self.seconds if self.seconds is not None else None
        self.fired = False

    def check(self) -> None:
        if self.deadline is None or self.fired or self.clock() < self.deadline:
            return
        self.fired = True
        raise BudgetExhausted(f"the time budget of {self.seconds:g} s is spent")
