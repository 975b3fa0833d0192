"""The job kinds the service runs: ``review`` (a diff), ``tests`` (a file, a symbol or a snippet),
``coverage`` (a repository) and ``pr`` (the bot, :mod:`agents.service.bot`).

Each handler takes a :class:`~agents.service.jobs.JobContext` and returns a JSON-able result; it
opens the model itself (a worker machine has its own endpoint settings).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from agents.errors import ConfigError, InputError
from agents.service.jobs import Handler, JobContext
from agents.settings import REPO_FILES, Settings, with_repo_files


def _repo_settings(ctx: JobContext, repo: Path | None) -> tuple[Settings, str]:
    """The job's settings with a registered repository's files as a layer (and the problem
    with them, if any: reported, the review goes on without them)."""
    if repo is None:
        return ctx.settings, ""
    texts = {n: (repo / n).read_text() if (repo / n).is_file() else None for n in REPO_FILES}
    try:
        return with_repo_files(ctx.settings, texts)[0], ""
    except ConfigError as exc:
        return ctx.settings, f"{exc}; the repository's files were not used"


def _repo_dir(params: dict[str, Any]) -> Path | None:
    path = params.get("repo_path")
    if not path:
        return None
    repo = Path(path)
    if not repo.is_dir():
        raise InputError(f"Repository path {repo} does not exist on this worker", "register it")
    return repo


def review_job(ctx: JobContext) -> dict[str, Any]:
    """Review a pasted diff, or a registered repository's changes since ``base``."""
    from agents.gitdiff import local_diff
    from agents.review.report import summary_markdown
    from agents.review.run import run_review
    from agents.runtime import open_run

    p = ctx.job.params
    repo = _repo_dir(p)
    diff, base = p.get("diff") or "", p.get("base")
    if not diff and repo is not None and base:
        diff, base = local_diff(repo, base)
    settings, problem = _repo_settings(ctx, repo)

    def listener(kind: str, data: dict[str, Any]) -> None:
        if kind == "call":
            ctx.progress("reviewing", data["done"], data["total"], path=data["path"])
        elif kind == "tests":
            ctx.progress("tests")

    ctx.progress("starting")
    with open_run(settings, f"job-{ctx.job.kind}", trace_id=ctx.job.id[:12]) as run:
        assert run.llm is not None
        report = run_review(
            settings,
            run.llm,
            trace=run.trace,
            diff=diff,
            repo_dir=repo,
            base=base,
            repo_name=p.get("repo"),
            tests=bool(p.get("tests")) and repo is not None,
            listener=listener,
        )
    if problem:
        report.errors.append(problem)
    return {"review": report.as_dict(), "markdown": summary_markdown(report, marker=False)}


_NAME = re.compile(r"^[A-Za-z_]\w*$")


def _cover(ctx: JobContext, repo: Path, include: tuple[str, ...], *, dry_run: bool,
           **limits: Any) -> dict[str, Any]:  # fmt: skip
    """The cover agent on ``include`` (dry run: the tests come back as a patch); on a
    JavaScript/TypeScript package, its JS pipeline (``symbol`` in ``limits``: that one only)."""
    from agents.cover.engine import CoverAgent, CoverOptions
    from agents.cover.js.engine import JsCoverAgent
    from agents.cover.js.project import is_js_project
    from agents.runtime import open_run

    s = ctx.settings
    options = CoverOptions.from_settings(
        s, include=include, dry_run=dry_run, allow_failing=True,
        **{k: v for k, v in limits.items() if v is not None},
    )  # fmt: skip

    def listener(kind: str, data: dict[str, Any]) -> None:
        if kind == "targets":
            ctx.notes["total"] = data["count"]
            ctx.progress("targets", 0, data["count"])
        elif kind == "target" and data["chain"] == 0:
            ctx.notes["done"] = ctx.notes.get("done", -1) + 1
            ctx.progress("writing tests", ctx.notes["done"], ctx.notes.get("total"),
                         target=data["target"].key)  # fmt: skip

    js = is_js_project(repo)
    ctx.progress("baseline")
    with open_run(s, f"job-{ctx.job.kind}", repo=repo, trace_id=ctx.job.id[:12],
                  language="javascript" if js else "python") as run:  # fmt: skip
        assert run.sandbox is not None and run.llm is not None
        agent = (JsCoverAgent if js else CoverAgent)(
            repo, run.llm, run.sandbox, options, listener=listener, trace=run.trace
        )
        report = agent.run()
    return {"report": report.as_dict(), "patch": report.diff, "accepted": report.accepted}


def _testgen(ctx: JobContext, repo: Path, path: str, symbol: str) -> dict[str, Any]:
    """``assay tests``' agent for one symbol: every behaviour it lists, through the gates (a
    JavaScript/TypeScript symbol: the cover pipeline limited to it)."""
    from agents.cover.js.project import SOURCE_EXTENSIONS
    from agents.runtime import open_run
    from agents.testgen.agent import TestgenAgent, TestgenOptions
    from agents.testgen.symbols import find_symbol

    max_minutes = ctx.job.params.get("max_minutes")
    if path.endswith(SOURCE_EXTENSIONS):
        return _cover(ctx, repo, (path,), dry_run=True, symbol=symbol, max_minutes=max_minutes)
    s = ctx.settings
    target = find_symbol(repo, repo / path, symbol)
    options = TestgenOptions.from_settings(s, dry_run=True, max_minutes=max_minutes)
    ctx.progress("baseline")
    with open_run(s, f"job-{ctx.job.kind}", repo=repo, trace_id=ctx.job.id[:12]) as run:
        assert run.sandbox is not None and run.llm is not None
        agent = TestgenAgent(
            repo, run.llm, run.sandbox, target, options, settings=s, trace=run.trace
        )
        behaviours = agent.prepare(docstring_later=True)  # all are written: the first sooner
        ctx.progress("writing tests", 0, len(behaviours))
        report = agent.write(behaviours)
    return {"report": report.as_dict(), "patch": report.diff, "accepted": report.accepted}


def tests_job(ctx: JobContext) -> dict[str, Any]:
    """Tests for a file or a symbol of a registered repository, or for a pasted snippet."""
    p = ctx.job.params
    if p.get("snippet"):
        module = p.get("module") or "snippet"
        if not _NAME.match(module):
            raise InputError(f"Module name '{module}' is not an identifier", "pass a valid name")
        with tempfile.TemporaryDirectory(prefix="assay-snippet-") as tmp:
            root = Path(tmp)
            (root / f"{module}.py").write_text(p["snippet"], encoding="utf-8")
            (root / "tests").mkdir()
            if p.get("symbol"):
                return _testgen(ctx, root, f"{module}.py", p["symbol"])
            return _cover(ctx, root, (f"{module}.py",), dry_run=True,
                          max_minutes=p.get("max_minutes"))  # fmt: skip
    repo = _repo_dir(p)
    if repo is None or not p.get("path"):
        raise InputError("A tests job needs a snippet, or a repository and a path", "pass them")
    if p.get("symbol"):
        return _testgen(ctx, repo, p["path"], p["symbol"])
    return _cover(ctx, repo, (p["path"],), dry_run=True, max_minutes=p.get("max_minutes"))


def coverage_job(ctx: JobContext) -> dict[str, Any]:
    """Raise a registered repository's coverage (a patch unless ``write`` is set)."""
    p = ctx.job.params
    repo = _repo_dir(p)
    if repo is None:
        raise InputError("A coverage job needs a registered repository", "register it first")
    return _cover(
        ctx,
        repo,
        tuple(p.get("files") or ()),
        dry_run=not p.get("write", False),
        max_minutes=p.get("max_minutes"),
        max_tokens=p.get("max_tokens"),
        target_coverage=p.get("target_coverage"),
    )


def handlers() -> dict[str, Handler]:
    from agents.service.commands import pr_job

    return {"review": review_job, "tests": tests_job, "coverage": coverage_job, "pr": pr_job}
