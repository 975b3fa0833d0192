"""``assay tests PATH::SYMBOL`` on a TypeScript export: the explored calls are listed as
behaviours, only the picked ones become tests, and the model is asked only when its item (a test
for what the calls leave unrun) is picked.  The real CLI, the package's own vitest, the scripted
fake LLM."""

from __future__ import annotations

import re
from pathlib import Path

from tests.fakes.openai_server import FakeOpenAI
from tests.kit.cli import run_assay, tree_digest
from tests.kit.js import CODES_PACKAGE, make_package

ITEM = re.compile(r"^\s+(\d+)\. \[(\w+)\] (.+)$", re.M)


def test_tests_lists_the_explored_behaviours_and_writes_only_the_picked_ones(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    repo = make_package(tmp_path / "codes", "vitest", CODES_PACKAGE, esm=True)
    fake_llm.on(lambda req: "I cannot help with that.")
    digest = tree_digest(repo)
    args = ("--llm-base-url", fake_llm.url, "--llm-model", "fake-model",
            "--candidate-timeout", "20", "--attempts", "1")  # fmt: skip

    listed = run_assay("tests", "src/codes.ts::clamp", "--pick", "1", "--dry-run", *args,
                       cwd=repo, timeout=600)  # fmt: skip
    assert listed.returncode == 0, listed.stdout + listed.stderr
    items = {int(n): (kind, text) for n, kind, text in ITEM.findall(listed.stdout)}
    assert "Behaviours worth testing:" in listed.stdout
    # Three paths that return, each with a second value: what catches a wrong bound.
    assert items[1] == ("happy", "clamp returns a number (6 calls)"), items
    assert items[2] == ("error", "clamp throws RangeError for some inputs"), items
    assert items[3][1].startswith("what the calls above leave unrun"), items
    assert "e.g. clamp(5, 0, 3) → 3 (observed)" in listed.stdout  # the JSDoc @example first
    # Only behaviour 1: its returns, not the RangeError; the model was not asked.
    assert "+++ b/test/codes.assay.test.ts" in listed.stdout
    assert "expect(clamp(5, 0, 3)).toEqual(3)" in listed.stdout
    assert "toThrow(" not in listed.stdout and "shout(" not in listed.stdout
    assert fake_llm.chat_requests == []
    assert tree_digest(repo) == digest  # --dry-run: byte-identical

    thrown = run_assay("tests", "src/codes.ts::clamp", "--pick", "2", *args, cwd=repo,
                       timeout=600)  # fmt: skip
    assert thrown.returncode == 0, thrown.stdout + thrown.stderr
    written = (repo / "test" / "codes.assay.test.ts").read_text()
    assert 'toThrow(new RangeError("low must not exceed high"))' in written
    assert "toEqual(" not in written
