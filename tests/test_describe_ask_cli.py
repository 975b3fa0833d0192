"""``assay describe`` and ``assay ask`` on a local repository (scripted model, real git)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fakes.openai_server import FakeOpenAI, RecordedRequest
from tests.kit.cli import run_assay
from tests.kit.gitrepos import git
from tests.kit.review import make_library

MODEL = ("--llm-base-url", "{url}", "--llm-model", "fake-model", "--no-cache")


def model_args(fake_llm: FakeOpenAI) -> list[str]:
    return [a.format(url=fake_llm.url) for a in MODEL]


def test_describe_prints_the_section_and_lists_every_changed_file(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    repo = make_library(tmp_path / "lib")
    git(repo, "checkout", "-q", "divide")
    (repo / "NOTES.md").write_text("notes\n")
    git(repo, "add", "NOTES.md")
    git(repo, "commit", "-qm", "notes")
    fake_llm.on(lambda req: "```yaml\n" + json.dumps({
        "title": "Integer division in divide", "type": "bug fix",
        "summary": "divide now floors.", "labels": ["math", "math", "behaviour change!"],
        "walkthrough": [{"path": "lib/calc.py", "change": "a // b instead of a / b"}],
    }) + "\n```")  # fmt: skip
    out = tmp_path / "description.json"
    result = run_assay("describe", str(repo), "--json", str(out), *model_args(fake_llm))
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.startswith("<!-- assay:describe:start -->\n### Integer division in divide\n")
    assert "**Type:** bugfix · **Labels:** math, behaviour change" in text
    assert "| `lib/calc.py` | a // b instead of a / b |" in text
    assert "| `NOTES.md` | changed |" in text  # the model left it out; the diff did not
    data = json.loads(out.read_text())
    assert [w["path"] for w in data["walkthrough"]] == ["NOTES.md", "lib/calc.py"]

    same = run_assay("describe", str(repo), "--base", "divide", *model_args(fake_llm))
    assert same.returncode == 2 and "Nothing changed since divide" in same.stderr


def test_ask_answers_from_the_diff_and_the_best_practices(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    repo = make_library(tmp_path / "lib")
    git(repo, "checkout", "-q", "divide")
    (repo / "PRACTICES.md").write_text("Never floor a ratio silently.\n")
    (repo / ".assay.toml").write_text('[review]\nbest_practices = "PRACTICES.md"\n')
    seen: list[RecordedRequest] = []

    def answer(req: RecordedRequest) -> str:
        seen.append(req)
        return "It floors now: `divide(7, 2)` returns 3, not 3.5."

    fake_llm.on(answer)
    result = run_assay("ask", "does divide still return 3.5 for 7 and 2?", str(repo),
                       *model_args(fake_llm))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "It floors now: `divide(7, 2)` returns 3, not 3.5."
    [req] = seen
    assert "Question: does divide still return 3.5 for 7 and 2?" in req.prompt
    assert "+    return a // b" in req.prompt and "Never floor a ratio silently." in req.prompt
    empty = run_assay("ask", " ", str(repo), *model_args(fake_llm))
    assert empty.returncode == 2 and "The question is empty" in empty.stderr
