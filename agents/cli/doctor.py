"""``assay doctor``: check what assay needs on this host and say how to fix what is missing.

Checks only look: they create no files and start no model server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx
import typer
from rich.markup import escape
from rich.table import Table

from agents import __version__
from agents.cli.common import BaseUrlOpt, ModelOpt, PythonOpt, RepoOpt, out, settings_for
from agents.model.status import model_status
from agents.runtime import make_llm_client, resolve_python
from agents.settings import LoadedSettings, Settings
from flows import FlowsError, Isolation, host_guarantees, mask_url

Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""


def _python_check(settings: Settings) -> list[Check]:
    checks = [
        Check(
            "assay's Python",
            "ok" if sys.version_info >= (3, 11) else "fail",
            f"{sys.version.split()[0]} at {sys.executable}",
            "" if sys.version_info >= (3, 11) else "install assay with Python 3.11 or newer",
        )
    ]
    python = resolve_python(settings.python)
    probe = (
        "import sys\n"
        "def v(m):\n"
        "    try:\n"
        "        return __import__(m).__version__\n"
        "    except Exception:\n"
        "        return '-'\n"
        "print(sys.version.split()[0], v('pytest'), v('coverage'))\n"
    )
    try:
        done = subprocess.run(
            [python, "-c", probe], capture_output=True, text=True, timeout=60, check=True
        )
        version, pytest_v, coverage_v = done.stdout.split()
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        return [*checks, Check("project Python", "fail", f"{python}: {exc}", "pass --python")]
    checks.append(Check("project Python", "ok", f"{version} at {python}"))
    for name, found in (("pytest", pytest_v), ("coverage", coverage_v)):
        if found == "-":
            checks.append(
                Check(
                    name, "fail", f"not importable by {python}", f"{python} -m pip install {name}"
                )
            )
        else:
            checks.append(Check(name, "ok", f"{found} (in the project's Python)"))
    return checks


def _sandbox_checks(settings: Settings) -> list[Check]:
    """The isolation level, then what it guarantees on this host, aspect by aspect."""
    memory = settings.sandbox_memory_mb * 2**20 if settings.sandbox_memory_mb else None
    level, found = host_guarantees(settings.sandbox_isolation, memory_limit=memory)
    fix = "install bubblewrap (apt install bubblewrap) for a read-only host filesystem"
    if level is Isolation.BWRAP:
        head = Check("sandbox", "ok", level.describe())
    elif level is Isolation.PROCESS:
        head = Check("sandbox", "warn", level.describe(), fix + " and no network")
    else:
        head = Check("sandbox", "ok", level.describe(), fix)
    return [
        head,
        *(
            Check(f"  {g.aspect}", "ok" if g.holds else "warn",
                  ("holds: " if g.holds else "does NOT hold: ") + g.text)
            for g in found
        ),
    ]  # fmt: skip


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _home_check(settings: Settings) -> Check:
    home = settings.home
    base = _nearest_existing(home)
    if not os.access(base, os.W_OK):
        return Check("ASSAY_HOME", "fail", f"{home} is not writable", "set ASSAY_HOME elsewhere")
    free = shutil.disk_usage(base).free / 2**30
    status: Status = "ok" if free >= 2 else "warn"
    state = "exists" if home.exists() else "will be created"
    fix = "" if status == "ok" else "free disk space: the model needs ~1.1 GB"
    return Check("ASSAY_HOME", status, f"{home} ({state}; {free:.1f} GiB free)", fix)


def _endpoint_checks(settings: Settings) -> list[Check]:
    status = model_status(settings)
    checks: list[Check] = []
    if settings.llm_base_url:
        client = make_llm_client(
            settings.model_copy(update={"cache": False}), settings.llm_base_url
        )
        client.max_retries = 0
        try:
            models = client.list_models()
        except FlowsError as exc:
            checks.append(Check("model endpoint", "fail", exc.what, exc.fix))
        else:
            known = settings.llm_model in models or not models
            checks.append(
                Check(
                    "model endpoint",
                    "ok" if known else "warn",
                    f"{settings.llm_base_url} serves {', '.join(models[:4]) or 'models'}",
                    "" if known else f"set ASSAY_LLM_MODEL to one of: {', '.join(models[:4])}",
                )
            )
        finally:
            client.close()
        detail = f"{status.path} (not needed: using {settings.llm_base_url})"
        checks.append(Check("embedded model", "ok", detail if status.exists else "not needed"))
        return checks

    if status.server is not None:
        checks.append(
            Check("model endpoint", "ok", f"managed server running at {status.server.base_url}")
        )
    else:
        checks.append(
            Check("model endpoint", "ok", "embedded model; started on demand (no URL configured)")
        )
    if status.exists:
        verified = {True: "verified", False: "CHECKSUM MISMATCH", None: "not verified"}
        ok = status.verified is not False
        checks.append(
            Check(
                "embedded model",
                "ok" if ok else "fail",
                f"{status.path} ({(status.size or 0) >> 20} MiB, {verified[status.verified]})",
                "" if ok else "run 'assay model install --force'",
            )
        )
    else:
        checks.append(
            Check(
                "embedded model",
                "fail",
                f"not installed ({status.path})",
                "run 'assay model install' or set ASSAY_LLM_BASE_URL",
            )
        )
    checks.append(
        Check(
            "llama.cpp server",
            "ok" if status.llama_cpp_installed else "fail",
            "installed (local extra)" if status.llama_cpp_installed else "not installed",
            "" if status.llama_cpp_installed else "pip install 'assay[local]'",
        )
    )
    return checks


def _store_check(settings: Settings) -> Check:
    if settings.qdrant_url:
        try:
            response = httpx.get(f"{settings.qdrant_url}/readyz", timeout=5)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            return Check(
                "index store",
                "fail",
                f"Qdrant at {settings.qdrant_url}: {exc}",
                "start Qdrant or fix ASSAY_QDRANT_URL",
            )
        return Check("index store", "ok", f"Qdrant server at {settings.qdrant_url}")
    path = settings.qdrant_path
    writable = os.access(_nearest_existing(path), os.W_OK)
    return Check(
        "index store",
        "ok" if writable else "fail",
        f"embedded Qdrant at {path}",
        "" if writable else "set ASSAY_HOME to a writable directory",
    )


def run_checks(loaded: LoadedSettings) -> list[Check]:
    settings = loaded.settings
    files = ", ".join(str(p) for p in loaded.config_files) or "none (defaults and environment)"
    return [
        *_python_check(settings),
        *_sandbox_checks(settings),
        _home_check(settings),
        *_endpoint_checks(settings),
        _store_check(settings),
        Check("config files", "ok", files),
    ]


def doctor(
    repo: RepoOpt = Path("."),
    python: PythonOpt = None,
    llm_base_url: BaseUrlOpt = None,
    llm_model: ModelOpt = None,
) -> None:
    """Check Python, pytest, coverage, the sandbox, the model endpoint, the model file and the
    index store; print what to fix.  Exits 1 when a check fails."""
    loaded = settings_for(repo, python=python, llm_base_url=llm_base_url, llm_model=llm_model)
    resolve_python(loaded.settings.python)
    checks = run_checks(loaded)
    table = Table(title=f"assay {__version__} doctor")
    table.add_column("check", style="bold")
    table.add_column("status")
    table.add_column("detail")
    table.add_column("fix", style="yellow")
    marks = {"ok": "[green]ok[/green]", "warn": "[yellow]warn[/yellow]", "fail": "[red]FAIL[/red]"}
    for check in checks:
        detail, fix = escape(mask_url(check.detail)), escape(mask_url(check.fix))  # no passwords
        table.add_row(check.name, marks[check.status], detail, fix)
    out.print(table)
    failed = [c for c in checks if c.status == "fail"]
    if failed:
        out.print(f"[red]{len(failed)} check(s) failed.[/red]")
        raise typer.Exit(1)
    out.print("[green]All checks passed.[/green]")
