"""The two sides of a behaviour diff: a tree (the base's, materialised from git, or the head's)
with a sandbox over it, where the behaviour driver runs; and :class:`CallRunner`, which runs
call texts on the head for the checks of findings and suggestions."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import tarfile
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from typing import Any

from agents.cover.explore import DRIVER as EXPLORE_DRIVER
from agents.cover.explore import HELPERS
from agents.cover.oracle import GUARD_FILE, GUARD_SOURCE
from agents.cover.targets import module_of, tests_pythonpath
from agents.errors import AssayError
from flows import Sandbox, parse_test_command

DRIVER = Path(__file__).with_name("behaviour_driver.py")
# The explore driver beside ours, with what it imports (and the guard, shipped apart).
FILES = {"_assay_explore_driver.py": EXPLORE_DRIVER, "_assay_behaviour_driver.py": DRIVER,
         **HELPERS}  # fmt: skip
SPEC_FILE = "_assay_behaviour_spec.json"
MARK = "ASSAY_BEHAVIOUR "

SandboxFor = Callable[[Path], AbstractContextManager[Sandbox]]


class Side:
    """One side (base or head): its tree and the sandbox over it."""

    def __init__(self, name: str, root: Path, sandbox: Sandbox, pythonpath: str) -> None:
        self.name, self.root, self.sandbox, self.pythonpath = name, root, sandbox, pythonpath
        # (module, call text) → the fastest of its runs here, in seconds
        self.seconds: dict[tuple[str, str], float] = {}

    def drive(
        self, spec: dict[str, Any], timeout: float, files: dict[str, str | bytes] | None = None
    ) -> list[dict[str, Any]]:
        files = {**(files or {}), **{k: v.read_text("utf-8") for k, v in FILES.items()}}
        files[GUARD_FILE] = GUARD_SOURCE
        files[SPEC_FILE] = json.dumps(spec)
        run = self.sandbox.run(
            [str(self.sandbox.python), "_assay_behaviour_driver.py", SPEC_FILE],
            extra_files=files,
            env={"PYTHONPATH": self.pythonpath, "PYTHONHASHSEED": "0"},
            timeout=timeout,
        )
        items = []
        for line in run.output.splitlines():
            if line.startswith(MARK):
                try:
                    items.append(json.loads(line[len(MARK) :]))
                except ValueError:
                    continue
        return items

    def replay(
        self,
        calls: list[tuple[str, str]],
        reruns: int,
        files: dict[str, str | bytes] | None = None,
    ) -> dict[tuple[str, str], Any]:
        """``(module, expr)`` → (outcome, stable) on this side (``files`` put in place)."""
        if not calls:
            return {}
        listed = [{"id": i, "module": m, "expr": e} for i, (m, e) in enumerate(calls)]
        spec = {"mode": "replay", "reruns": reruns, "calls": listed}
        found: dict[tuple[str, str], Any] = {}
        for item in self.drive(spec, timeout=60 + 2 * len(calls) * (1 + reruns), files=files):
            if "id" in item and 0 <= item["id"] < len(calls):
                found[calls[item["id"]]] = (item["outcome"], bool(item["stable"]))
                self.seconds[calls[item["id"]]] = float(item.get("seconds") or 0.0)
        return found

    def source(self, path: str) -> str | None:
        try:
            return (self.root / path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None


class CallRunner:
    """Runs call texts in the modules of ``root`` (the head), in one sandbox opened on first
    use: the claimed failing inputs of findings, the evidence of suggestions."""

    def __init__(self, root: Path, sandbox_for: SandboxFor, reruns: int = 2) -> None:
        self.root, self.sandbox_for, self.reruns = root, sandbox_for, reruns
        self._stack = ExitStack()
        self._side: Side | None = None

    def __call__(
        self, path: str, exprs: list[str], files: dict[str, str | bytes] | None = None
    ) -> dict[str, tuple[dict[str, Any], bool]]:
        if self._side is None:
            box = self._stack.enter_context(self.sandbox_for(self.root))
            self._side = Side("head", self.root, box, tests_pythonpath(self.root, [path]))
        module = module_of(self.root, path)[0]
        seen = self._side.replay([(module, e) for e in exprs], self.reruns, files)
        return {expr: value for (_, expr), value in seen.items()}

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> CallRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def materialise(top: Path, ref: str, dest: Path) -> Path:
    """The tree of ``ref`` (no history) in ``dest``."""
    done = subprocess.run(
        ["git", "-C", str(top), "archive", "--format=tar", ref],
        capture_output=True, timeout=300, env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
    )  # fmt: skip
    if done.returncode != 0:
        raise AssayError(
            f"could not read the base {ref} of {top}: {done.stderr.decode(errors='replace')[:200]}",
            "check that the base commit exists in the repository",
        )
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as archive:
        archive.extractall(dest, filter="data")
    return dest


_SUMMARY = re.compile(r"^(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS) (\S+?)(?: - .*)?$", re.M)


def run_pytest(
    sandbox: Sandbox,
    test_command: str,
    *,
    args: Sequence[str] = (),
    files: dict[str, str | bytes] | None = None,
    pythonpath: str = ".",
    timeout: float = 600,
) -> tuple[dict[str, str], str]:
    """(outcome per node id, why there are none or "") of the project's pytest command in a
    fresh copy, without coverage (faster than :meth:`Sandbox.run_tests`: a check, not a
    measure)."""
    pytest_args, env = parse_test_command(test_command)
    argv = [str(sandbox.python), "-m", "pytest", *pytest_args, *args]
    argv += ["-q", "-rA", "-p", "no:cacheprovider"]
    run = sandbox.run(argv, extra_files=files, env={**env, "PYTHONPATH": pythonpath},
                      timeout=timeout)  # fmt: skip
    outcomes = {
        nodeid: kind.lower() if kind != "ERROR" else "error"
        for kind, nodeid in _SUMMARY.findall(run.output)
    }
    if outcomes or run.returncode == 5:
        return outcomes, ""
    tail = [t for t in run.output.strip().splitlines() if t.strip()][-1:]
    why = "timed out" if run.timed_out else (tail[0][:200] if tail else "no output")
    return outcomes, f"the tests did not run: {why}"
