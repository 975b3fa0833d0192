"""``assay review``: review the changes since a base ref, from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from agents.cli.common import BaseUrlOpt, ModelOpt, NoCacheOpt, err, out
from agents.cli.guards import ModelCalls, writable_file


def review(
    path: Annotated[Path, typer.Argument(help="The repository (default: here).")] = Path("."),
    base: Annotated[str, typer.Option("--base", help="Review changes since this ref.")] = "main",
    tests: Annotated[
        bool | None,
        typer.Option(
            "--tests/--no-tests", help="Diff coverage and generated tests [review_tests]."
        ),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the review as JSON.")
    ] = None,
    patch: Annotated[
        Path | None, typer.Option("--patch", help="Write the generated tests' patch here.")
    ] = None,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print the PR comment.")] = False,
    sarif: Annotated[
        Path | None, typer.Option("--sarif", help="Write the findings as SARIF 2.1.0.")
    ] = None,
    behaviour: Annotated[
        bool | None,
        typer.Option(
            "--behaviour/--no-behaviour",
            help="Run the changed functions on base and head, report what differs "
            "[review_behaviour].",
        ),
    ] = None,
    checks: Annotated[
        bool | None,
        typer.Option(
            "--checks/--no-checks",
            help="Score each model finding again and run its claimed input "
            "[review_check_findings].",
        ),
    ] = None,
    verify: Annotated[
        bool | None,
        typer.Option(
            "--verify/--no-verify",
            help="Offer only suggestions the tests pass with [review_verify_suggestions].",
        ),
    ] = None,
    fail_on: Annotated[
        str | None, typer.Option("--fail-on", help="Exit 1 on findings this severe (high, …).")
    ] = None,
    llm_base_url: BaseUrlOpt = None,
    llm_model: ModelOpt = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Review the changes since --base: findings on changed lines, what was skipped, and the
    tests section (diff coverage, tests that pass every gate, as a patch).

    Exit codes: 0 done, 1 findings at or above --fail-on, 2 bad input or error, 3 the model
    failed on every call."""
    from agents.cli.common import settings_for
    from agents.cover.writer import write_atomic
    from agents.errors import InputError
    from agents.gitdiff import local_diff
    from agents.review.report import SEVERITIES, summary_markdown
    from agents.review.run import run_review
    from agents.runtime import open_run, resolve_repo

    if fail_on is not None and fail_on not in SEVERITIES:
        raise InputError(f"--fail-on {fail_on!r} is not a severity", "use high, medium or low")
    json_out = writable_file("--json", json_out)
    patch = writable_file("--patch", patch)
    sarif = writable_file("--sarif", sarif)
    loaded = settings_for(path, llm_base_url=llm_base_url, llm_model=llm_model, no_cache=no_cache)
    s = loaded.settings
    repo = resolve_repo(path)
    diff, point = local_diff(repo, base)

    said = {
        "tests": "measuring diff coverage and writing tests",
        "behaviour": "running the changed functions on the base and the head",
        "verify": "checking the suggested changes with the tests",
    }

    def listener(kind: str, data: dict[str, Any]) -> None:
        if kind == "call":
            err.print(f"[dim]reviewing {data['path']} ({data['done'] + 1}/{data['total']})[/dim]")
        elif kind in said:
            err.print(f"[dim]{said[kind]}[/dim]")

    calls = ModelCalls()
    with open_run(s, "review", wrap_llm=calls.wrap) as run:
        assert run.llm is not None
        report = run_review(
            s, run.llm, trace=run.trace, diff=diff, head=point, repo_dir=repo, base=point,
            repo_name=repo.name, tests=tests, behaviour=behaviour, checks=checks, verify=verify,
            listener=listener,
        )  # fmt: skip
    report.head = ""
    if markdown:
        print(summary_markdown(report, marker=False))
    else:
        print_review(report)
    if json_out is not None:
        write_atomic(json_out, json.dumps(report.as_dict(), indent=2) + "\n")
    if sarif is not None:
        from agents.review.sarif import sarif_log

        write_atomic(sarif, json.dumps(sarif_log(report), indent=2) + "\n")
    if patch is not None and report.tests is not None and report.tests.patch:
        write_atomic(patch, report.tests.patch)
        out.print(f"tests patch: {patch} (apply with git apply)")
    calls.check(f"{report.reviewed_hunks} of {report.total_hunks} hunk(s) reviewed")
    if fail_on is not None:
        limit = SEVERITIES.index(fail_on)
        if any(SEVERITIES.index(f.severity) <= limit for f in report.findings):
            raise typer.Exit(1)


def print_review(report: Any) -> None:
    """Findings as ``path:line: severity category: message`` lines, then the rest."""
    from agents.review.report import checks_line, evidence_label, tests_markdown

    for f in report.findings:
        label = evidence_label(f)
        print(f"{f.path}:{f.line}: {f.severity} {f.category}: {f.message}")
        if label:
            print(f"    evidence ({label}): {f.evidence}" if f.evidence else f"    ({label})")
        if f.suggestion:
            kind = "verified suggestion" if f.verified else "suggestion"
            print(f"    {kind}: " + f.suggestion.replace("\n", "\n                "))
        if f.test:
            print("    regression test:\n" + "\n".join("        " + t for t in f.test.splitlines()))
    print(
        f"{len(report.findings)} finding(s) in {report.reviewed_hunks} of {report.total_hunks} "
        f"hunk(s); {report.tokens:,} tokens, {report.wall_seconds:.0f} s; index: {report.index}"
    )
    if report.behaviour is not None:
        print(report.behaviour.summary())
    if checks_line(report):
        print(checks_line(report))
    for s in report.skipped:
        print(f"skipped {s.path}{':' + s.lines if s.lines else ''}: {s.reason}")
    for e in report.errors:
        print(f"warning: {e}")
    if report.tests is not None:
        print(tests_markdown(report.tests))
