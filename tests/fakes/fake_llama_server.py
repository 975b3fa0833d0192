"""A stand-in for ``python -m llama_cpp.server``, for tests of the managed model server.

It takes the real server's flags (``--model --model_alias --port --host --n_ctx …``), checks the
model file exists, then serves ``GET /v1/models`` and chat completions on the given port with
:class:`tests.fakes.openai_server.FakeOpenAI` (every answer is ``fake answer to: <last message>``).
Extra flags script its behaviour: ``--crash MSG`` (print MSG and exit 3 while "loading"),
``--delay S`` (take S seconds to "load"), ``--starts-file F`` (append its pid to F),
``--ignore-sigterm``.

Use :func:`command` as the ``command=`` of :func:`agents.model.server.llm_endpoint` / ``serve``::

    with llm_endpoint(settings, command=fake_llama_server.command("--delay", "0.2")) as url:
        ...
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if __package__ in (None, ""):  # run as a script: make `tests.fakes` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.fakes.openai_server import FakeOpenAI, RecordedRequest

if TYPE_CHECKING:
    from agents.settings import Settings

SCRIPT = str(Path(__file__).resolve())


def command(*extra: str) -> Callable[[Settings, Path, int], list[str]]:
    """A ``command=`` for the model server functions: this script with the real server's flags
    (:func:`agents.model.server.server_flags`) plus ``extra`` test flags."""
    from agents.model.server import server_flags

    def build(settings: Settings, model: Path, port: int) -> list[str]:
        return [sys.executable, SCRIPT, *server_flags(settings, model, port), *extra]

    return build


def _answer(req: RecordedRequest) -> str:
    messages = req.messages
    return f"fake answer to: {messages[-1].get('content', '') if messages else ''}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True)
    parser.add_argument("--model_alias")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    for flag in ("--chat_format", "--n_ctx", "--n_threads", "--n_threads_batch"):
        parser.add_argument(flag)
    parser.add_argument("--interrupt_requests")
    parser.add_argument("--crash", help="print this and exit 3 while loading")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to load")
    parser.add_argument("--starts-file", help="append our pid to this file")
    parser.add_argument("--ignore-sigterm", action="store_true")
    args = parser.parse_args(argv)

    if args.ignore_sigterm:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if args.starts_file:
        with open(args.starts_file, "a") as fh:
            fh.write(f"{os.getpid()}\n")
    print(f"fake llama server: loading {args.model}", flush=True)
    if not Path(args.model).is_file():
        print(f"ValueError: Model path does not exist: {args.model}", file=sys.stderr)
        return 1
    if args.crash:
        print(args.crash, file=sys.stderr, flush=True)
        return 3
    time.sleep(args.delay)
    alias = args.model_alias or args.model
    try:
        FakeOpenAI(host=args.host, port=args.port, models=[alias], handler=_answer).start()
    except OSError as exc:
        print(f"ERROR: [Errno {exc.errno}] error while attempting to bind: {exc.strerror}")
        return 1
    print(f"fake llama server: listening on http://{args.host}:{args.port}/v1", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    sys.exit(main())
