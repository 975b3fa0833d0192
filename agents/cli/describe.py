"""``assay describe`` and ``assay ask``: the PR bot's ``/describe`` and ``/ask`` on a local
repository, for the changes since a base ref."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from agents.cli.common import BaseUrlOpt, ModelOpt, NoCacheOpt
from agents.cli.guards import ModelCalls, writable_file

BaseOpt = Annotated[str, typer.Option("--base", help="Describe the changes since this ref.")]


def describe(
    path: Annotated[Path, typer.Argument(help="The repository (default: here).")] = Path("."),
    base: BaseOpt = "main",
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the description as JSON.")
    ] = None,
    llm_base_url: BaseUrlOpt = None,
    llm_model: ModelOpt = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Describe the changes since --base: title, type, summary, a walkthrough per file and
    labels, as the markdown section the PR bot writes into a pull request's body.

    Exit codes: 0 done, 2 bad input or error, 3 the model failed."""
    from agents.cli.common import settings_for
    from agents.cover.writer import write_atomic
    from agents.errors import InputError
    from agents.gitdiff import local_diff
    from agents.review.describe import describe as describe_diff
    from agents.review.describe import description_markdown
    from agents.runtime import open_run, resolve_repo
    from flows import FlowsError

    json_out = writable_file("--json", json_out)
    s = settings_for(path, llm_base_url=llm_base_url, llm_model=llm_model, no_cache=no_cache)
    repo = resolve_repo(path)
    diff, _ = local_diff(repo, base)
    if not diff.strip():
        raise InputError(f"Nothing changed since {base}", "commit a change or pick another --base")
    calls = ModelCalls()
    with open_run(s.settings, "describe", wrap_llm=calls.wrap) as run:
        assert run.llm is not None
        try:
            found = describe_diff(run.llm, diff, trace=run.trace)
        except FlowsError:
            calls.check("no description")
            raise
    print(description_markdown(found))
    if json_out is not None:
        write_atomic(json_out, json.dumps(found.model_dump(), indent=2) + "\n")


def ask(
    question: Annotated[str, typer.Argument(help="The question about the change.")],
    path: Annotated[Path, typer.Argument(help="The repository (default: here).")] = Path("."),
    base: BaseOpt = "main",
    llm_base_url: BaseUrlOpt = None,
    llm_model: ModelOpt = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Answer a question about the changes since --base, from the diff, the code index (when
    the repository is indexed) and the best practices.

    Exit codes: 0 done, 2 bad input or error, 3 the model failed."""
    from agents.cli.common import settings_for
    from agents.errors import InputError
    from agents.gitdiff import local_diff
    from agents.review.ask import answer
    from agents.review.run import read_practices
    from agents.runtime import open_run, resolve_repo
    from flows import FlowsError

    if not question.strip():
        raise InputError("The question is empty", "ask something, e.g. assay ask 'is it safe?'")
    s = settings_for(path, llm_base_url=llm_base_url, llm_model=llm_model, no_cache=no_cache)
    settings = s.settings
    repo = resolve_repo(path)
    diff, _ = local_diff(repo, base)
    if not diff.strip():
        raise InputError(f"Nothing changed since {base}", "commit a change or pick another --base")
    practices = ""
    if settings.review_best_practices:
        practices = read_practices(repo, settings.review_best_practices)
    calls = ModelCalls()
    with open_run(settings, "ask", wrap_llm=calls.wrap) as run:
        assert run.llm is not None
        try:
            text = answer(run.llm, settings, question, diff, repo_name=repo.name,
                          practices=practices, trace=run.trace)  # fmt: skip
        except FlowsError:
            calls.check("no answer")
            raise
    print(text)
