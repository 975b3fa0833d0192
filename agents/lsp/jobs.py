"""Work the server runs in the background: cancellation, progress, and guards that make the
engine stop when the user cancels.

A :class:`Job` owns a :class:`CancelToken`.  The engine checks it between model calls and
sandbox runs: the agents' listeners, the :class:`GuardedLLM` (before every call, on every
streamed chunk, and every :data:`POLL` seconds while it waits for an answer) and the
sandbox (``Sandbox(stop_check=token.check)``: before every run and a few times a second while
one runs, killing it) raise :class:`Cancelled` once it is set, which unwinds the agent, closes
the sandbox and the model, and ends the job.  A model answer being waited for is abandoned at
once and hung up on at its next chunk.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from lsprotocol import types

from flows import Completer, Completion

POLL = 0.2  # seconds between cancellation checks while a model answer is awaited


class Cancelled(Exception):
    """The user cancelled the job (not an error: nothing is shown as one)."""

    def __init__(self, reason: str = "cancelled") -> None:
        super().__init__(reason)
        self.reason = reason


class CancelToken:
    """Set once, from any thread; checked by the engine's thread."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = ""

    def cancel(self, reason: str = "cancelled") -> None:
        if not self._event.is_set():
            self.reason = reason
            self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled(self.reason)

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True (at once) when cancelled."""
        return self._event.wait(seconds)


ProgressValue = (
    types.WorkDoneProgressBegin | types.WorkDoneProgressReport | types.WorkDoneProgressEnd
)


class Host(Protocol):
    """What a job needs of the server; every method may be called from a worker thread."""

    def send_progress(self, token: types.ProgressToken, value: ProgressValue) -> None: ...

    def log(self, message: str, level: types.MessageType = types.MessageType.Info) -> None: ...

    def pick(self, job: Job, symbol: str, behaviours: list[dict[str, str]]) -> list[int] | None: ...

    def accepted(self, job: Job, test: dict[str, Any]) -> None:
        """A test passed every gate while the job still runs (shown at once, not at the end)."""


class Job:
    """One command's work: its title, progress token (None: no progress UI) and cancel token."""

    def __init__(self, host: Host, kind: str, title: str, progress: types.ProgressToken | None):
        self.id = uuid.uuid4().hex[:12]
        self.host, self.kind, self.title, self.progress_token = host, kind, title, progress
        self.token = CancelToken()
        self.message = ""
        self.percentage = 0
        self.total = 0
        self.started = time.monotonic()
        self._started = 0
        self.accepted = 0  # tests accepted so far (streamed to the editor as they pass)
        self.finished = threading.Event()

    # -- progress ------------------------------------------------------------------------------

    def begin(self, message: str) -> None:
        self.message = message
        self.host.log(f"[{self.kind}] {self.title}: {message}")
        if self.progress_token is not None:
            value = types.WorkDoneProgressBegin(
                title=self.title, cancellable=True, message=message, percentage=0
            )
            self.host.send_progress(self.progress_token, value)

    def report(self, message: str) -> None:
        self.message = message
        self.host.log(f"[{self.kind}] {message}")
        if self.progress_token is None:
            return
        value = types.WorkDoneProgressReport(
            cancellable=True, message=message, percentage=self.percentage
        )
        self.host.send_progress(self.progress_token, value)

    def end(self, message: str) -> None:
        self.message = message
        self.host.log(f"[{self.kind}] {self.title}: {message}")
        if self.progress_token is not None:
            self.host.send_progress(self.progress_token, types.WorkDoneProgressEnd(message=message))
        self.finished.set()

    def status(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "title": self.title, "message": self.message,
            "percentage": self.percentage, "cancelled": self.token.cancelled,
            "seconds": round(time.monotonic() - self.started, 1),
        }  # fmt: skip

    # -- the engine's events ---------------------------------------------------------------------

    def listener(self, kind: str, data: dict[str, Any]) -> None:
        """The agents' listener: stops the work when cancelled, else reports the event."""
        self.token.check()
        if kind == "baseline":
            self.advance(5)
        elif kind in ("behaviours", "targets"):
            self.total = int(data.get("count") or len(data.get("behaviours") or []))
            self.advance(15)
        elif (kind == "target" and data.get("chain") == 0) or (
            kind == "attempt" and data.get("behaviour") is not None and data.get("attempt") == 1
        ):
            self._started += 1  # the next function (cover) or behaviour (tests)
            self.advance(15 + 75 * (self._started - 1) // max(self.total, self._started))
        elif kind == "call" and "total" in data:  # review: one model call per group of hunks
            self.advance(10 + 85 * int(data["done"]) // max(int(data["total"]), 1))
        elif kind == "verify":
            self.advance(90)
        if kind == "accepted" and data.get("code"):
            self.accepted += 1
            test = {"tests": list(data.get("tests") or []), "path": str(data.get("path", "")),
                    "code": str(data["code"]), "first": self.accepted == 1,
                    "seconds": round(time.monotonic() - self.started, 1)}  # fmt: skip
            self.host.accepted(self, test)
        text = describe(kind, data)
        if text:
            self.report(text)

    def advance(self, percentage: int) -> None:
        """Progress only goes forward (LSP asks for that)."""
        self.percentage = max(self.percentage, min(percentage, 99))


def describe(kind: str, data: Mapping[str, Any]) -> str | None:
    """One progress line for an event of the testgen, cover or review agent (None: silent)."""
    if kind == "baseline":
        return f"running the project's tests under coverage ({data.get('command', 'pytest')})"
    if kind == "explore":
        return f"exploring {data.get('symbol', '')}: calling it with generated arguments"
    if kind == "mutants":
        return f"measuring {data.get('measuring')} mutants against the new tests"
    if kind == "survivors" and data.get("count"):
        return f"{data.get('count')} mutants survive: looking for calls that tell them apart"
    if kind == "rewritten":
        return f"rewritten {data.get('before')} → {data.get('after')}"
    if kind == "possible-bug":
        return f"possible bug: {data.get('line', '')}"
    if kind == "behaviours":
        return f"{len(data.get('behaviours') or [])} behaviours worth testing"
    if kind == "targets":
        return f"{data.get('count', 0)} functions with missed lines or branches"
    if kind == "target" and data.get("chain") == 0:
        target = data.get("target")
        return f"writing a test for {getattr(target, 'qualname', target)}"
    if kind == "attempt":
        what = data.get("behaviour")
        text = getattr(what, "description", None) or getattr(data.get("target"), "qualname", "")
        if data.get("explored"):
            return f"checking what was observed: {str(text)[:70]}"
        return f"asking the model: {str(text)[:70]} (try {data.get('attempt', 1)})"
    if kind == "gates":
        return f"running {', '.join(data.get('tests') or ['the test'])} in the sandbox"
    if kind == "accepted":
        return f"accepted {', '.join(data.get('tests') or [])}"
    if kind == "rejected":
        return f"rejected ({data.get('reason', '?')})"
    if kind == "verify":
        return "running the whole suite with the new tests"
    if kind == "round":
        return f"round {data.get('round')}: {data.get('targets')} functions still missed"
    if kind == "call" and "total" in data:
        return f"reviewing {data.get('path', '')} ({int(data['done']) + 1}/{data['total']})"
    if kind == "tests":
        return "measuring diff coverage"
    return None


class GuardedLLM:
    """A model (:class:`flows.Completer`) that stops when its job is cancelled (see the module's
    doc).

    Every call streams, so that a cancelled call hangs up at its next chunk, and runs in a
    daemon thread of its own, so that an abandoned call never holds up the server's exit.  The
    answer of a call abandoned before it finished is never cached (the guard raises before the
    client's cache sees it).
    """

    def __init__(self, client: Completer, token: CancelToken) -> None:
        self.client, self.token = client, token

    def complete(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        stop_when: Callable[[str], bool] | None = None,
        **params: Any,
    ) -> Completion:
        self.token.check()

        def watch(text: str) -> bool:
            self.token.check()
            return bool(stop_when(text)) if stop_when is not None else False

        outcome: dict[str, Any] = {}
        done = threading.Event()

        def call() -> None:
            try:
                outcome["value"] = self.client.complete(messages, stop_when=watch, **params)
            except BaseException as exc:  # handed to the waiting thread
                outcome["error"] = exc
            finally:
                done.set()

        threading.Thread(target=call, name="assay-llm-call", daemon=True).start()
        while not done.wait(POLL):
            self.token.check()
        self.token.check()
        if "error" in outcome:
            raise outcome["error"]
        completion: Completion = outcome["value"]
        return completion
