"""Run :func:`agents.model.server.serve` or hold an :func:`llm_endpoint` in a separate process,
with the stand-in server of ``fake_llama_server.py``, for tests of reuse, locking and stopping
across processes.  Settings come from the environment (``ASSAY_HOME``, ``ASSAY_MODEL_PATH``).

    python server_driver.py serve    --ready-file F [--port P] [-- FAKE_FLAGS...]
    python server_driver.py endpoint --ready-file F --hold-until G [-- FAKE_FLAGS...]

When the server is ready the driver writes ``{"url": ..., "pid": <server pid>}`` to F
(atomically).  ``endpoint`` then holds the endpoint until the file G exists.  A
:class:`ModelError` is printed and ends the driver with exit code 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from agents.errors import ModelError
from agents.model.server import llm_endpoint, running_server, serve
from agents.settings import load_settings
from tests.fakes import fake_llama_server

SCRIPT = str(Path(__file__).resolve())


def _ready(path: Path, url: str, pid: int | None) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"url": url, "pid": pid, "driver": os.getpid()}))
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["serve", "endpoint"])
    parser.add_argument("--ready-file", type=Path, required=True)
    parser.add_argument("--hold-until", type=Path)
    parser.add_argument("--port", type=int)
    argv = sys.argv[1:] if argv is None else argv
    cut = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:cut])
    settings = load_settings().settings
    command = fake_llama_server.command(*argv[cut + 1 :])

    def on_ready(url: str) -> None:
        info = running_server(settings)
        _ready(args.ready_file, url, info.pid if info else None)

    try:
        if args.mode == "serve":
            serve(settings, args.port, on_ready, command=command)
            print("serve: stopped", flush=True)
            return 0
        with llm_endpoint(settings, command=command) as url:
            on_ready(url)
            deadline = time.monotonic() + 120
            while not args.hold_until.exists() and time.monotonic() < deadline:
                time.sleep(0.02)
        return 0
    except ModelError as err:
        print(f"ModelError: {err}", flush=True)
        return 2


if __name__ == "__main__":
    sys.exit(main())
