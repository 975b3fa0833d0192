"""One review, wired: git diffs and checkouts, options from settings, ``.assay.toml`` and the
quality policy, the index context, the review agent and the tests section.

Used by ``assay review`` (a local repository), the service's review jobs and the PR bot.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agents.errors import AssayError, InputError
from agents.review.agent import ReviewAgent, ReviewOptions
from agents.review.context import IndexContext
from agents.review.report import ReviewReport
from agents.review.testsection import TestsOptions, tests_section
from agents.settings import Settings
from flows.llm import LLMClient

MAX_UNTRACKED = 200
GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true", "LC_ALL": "C"}


def git(repo: Path, *args: str, timeout: float = 300, header: str | None = None) -> str:
    """Run git in ``repo``; a failure is an :class:`AssayError`.  ``header`` (an HTTP header
    for the remote, e.g. credentials) goes through the environment, never the command line."""
    env = {**os.environ, **GIT_ENV}
    if header:
        env.update(
            GIT_CONFIG_COUNT="1", GIT_CONFIG_KEY_0="http.extraHeader", GIT_CONFIG_VALUE_0=header
        )
    try:
        done = subprocess.run(
            ["git", *args], cwd=repo, capture_output=True, text=True, timeout=timeout, env=env
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AssayError(
            f"git {args[0]} failed in {repo}: {exc}", "check git and the repository"
        ) from exc
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip().splitlines()
        text = (message[-1] if message else f"exit code {done.returncode}")[:300]
        raise AssayError(f"git {args[0]} failed in {repo}: {text}", "check the ref and the remote")
    return done.stdout


def merge_base(repo: Path, base: str) -> str:
    try:
        git(repo, "rev-parse", "--verify", f"{base}^{{commit}}")
    except AssayError as exc:
        raise InputError(
            f"--base '{base}' is not a commit in {repo}", "pass a branch, tag or commit"
        ) from exc
    try:
        return git(repo, "merge-base", base, "HEAD").strip()
    except AssayError:
        return git(repo, "rev-parse", base).strip()


def local_diff(repo: Path, base: str) -> tuple[str, str]:
    """(diff of the working tree and new untracked files since the merge base, merge base)."""
    point = merge_base(repo, base)
    diff = git(repo, "diff", point, "--no-color", "--no-ext-diff", "--find-renames")
    untracked = git(repo, "ls-files", "--others", "--exclude-standard").splitlines()
    for name in untracked[:MAX_UNTRACKED]:
        done = subprocess.run(
            ["git", "diff", "--no-index", "--no-color", "/dev/null", name],
            cwd=repo, capture_output=True, text=True, env={**os.environ, **GIT_ENV},
        )  # fmt: skip
        diff += done.stdout
    return diff, point


def checkout(
    url: str, fetch_ref: str, head_sha: str, dest: Path, *, header: str | None = None
) -> Path:
    """A working tree of ``head_sha`` from ``url`` (the PR's head fetched by ``fetch_ref``)."""
    dest.mkdir(parents=True, exist_ok=True)
    git(dest, "init", "-q")
    git(dest, "fetch", "-q", "--no-tags", url, fetch_ref or head_sha, header=header, timeout=900)
    try:
        git(dest, "cat-file", "-e", f"{head_sha}^{{commit}}")
    except AssayError:
        git(dest, "fetch", "-q", "--no-tags", url, head_sha, header=header, timeout=900)
    git(dest, "checkout", "-q", "--detach", head_sha)
    return dest


def fetch_base(dest: Path, url: str, base_sha: str, *, header: str | None = None) -> str:
    """The merge base of HEAD and ``base_sha`` in a checkout (fetching the base if needed)."""
    try:
        git(dest, "cat-file", "-e", f"{base_sha}^{{commit}}")
    except AssayError:
        git(dest, "fetch", "-q", "--no-tags", url, base_sha, header=header, timeout=900)
    try:
        return git(dest, "merge-base", base_sha, "HEAD").strip()
    except AssayError:
        return base_sha


def read_practices(repo: Path, name: str) -> str:
    """The repository's best-practices file (``review_best_practices``), "" when unreadable."""
    path = (repo / name).resolve()
    if not path.is_relative_to(repo.resolve()) or not path.is_file():
        return ""
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def run_review(
    settings: Settings,
    llm: LLMClient,
    *,
    diff: str,
    head: str = "",
    repo_dir: Path | None = None,
    base: str | None = None,
    repo_name: str | None = None,
    practices: str = "",
    findings: bool = True,
    tests: bool | None = None,
    listener: Callable[[str, dict[str, Any]], None] | None = None,
) -> ReviewReport:
    """Findings on ``diff`` (unless ``findings=False``) plus, when asked (``tests``, default:
    the ``review_tests`` setting) and a checkout is at hand, the tests section against ``base``.
    ``practices``: the repository's own best practices (the ``review_best_practices`` file),
    added to the quality policy's; read from ``repo_dir`` when not given."""
    from agents.runtime import resolve_python
    from flows.sandbox import Sandbox

    if not practices and repo_dir is not None and settings.review_best_practices:
        practices = read_practices(repo_dir, settings.review_best_practices)
    context = IndexContext(repo_name, settings=settings, fallback_practices=practices)
    options = ReviewOptions.from_settings(settings, path_weight=context.path_weight)
    agent = ReviewAgent(llm, options, context=context, listener=listener)
    report = agent.review(diff if findings else "", head=head)
    if not findings:
        report.errors = []
    want_tests = settings.review_tests if tests is None else tests
    if want_tests and repo_dir is not None and base:
        if listener:
            listener("tests", {})
        memory = settings.sandbox_memory_mb * 2**20 if settings.sandbox_memory_mb else None
        python = resolve_python(settings.python)
        with Sandbox(repo_dir, python, timeout=settings.sandbox_timeout, memory_limit=memory) as sb:
            report.tests = tests_section(
                repo_dir, base, sandbox=sb, llm=llm, options=TestsOptions.from_settings(settings)
            )
    return report
