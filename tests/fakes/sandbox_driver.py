"""Runs a batch of sandbox runs and reports them as JSON: in-process, or as another user.

``drive(spec)`` opens one :class:`~flows.sandbox.Sandbox` with ``spec["sandbox"]`` (keyword
arguments) and runs ``spec["runs"]`` (each ``{"argv", "extra_files", "timeout"}``), up to
``spec["workers"]`` at a time; it
returns the isolation in force, the guarantees and every :class:`~flows.coverage_data.RunResult`
as a dict.  As a script (``python sandbox_driver.py < spec.json``) it prints that as JSON: the
hostile tests start it as an unprivileged user.  With ``spec["hold"]`` it prints ``opened`` and
waits for ``hold`` seconds after starting its runs in threads (for a ``kill -9`` of it).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import sys
import threading
import time
import types
from concurrent.futures import ThreadPoolExecutor
from typing import Any

if __name__ == "__main__" and "flows" not in sys.modules:
    # Only the sandbox's modules: flows/__init__ would import the LLM client (seconds here).
    _spec = importlib.util.find_spec("flows")
    assert _spec is not None and _spec.submodule_search_locations is not None
    _package = types.ModuleType("flows")
    _package.__path__ = list(_spec.submodule_search_locations)
    sys.modules["flows"] = _package

from flows.sandbox import Sandbox


def drive(spec: dict[str, Any]) -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    with Sandbox(**spec["sandbox"]) as sandbox:
        report = {
            "isolation": sandbox.isolation.label,
            "guarantees": {g.aspect: [g.holds, g.text] for g in sandbox.guarantees()},
            "results": results,
        }

        def one(run: dict[str, Any]) -> dict[str, Any]:
            result = sandbox.run(
                run["argv"], extra_files=run.get("extra_files"), timeout=run.get("timeout")
            )
            return json.loads(json.dumps(dataclasses.asdict(result)))  # as a driver prints it

        with ThreadPoolExecutor(max_workers=spec.get("workers", 1)) as pool:
            results.extend(pool.map(one, spec["runs"]))
    return report


def hold(spec: dict[str, Any]) -> None:
    """Start the runs in threads, say so, then wait to be killed."""
    sandbox = Sandbox(**spec["sandbox"]).open()
    for run in spec["runs"]:
        threading.Thread(
            target=sandbox.run,
            args=(run["argv"],),
            kwargs={"extra_files": run.get("extra_files"), "timeout": run.get("timeout")},
            daemon=True,
        ).start()
    print("opened", flush=True)
    time.sleep(float(spec["hold"]))


if __name__ == "__main__":
    spec = json.load(sys.stdin)
    if spec.get("hold"):
        hold(spec)
    else:
        print(json.dumps(drive(spec)))
