"""``/ask QUESTION`` and ``assay ask``: a question about a change, answered from the diff, the
code index (related code, when the repository is indexed) and the best practices; on a review
thread, about the thread's lines."""

from __future__ import annotations

from agents.gitdiff import parse_diff
from agents.review import prompts
from agents.review.context import IndexContext
from agents.settings import Settings
from flows import Completer, FlowRunner, Route, Stage, TextAnswer, TraceWriter

MAX_DIFF_CHARS = 10000
MAX_QUESTION = 1000

ASK_STAGE = Stage(
    name="ask",
    template=prompts.ASK,
    system=prompts.ASK_SYSTEM,
    schema=TextAnswer,
    fmt="text",
    route=Route(temperature=0.0),
    max_tokens=500,
)


def answer(
    llm: Completer,
    settings: Settings,
    question: str,
    diff: str,
    *,
    repo_name: str | None = None,
    practices: str = "",
    lines: str = "",
    trace: TraceWriter | None = None,
) -> str:
    """The model's answer to ``question`` about ``diff``; ``lines``: the code a review thread
    is about (asked there)."""
    context = IndexContext(repo_name, settings=settings, fallback_practices=practices)
    hunks = [h for f in parse_diff(diff) for h in f.hunks]
    related = "\n\n".join(context.related(hunks[:4], 3))
    rules = context.best_practices()
    shown = diff if len(diff) <= MAX_DIFF_CHARS else diff[:MAX_DIFF_CHARS] + "\n… (cut)\n"
    variables = {
        "practices": prompts.PRACTICES.format(practices=rules) + "\n" if rules else "",
        "related": prompts.RELATED.format(related=related) + "\n" if related else "",
        "lines": f"The question is about these lines:\n```\n{lines}\n```\n\n" if lines else "",
        "diff": shown,
        "question": " ".join(question.split())[:MAX_QUESTION],
    }
    runner = FlowRunner(llm, trace=trace, flow="ask")
    return str(runner.run(ASK_STAGE, variables).value.text).strip()
