"""The review agent with the scripted model: findings land on changed lines (or are dropped),
are deduplicated and capped; the index's related code and best practices reach the prompt, and
a review goes on without the index; big diffs say what they skipped."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.indexing import IndexService, close_shared
from agents.review.agent import ReviewAgent, ReviewOptions
from agents.review.context import IndexContext
from agents.review.report import summary_markdown
from agents.settings import Settings
from flows.llm import LLMClient
from tests.fakes.openai_server import FakeOpenAI, Reply
from tests.kit.gitrepos import make_repo
from tests.kit.service import findings_yaml, make_project


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


@pytest.fixture
def shop_index(tmp_path: Path, assay_home: Path) -> Iterator[Settings]:
    """A real embedded index (hash embeddings): 'shop' calls divide, 'legacy' is deprecated."""
    settings = Settings(home=assay_home, embedding_model="hash-64")
    make_repo(tmp_path / "shop-src", {
        "app/ratio.py": "def ratio(x, y):\n    return divide(x, y)\n",
        "app/calc.py": "def divide(a, b):\n    return a / b\n",
    })  # fmt: skip
    make_repo(tmp_path / "legacy-src", {"old/divide.py": "def divide(a, b):\n    return 0\n"})
    with IndexService(settings) as service:
        service.add(str(tmp_path / "shop-src"), name="shop")
        service.add(str(tmp_path / "legacy-src"), name="legacy", tier="deprecated")
        service.set_best_practices("Practices of shop: check divisors.", repo="shop")
        service.set_path_weight("app/*", 2.0, repo="shop")
    yield settings
    close_shared()


def test_index_context_reaches_the_prompt(
    fake_llm: FakeOpenAI, diff: str, shop_index: Settings
) -> None:
    fake_llm.queue(findings_yaml([]))
    context = IndexContext(
        "shop", settings=shop_index, fallback_practices="Repo rule: no bare except."
    )
    report = ReviewAgent(client(fake_llm), context=context).review(diff)
    assert report.index == "used" and context.warning == ""
    prompt = fake_llm.chat_requests[0].prompt
    assert "# app/ratio.py:1-2" in prompt and "return divide(x, y)" in prompt
    assert "old/divide.py" not in prompt  # a deprecated repository never reaches the model
    assert "Practices of shop: check divisors." in prompt and "Repo rule: no bare except." in prompt
    assert context.path_weight("app/calc.py") == 2.0


def test_a_review_goes_on_without_an_index_it_cannot_read_and_says_so_once(
    fake_llm: FakeOpenAI, diff: str, shop_index: Settings
) -> None:
    # Embedded Qdrant serves one process at a time: another process holds the store.
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_STORE, str(shop_index.qdrant_path)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        fake_llm.queue(findings_yaml([finding(6, "divide by zero")]), findings_yaml([]))
        context = IndexContext("shop", settings=shop_index)
        report = ReviewAgent(client(fake_llm), context=context).review(diff + diff)
    finally:
        holder.kill()
        holder.wait()
    assert len(report.findings) == 1
    assert report.index == "unavailable (see the warning)"
    assert context.warning.startswith("the code index could not be read (StoreError")
    assert "this review ran without related code from it" in context.warning
    other = IndexContext("nope", settings=shop_index)
    assert other.status == "not used (no repository 'nope' indexed)" and other.warning == ""


HOLD_STORE = """
import sys, time
from pathlib import Path
from indexer import Store
store = Store(path=Path(sys.argv[1]))
print("holding", flush=True)
time.sleep(120)
"""


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
