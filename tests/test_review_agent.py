"""The review agent with the scripted model: findings land on changed lines (or are dropped),
are deduplicated and capped; the index's related code and best practices reach the prompt, and
a review goes on without the index; big diffs say what they skipped."""

from __future__ import annotations

import json
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

from agents.review.agent import ReviewAgent, ReviewOptions
from agents.review.context import IndexContext
from agents.review.report import summary_markdown
from flows.llm import LLMClient
from tests.fakes.openai_server import FakeOpenAI, Reply
from tests.servicekit import findings_yaml, make_project


@pytest.fixture
def diff(tmp_path: Path) -> str:
    return make_project(tmp_path / "shop")["diff1"]  # app/calc.py: added lines 3-6


def client(fake: FakeOpenAI) -> LLMClient:
    return LLMClient(fake.url, "fake-model", max_retries=0)


def finding(line: object, message: str, severity: str = "medium", **more: object) -> dict:
    return {"line": line, "severity": severity, "category": "bug", "message": message, **more}


def test_findings_land_on_changed_lines_dedupe_and_cap(fake_llm: FakeOpenAI, diff: str) -> None:
    fake_llm.queue(findings_yaml([
        finding(6, "Division by zero when b is 0", "critical", suggestion="```\nreturn 0\n```"),
        finding("6", "division by zero when b is 0!", "high"),  # a near twin: dropped
        finding(8, "snapped: two lines below the last added line", "warning"),
        finding(40, "far from the diff"),
        finding(None, "no line at all"),
        finding(5, "", "high"),  # no message
        finding(3, "style nit", "nit", category="whitespace"),
    ]))  # fmt: skip
    report = ReviewAgent(client(fake_llm), ReviewOptions(max_findings=2)).review(diff)
    assert [(f.line, f.severity, f.category, f.message) for f in report.findings] == [
        (6, "high", "bug", "Division by zero when b is 0"),
        (6, "medium", "bug", "snapped: two lines below the last added line"),
    ]
    assert report.findings[0].suggestion == "return 0"
    assert report.off_diff == 3 and report.duplicates == 1 and report.capped == 1
    assert report.reviewed_hunks == report.total_hunks == 1 and report.calls == 1
    prompt = fake_llm.chat_requests[0].prompt
    assert "    6 +     return a / b" in prompt and "File `app/calc.py`" in prompt
    text = summary_markdown(report)
    assert "Findings left out: 1 over the limit of findings, 3 not on a changed line, " \
           "1 duplicate(s)." in text  # fmt: skip


def test_nothing_found_is_said_and_bad_answers_are_reported(
    fake_llm: FakeOpenAI, diff: str
) -> None:
    fake_llm.queue("```yaml\nfindings: []\n```")
    report = ReviewAgent(client(fake_llm)).review(diff)
    assert (
        report.findings == []
        and "No problems found in the 1 hunk(s) reviewed." in summary_markdown(report)
    )
    fake_llm.queue("this is not yaml: [", "still: [ not")
    report = ReviewAgent(client(fake_llm)).review(diff)
    assert report.reviewed_hunks == 0
    assert report.errors[0].startswith("could not review app/calc.py:")
    assert [(s.path, s.reason) for s in report.skipped] == [
        ("app/calc.py", "the model's answer was unusable")
    ]
    assert "Nothing was reviewed" in summary_markdown(report)
    assert ReviewAgent(client(fake_llm)).review("").errors == [
        "the diff is empty or not a unified diff"
    ]


@dataclass
class FakeHit:
    path: str
    start_line: int
    end_line: int
    text: str
    symbol: str = ""
    tier: str = "normal"


class FakeService:
    def __init__(self, names: list[str]) -> None:
        self.names = names

    def status(self) -> list[types.SimpleNamespace]:
        return [types.SimpleNamespace(name=n) for n in self.names]

    def policy(self) -> types.SimpleNamespace:
        return types.SimpleNamespace(path_weight=lambda repo, path: 2.0)


def fake_index(monkeypatch: pytest.MonkeyPatch, hits: list[FakeHit], *, fail: bool = False,
               names: tuple[str, ...] = ("shop",)) -> list[tuple]:  # fmt: skip
    asked: list[tuple] = []
    module = types.ModuleType("agents.indexing")

    def retrieve(query: str, k: int, repo: str | None = None, lang: str | None = None, **kw):
        asked.append((query, k, repo, lang))
        if fail:
            raise RuntimeError("qdrant is locked by another process")
        return hits

    module.retrieve = retrieve  # type: ignore[attr-defined]
    module.best_practices = lambda repo=None, **kw: f"Practices of {repo}: check divisors."  # type: ignore[attr-defined]
    module.shared_service = lambda settings=None: FakeService(list(names))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "agents.indexing", module)
    return asked


def test_index_context_reaches_the_prompt(
    fake_llm: FakeOpenAI, diff: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = fake_index(monkeypatch, [
        FakeHit("app/ratio.py", 10, 12, "def ratio(x, y):\n    return divide(x, y)", "ratio"),
        FakeHit("legacy/old.py", 1, 2, "def divide(a, b): ...", tier="deprecated"),
        FakeHit("app/calc.py", 5, 6, "def divide(a, b):\n    return a / b"),  # the change itself
    ])  # fmt: skip
    fake_llm.queue(findings_yaml([]))
    context = IndexContext("shop", fallback_practices="Repo rule: no bare except.")
    report = ReviewAgent(client(fake_llm), context=context).review(diff)
    assert report.index == "used"
    prompt = fake_llm.chat_requests[0].prompt
    assert "# app/ratio.py:10-12 (ratio)\ndef ratio(x, y):" in prompt
    assert "legacy/old.py" not in prompt and "# app/calc.py" not in prompt
    assert "Practices of shop: check divisors." in prompt and "Repo rule: no bare except." in prompt
    assert asked[0] == ("divide", 3, "shop", "python")  # the changed symbol: its callers
    assert context.path_weight("app/calc.py") == 2.0


def test_review_goes_on_without_the_index(
    fake_llm: FakeOpenAI, diff: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_index(monkeypatch, [], fail=True)
    fake_llm.queue(findings_yaml([finding(6, "divide by zero")]))
    context = IndexContext("shop")
    report = ReviewAgent(client(fake_llm), context=context).review(diff)
    assert len(report.findings) == 1
    assert report.index.startswith("unavailable (RuntimeError: qdrant is locked")
    fake_index(monkeypatch, [], names=("other",))
    fake_llm.queue(findings_yaml([]))
    assert IndexContext("shop").status == "not used (no repository 'shop' indexed)"
    monkeypatch.setitem(sys.modules, "agents.indexing", None)  # not in this build
    assert IndexContext("shop").status.startswith("unavailable (the index is not in this build")


def big_diff(files: int, lines: int) -> str:
    out = []
    for i in range(files):
        body = "".join(f"+    value_{j} = compute({j})\n" for j in range(lines))
        out.append(f"diff --git a/mod{i}.py b/mod{i}.py\n--- /dev/null\n+++ b/mod{i}.py\n"
                   f"@@ -0,0 +1,{lines} @@\n{body}")  # fmt: skip
    return "".join(out)


def test_big_diff_within_budget_says_what_it_skipped(fake_llm: FakeOpenAI) -> None:
    text = big_diff(10, 200)  # 2,000 added lines
    fake_llm.on(lambda req: Reply(findings_yaml([])))
    report = ReviewAgent(client(fake_llm), ReviewOptions(token_budget=3000)).review(text)
    assert 0 < report.reviewed_hunks < report.total_hunks
    over = [s for s in report.skipped if s.reason == "over the token budget"]
    assert len(over) == report.total_hunks - report.reviewed_hunks
    used = sum(len(r.prompt) for r in fake_llm.chat_requests)
    assert used < 3000 * 3.5 + 2000 * len(fake_llm.chat_requests)
    summary = summary_markdown(report)
    assert f"**Not reviewed** ({len(over)}):" in summary and "over the token budget" in summary
    data = report.as_dict()
    assert json.loads(json.dumps(data))["skipped"][0]["reason"] == "over the token budget"
