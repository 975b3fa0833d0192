"""``assay index …``, ``assay search`` and ``assay policy …``: the code index from the CLI."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from agents.errors import InputError
from flows import mask_url
from indexer import StoreError

if TYPE_CHECKING:
    from agents.indexing import IndexService
    from indexer import IndexReport

index_app = typer.Typer(help="The code index: add, update, status, remove.", no_args_is_help=True)
policy_app = typer.Typer(
    help="The quality policy: repository tiers, path weights, best practices.",
    no_args_is_help=True,
)
out = Console()
MAX_PROBLEMS_SHOWN = 10

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


@contextmanager
def _service() -> Iterator[IndexService]:
    from agents.cli.common import settings_for
    from agents.indexing import IndexService

    with IndexService(settings_for(None).settings) as service:
        yield service


class _Bars:
    """One progress bar per repository, shown from its first update (so that an error before
    any indexing prints alone)."""

    def __init__(self) -> None:
        self.progress: Progress | None = None

    def __enter__(self) -> _Bars:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def for_repo(self, label: str) -> Callable[[str, int, int], None]:
        task: TaskID | None = None

        def update(phase: str, done: int, total: int) -> None:
            nonlocal task
            if self.progress is None:
                self.progress = Progress(
                    TextColumn("{task.description:<28}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TextColumn("files"),
                    TimeElapsedColumn(),
                    console=out,
                )
                self.progress.start()
            if task is None:
                task = self.progress.add_task(label, total=total)
            self.progress.update(task, completed=done, total=total)

        return update


def _print_report(report: IndexReport) -> None:
    commit = (report.commit or "working tree")[:12]
    out.print(
        f"[bold]{escape(report.repo)}[/bold] @ {commit}: {report.files_seen} files "
        f"({report.files_embedded} embedded, {report.files_unchanged} unchanged, "
        f"{report.files_deleted} deleted), {report.chunks_embedded} chunks embedded, "
        f"{report.chunks_total} in the index, {report.seconds:.1f} s"
    )
    problems = [("skipped", p) for p in report.skipped] + [
        ("fallback", p) for p in report.fallbacks
    ]
    for kind, problem in problems[:MAX_PROBLEMS_SHOWN]:
        out.print(f"  [yellow]{kind}[/yellow] {escape(problem.path)}: {escape(problem.reason)}")
    if len(problems) > MAX_PROBLEMS_SHOWN:
        out.print(f"  … and {len(problems) - MAX_PROBLEMS_SHOWN} more")


@index_app.command("add")
def index_add(
    location: Annotated[str, typer.Argument(help="A local path or a git URL.")],
    tier: Annotated[
        str | None, typer.Option("--tier", help="high, normal, low, deprecated or grow.")
    ] = None,
    ref: Annotated[
        str | None, typer.Option("--ref", help="Branch, tag or commit (default: HEAD).")
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Name in the index (default: from the path).")
    ] = None,
) -> None:
    """Index a repository (a git URL is cloned into ASSAY_HOME); only new blobs are embedded."""
    with _service() as service, _Bars() as bars:
        report = service.add(
            location,
            name=name,
            tier=tier,
            ref=ref,
            progress=bars.for_repo(name or mask_url(location)),
        )
    _print_report(report)


@index_app.command("update")
def index_update(
    names: Annotated[list[str] | None, typer.Argument(help="Repositories to update.")] = None,
    all_repos: Annotated[bool, typer.Option("--all", help="Update every repository.")] = False,
) -> None:
    """Fetch and re-index repositories: unchanged files cost nothing, deleted ones vanish.
    Without names or --all: the repository in the current directory."""
    with _service() as service:
        chosen = list(names or [])
        if not chosen and not all_repos:
            here = str(Path.cwd().resolve())
            match = [r.name for r in service.status() if r.location == here]
            if not match:
                raise InputError(
                    f"The current directory {here} is not an indexed repository",
                    "name repositories, pass --all, or 'assay index add .'",
                )
            chosen = match
        if all_repos and not service.status():
            out.print("No repositories in the index yet: 'assay index add PATH|URL'.")
            return
        reports = []
        with _Bars() as bars:
            for name in chosen or [r.name for r in service.status()]:
                reports += service.update([name], progress=bars.for_repo(name))
    for report in reports:
        _print_report(report)


@index_app.command("status")
def index_status(as_json: JsonOpt = False) -> None:
    """The indexed repositories: tier, ref, commit, files, chunks, last run."""
    with _service() as service:
        records = service.status()
        policy = service.policy()
        try:
            counts = service.chunk_counts() if records else {}
        except StoreError as exc:  # the store is busy or unreachable: the last run's counts
            out.print(f"[yellow]{escape(str(exc))}[/yellow]")
            counts = {}
    if as_json:
        rows = [
            {
                **asdict(r),
                "location": mask_url(r.location),
                "tier": policy.tier(r.name),
                "stored_chunks": counts.get(r.name),
            }
            for r in records
        ]
        out.print_json(json.dumps(rows))
        return
    if not records:
        out.print("No repositories in the index yet: 'assay index add PATH|URL'.")
        return
    table = Table(title="assay index")
    for column in ("repo", "tier", "ref", "commit", "files", "chunks", "problems", "last run"):
        table.add_column(column, style="bold" if column == "repo" else None)
    for r in records:
        table.add_row(
            r.name,
            policy.tier(r.name),
            r.ref or "HEAD",
            (r.commit or "working tree")[:12],
            str(r.files),
            str(counts.get(r.name, r.chunks)),
            str(r.problems),
            r.last_run or "never",
        )
    out.print(table)


@index_app.command("remove")
def index_remove(name: Annotated[str, typer.Argument(help="The repository to drop.")]) -> None:
    """Drop a repository's chunks and forget it (its policy entries stay)."""
    with _service() as service:
        service.remove(name)
    out.print(f"Removed {escape(name)} from the index.")


def search(
    query: Annotated[str, typer.Argument(help="What to look for: words, code, an identifier.")],
    repo: Annotated[
        list[str] | None, typer.Option("--repo", help="Only these repositories (repeatable).")
    ] = None,
    lang: Annotated[
        list[str] | None, typer.Option("--lang", help="Only these languages (repeatable).")
    ] = None,
    path: Annotated[
        str | None, typer.Option("--path", help="Only paths matching this glob, e.g. 'src/**'.")
    ] = None,
    k: Annotated[int, typer.Option("-k", "--top", min=1, max=200, help="How many hits.")] = 10,
    mode: Annotated[
        str, typer.Option("--mode", help="hybrid (default), dense or sparse.")
    ] = "hybrid",
    explain: Annotated[
        bool, typer.Option("--explain", help="Show relevance × tier × path weight = score.")
    ] = False,
    code: Annotated[bool, typer.Option("--code", help="Print each hit's code.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Search the index: dense + lexical (hybrid), weighted by the quality policy."""
    if mode not in ("hybrid", "dense", "sparse"):
        raise InputError(f"Unknown search mode {mode!r}", "use hybrid, dense or sparse")
    chosen: Literal["hybrid", "dense", "sparse"] = mode  # type: ignore[assignment]
    with _service() as service:
        hits = service.search(
            query,
            k=k,
            repos=repo or (),
            languages=lang or (),
            path_glob=path,
            mode=chosen,
            explain=explain or as_json,
        )
    if as_json:
        out.print_json(json.dumps([asdict(h) for h in hits]))
        return
    if not hits:
        out.print("No hits.")
        return
    for rank, hit in enumerate(hits, 1):
        symbol = f" [cyan]{escape(hit.symbol)}[/cyan]" if hit.symbol else ""
        out.print(
            f"{rank:>2}. [bold]{escape(hit.location)}[/bold]{symbol} "
            f"[dim]({hit.language}, {hit.kind})[/dim] score {hit.score:.4f}"
        )
        if explain:
            relevance = "?" if hit.relevance is None else f"{hit.relevance:.4f}"
            out.print(
                f"    relevance {relevance} × tier {hit.tier} {hit.tier_weight:g} × path "
                f"{hit.path_weight:g} = {hit.score:.4f}",
                highlight=False,
            )
        if code:
            out.print(escape(hit.text), highlight=False)


@policy_app.command("show")
def policy_show(as_json: JsonOpt = False) -> None:
    """The policy: tiers, tier weights, path weights, best practices."""
    with _service() as service:
        policy = service.policy()
        path = service.settings.policy_path
    if as_json:
        out.print_json(json.dumps(policy.to_data()))
        return
    out.print(f"[dim]{path}[/dim]")
    weights = ", ".join(f"{t} {w:g}" for t, w in policy.tier_weights.items())
    out.print(f"[bold]tier weights[/bold]: {weights}")
    table = Table(title="repository tiers")
    table.add_column("repo", style="bold")
    table.add_column("tier")
    for repo, tier in sorted(policy.tiers.items()):
        table.add_row(repo, tier)
    out.print(table if policy.tiers else "[bold]tiers[/bold]: every repository is normal")
    if policy.path_rules:
        rules = Table(title="path weights")
        for column in ("glob", "weight", "repo"):
            rules.add_column(column)
        for rule in policy.path_rules:
            rules.add_row(rule.glob, f"{rule.weight:g}", rule.repo or "(all)")
        out.print(rules)
    else:
        out.print("[bold]path weights[/bold]: none")
    org = policy.org_best_practices.strip()
    out.print(
        f"[bold]best practices[/bold]: org {len(org.splitlines())} lines; repos: "
        + (", ".join(sorted(policy.repo_best_practices)) or "none")
    )


@policy_app.command("set-tier")
def policy_set_tier(
    repo: Annotated[str, typer.Argument(help="Repository name (see 'assay index status').")],
    tier: Annotated[str, typer.Argument(help="high, normal, low, deprecated or grow.")],
) -> None:
    """Mark a repository high, normal, low, deprecated or grow."""
    with _service() as service:
        service.set_tier(repo, tier)
        indexed = repo in {r.name for r in service.status()}
    note = "" if indexed else " (not indexed yet: applies when it is)"
    out.print(f"{escape(repo)} is now [bold]{tier}[/bold]{note}.")


@policy_app.command("set-path-weight")
def policy_set_path_weight(
    glob: Annotated[str, typer.Argument(help="gitignore-style glob, e.g. 'legacy/**'.")],
    weight: Annotated[float, typer.Argument(help="Multiplier: 0 hides, 1 removes the rule.")],
    repo: Annotated[
        str | None, typer.Option("--repo", help="Only in this repository (default: all).")
    ] = None,
) -> None:
    """Weight the paths matching a glob (in every repository, or one)."""
    with _service() as service:
        service.set_path_weight(glob, weight, repo)
    where = f" in {escape(repo)}" if repo else ""
    out.print(f"Paths matching {escape(glob)}{where} now weigh {weight:g}.")


@policy_app.command("best-practices")
def policy_best_practices(
    repo: Annotated[
        str | None, typer.Option("--repo", help="The repository's text (default: the org's).")
    ] = None,
    set_from: Annotated[
        str | None,
        typer.Option("--set", help="Replace it with this markdown file ('-': standard input)."),
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove it.")] = False,
) -> None:
    """Print the best-practices markdown (org, then the repository's), or replace it."""
    with _service() as service:
        if set_from is None and not clear:
            text = service.policy().best_practices(repo)
            out.print(text.rstrip() or "(no best practices written yet)", markup=False)
            return
        if clear:
            text = ""
        elif set_from == "-":
            text = sys.stdin.read()
        else:
            source = Path(set_from or "")
            if not source.is_file():
                raise InputError(
                    f"Best-practices file {set_from} not found", "pass a markdown file"
                )
            try:
                text = source.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise InputError(
                    f"Best-practices file {set_from} is not readable UTF-8 text",
                    "pass a markdown file",
                ) from exc
        service.set_best_practices(text, repo)
    owner = escape(repo) if repo else "the organisation"
    out.print(f"Best practices of {owner} {'cleared' if clear else 'saved'}.")
