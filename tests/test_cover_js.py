"""``assay cover`` on JavaScript and TypeScript packages, end to end through the CLI.

Real packages in temp dirs run by their own runner (jest, vitest) in the real sandbox, the model
being the scripted fake server.  The runners come from the npm registry the first time and are
cached (tests/kit/js.py); without node/npm the tests skip and say so.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.fakes.openai_server import FakeOpenAI, RecordedRequest, Reply
from tests.kit.cli import run_assay, tree_digest
from tests.kit.js import CLAMP_TS, CODES_TEST, git, make_package

ASKED = re.compile(r"test for `([^`]+)`")

TEXT_JS = """\
'use strict';

/**
 * Shorten a string to at most `max` characters, with an ellipsis.
 */
function truncate(text, max) {
  if (typeof text !== 'string') {
    throw new TypeError('text must be a string');
  }
  if (text.length <= max) {
    return text;
  }
  return text.slice(0, max - 1) + '…';
}

function words(text) {
  return text.split(/\\s+/).filter((w) => w.length > 0).length;
}

function initials(name) {
  return name.split(' ').map((part) => part[0]).join('');
}

function shout(text) {
  return text.toUpperCase() + '!';
}

function repeat(text, times) {
  return new Array(times).fill(text).join('');
}

function pad(text, width) {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

function reverse(text) {
  return text.split('').reverse().join('');
}

function slug(text) {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-');
}

function capitalize(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function isBlank(text) {
  if (text.trim().length === 0) {
    return true;
  }
  return false;
}

module.exports = {
  truncate, words, initials, shout, repeat, pad, reverse, slug, capitalize, isBlank,
};
"""

TEXT_TEST = """\
const { words } = require('../lib/text');

test('counts words', () => {
  expect(words('a b  c')).toBe(3);
});
"""

REQUIRE = 'const { %s } = require("../lib/text");\n\n'

# One candidate per target: a good one, and one bad one of each kind.  The good one is what a
# small model writes: more tests than asked, one with a wrong expected value (dropped, the rest
# kept), the last cut off by the token limit (left out, the describe closed).
JEST_SCRIPT = {
    "truncate": REQUIRE % "truncate" + "describe('truncate', () => {\n  it('shortens', () => {\n"
    "    expect(truncate('hello world', 5)).toBe('hell…');\n"
    "    expect(() => truncate(1, 2)).toThrow('text must be a string');\n  });\n\n"
    "  it('keeps short text', () => {\n    expect(truncate('hi', 5)).toBe('hi!');\n  });\n\n"
    "  it('keeps text of exactly max', () => {\n    expect(truncate('hel",
    "initials": REQUIRE % "initials"
    + "test('initials', () => {\n  expect(initials('a b').toBe('ab');\n});\n",
    "shout": REQUIRE
    % "shout"
    + "function shout(text) {\n  return 'HI!';\n}\n\ntest('shout', () => {\n"
    "  expect(shout('hi')).toBe('HI!');\n});\n",
    "repeat": REQUIRE % "repeat" + "const { twice } = require('../lib/missing');\n\n"
    "test('repeat', () => {\n  expect(repeat('a', 2)).toBe(twice('a'));\n});\n",
    "pad": REQUIRE % "pad" + "test('pad', () => {\n  expect(pad('a', 3)).toBe('a');\n});\n",
    "reverse": REQUIRE % "reverse" + "const fs = require('fs');\n\ntest('reverse', () => {\n"
    "  fs.closeSync(fs.openSync('flaky-marker', 'wx'));\n"
    "  expect(reverse('ab')).toBe('ba');\n});\n",
    "slug": REQUIRE % "slug" + "const { spawn } = require('child_process');\n\n"
    "test('slug', () => {\n  spawn('sleep', ['1001']);\n  while (true) {}\n});\n",
    "capitalize": REQUIRE % "words"
    + "test('capitalize', () => {\n  expect(words('x y')).toBe(2);\n});\n",
    "isBlank": REQUIRE % "isBlank"
    + "test('isBlank', () => {\n  isBlank('');\n  isBlank('a');\n});\n",
}
JEST_REASONS = {
    "initials": "syntax",
    "shout": "redefines",
    "repeat": "import-error",
    "pad": "fails",
    "reverse": "flaky",
    "slug": "timeout",
    "capitalize": "no-coverage",
    "isBlank": "no-mutant-killed",
}

CODES_TS = (
    CLAMP_TS
    + """
export function parseCode(code: string): { prefix: string; digits: number } {
  if (code.startsWith("X-") && code.length === 7) {
    return { prefix: "X", digits: Number(code.slice(2)) };
  }
  throw new Error(`bad code: ${code}`);
}

export class Counter {
  private count = 0;
  constructor(private readonly step: number = 1) {}
  increment(): number {
    this.count += this.step;
    return this.count;
  }
}
"""
)

# The model continues the file assay started (its imports, `describe("parseCode", () => {\n  it(`).
PARSE_CODE_TEST = (
    '"reads a code", () => {\n    expect(parseCode("X-12345")).toEqual({ prefix: "X", '
    "digits: 12345 });\n  });\n});\n"
)

INDEX_JS = """\
export function grade(score) {
  if (score >= 90) {
    return "A";
  }
  if (score >= 50) {
    return "B";
  }
  return "C";
}

export const sum = (items) => items.reduce((total, item) => total + item, 0);
"""


SECRET_JS = """\
export function unlocks(code) {
  if (code.length === 13 && code.startsWith("k")) {
    return true;
  }
  return false;
}
"""

# Passes in the gates (run as a candidate file) but not once written: the final run of the whole
# suite fails with it, and its file is rolled back.
ONLY_AS_CANDIDATE = (
    'import { describe, expect, it } from "vitest";\n'
    'import { unlocks } from "../src/secret.js";\n\n'
    'describe("unlocks", () => {\n  it("opens", () => {\n'
    '    expect(unlocks("kkkkkkkkkkkkk")).toBe(true);\n'
    '    expect(import.meta.url).toContain("assay-candidate");\n  });\n});\n'
)


def block(code: str, fence: str = "javascript") -> str:
    return f"```{fence}\n{code}```"


def scripted(script: dict[str, str], fence: str = "javascript"):
    def answer(req: RecordedRequest) -> Reply | str:
        found = ASKED.search(req.messages[1]["content"])
        name = found.group(1) if found else ""
        return block(script[name], fence) if name in script else "I cannot help with that."

    return answer


def cover(
    repo: Path, server: FakeOpenAI, *args: str
) -> tuple[subprocess.CompletedProcess[str], dict]:
    report = repo.parent / f"{repo.name}-report.json"
    result = run_assay(
        "cover", str(repo), "--llm-base-url", server.url, "--llm-model", "fake-model",
        "--attempts", "1", "--tests-per-target", "1", "--rounds", "1",
        "--candidate-timeout", "20", "--report", str(report), *args, timeout=900,
    )  # fmt: skip
    data = json.loads(report.read_text()) if report.exists() else {}
    return result, data


def reasons(data: dict) -> dict[str, list[str]]:
    return {t["target"].split("::")[1]: t["rejected"] for t in data["targets"]}


def test_jest_commonjs_package_keeps_the_good_test_and_rejects_each_bad_one_for_its_reason(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    repo = make_package(
        tmp_path / "text", "jest", {"lib/text.js": TEXT_JS, "__tests__/text.test.js": TEXT_TEST}
    )
    fake_llm.on(scripted(JEST_SCRIPT))
    result, data = cover(
        repo, fake_llm, "--no-explore", "--mutants", "off", "--candidate-timeout", "12"
    )
    assert result.returncode == 0, result.stdout + result.stderr

    got = reasons(data)
    for name, reason in JEST_REASONS.items():
        assert got[name] == [reason], (name, got, result.stderr[-3000:])
    truncate = next(t for t in data["targets"] if t["target"].endswith("::truncate"))
    assert truncate["accepted"] == 1 and truncate["rejected"] == []
    assert data["tests"]["accepted"] == 1
    assert sum(data["tests"]["rejected"].values()) == len(JEST_REASONS)
    # Beside the project's tests, in its module style, importing the code under test.
    assert data["written"] == ["__tests__/text.assay.test.js"]
    written = (repo / "__tests__" / "text.assay.test.js").read_text()
    assert 'require("../lib/text")' in written and "truncate('hello world', 5)" in written
    assert "'hi!'" not in written and "exactly max" not in written
    before = data["coverage"]["files"]["lib/text.js"]["before"]
    after = data["coverage"]["files"]["lib/text.js"]["after"]
    assert after["line"] > before["line"] and after["branch"] > before["branch"]
    assert (repo / "lib" / "text.js").read_text() == TEXT_JS  # the code under test untouched
    # The hanging candidate's forked `sleep` was killed with its run.
    leftovers = subprocess.run(["pgrep", "-f", "sleep 1001"], capture_output=True, text=True)
    assert leftovers.stdout.strip() == ""
    # The written file passes with the project's own runner outside assay.
    done = subprocess.run(
        ["node", "node_modules/jest/bin/jest.js", "--ci", "--no-cache", "--watchman=false"],
        cwd=repo, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "tests accepted: 1" in result.stdout


def test_esm_typescript_package_with_vitest_explores_then_asks_the_model(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    repo = make_package(
        tmp_path / "codes", "vitest",
        {"src/codes.ts": CODES_TS, "test/codes.test.ts": CODES_TEST}, esm=True,
    )  # fmt: skip
    fake_llm.on(scripted({"parseCode": PARSE_CODE_TEST}, "typescript"))
    result, data = cover(repo, fake_llm, "--mutants", "report", "--mutation-budget", "4")
    assert result.returncode == 0, result.stdout + result.stderr

    # Exploration (no model) reached clamp's branches and Counter; the model parseCode's return.
    explored = data["explored"][0]
    assert explored["file"] == "src/codes.ts" and explored["accepted"] > 0
    asked = {ASKED.search(r.messages[1]["content"]).group(1) for r in fake_llm.chat_requests}
    assert asked == {"parseCode"}
    prompt = fake_llm.chat_requests[0].messages[1]["content"]
    assert 'import { parseCode } from "../src/codes";' in prompt  # the import assay wrote
    assert "// NOT COVERED" in prompt
    after = data["coverage"]["files"]["src/codes.ts"]["after"]
    before = data["coverage"]["files"]["src/codes.ts"]["before"]
    assert after["line"] == 100.0 and after["branch"] > before["branch"]
    written = (repo / "test" / "codes.assay.test.ts").read_text()
    assert re.search(r'import \{ [^}]*parseCode[^}]* \} from "\.\./src/codes";', written)
    assert 'expect(parseCode("X-12345"))' in written and "expect(clamp(5, 0, 3))" in written
    assert written.count('from "../src/codes"') == 1  # imports merged
    # The mutation score, before → after, as for Python.
    mutation = data["mutation"]
    assert mutation["before"]["measured"] == 4 and mutation["after"]["measured"] == 4
    assert mutation["after"]["killed"] >= mutation["before"]["killed"]
    done = subprocess.run(
        ["node", "node_modules/vitest/vitest.mjs", "run", "--no-cache"],
        cwd=repo, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert (repo / "src" / "codes.ts").read_text() == CODES_TS


def test_dry_run_with_diff_targets_only_changed_lines_and_leaves_the_tree_alone(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    repo = make_package(
        tmp_path / "codes", "vitest",
        {"src/codes.ts": CODES_TS, "test/codes.test.ts": CODES_TEST}, esm=True,
    )  # fmt: skip
    changed = CODES_TS.replace(
        "    this.count += this.step;\n",
        "    if (this.count > 100) {\n      this.count = 0;\n    }\n    this.count += this.step;\n",
    )
    (repo / "src" / "codes.ts").write_text(changed)
    git(repo, "commit", "-qam", "reset past 100")
    fake_llm.on(scripted({}, "typescript"))
    digest = tree_digest(repo)
    result, data = cover(repo, fake_llm, "--dry-run", "--diff", "HEAD~1", "--mutants", "off")
    assert result.returncode == 0, result.stdout + result.stderr

    assert tree_digest(repo) == digest  # byte-identical: nothing written
    assert {t["target"] for t in data["targets"]} <= {"src/codes.ts::Counter.increment"}
    assert data["explored"] and data["written"] == []
    assert "+++ b/test/codes.assay.test.ts" in result.stdout
    assert "increment" in result.stdout and "clamp(" not in result.stdout
    asked = {ASKED.search(r.messages[1]["content"]).group(1) for r in fake_llm.chat_requests}
    assert asked <= {"Counter.increment"}


def test_a_package_without_any_test_gets_its_first_tests_and_a_breaking_file_rolled_back(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    repo = make_package(
        tmp_path / "grades", "vitest", {"src/index.js": INDEX_JS, "src/secret.js": SECRET_JS},
        esm=True,
    )  # fmt: skip
    fake_llm.on(scripted({"unlocks": ONLY_AS_CANDIDATE}))
    result, data = cover(repo, fake_llm, "--mutants", "off")
    assert result.returncode == 0, result.stdout + result.stderr

    before = data["coverage"]["files"]["src/index.js"]["before"]
    after = data["coverage"]["files"]["src/index.js"]["after"]
    assert before["line"] < 50 and after["line"] == 100.0 and after["branch"] == 100.0
    written = (repo / "test" / "index.assay.test.js").read_text()
    assert 'import { grade, sum } from "../src/index.js";' in written
    assert 'toEqual("A")' in written
    # The model's test for `unlocks` passed every gate, then broke the suite once written: its
    # file (with the explored tests of secret.js) is rolled back; index.js's tests stay.
    unlocks = next(t for t in data["targets"] if t["target"].endswith("::unlocks"))
    assert unlocks["accepted"] >= 1
    assert data["rolled_back"] == ["test/secret.assay.test.js"]
    assert data["written"] == ["test/index.assay.test.js"]
    assert not (repo / "test" / "secret.assay.test.js").exists()
    # Coverage after is what the tests left measure.
    assert data["coverage"]["files"]["src/secret.js"]["after"]["line"] == before["line"] == 0.0


TRIM_TS = """\
/** Removes the common indentation of a template, and the first line when it is blank. */
export function trim(strings: TemplateStringsArray, ...values: unknown[]): string {
  const text = strings.reduce(
    (out, part, i) => out + part + (i < values.length ? String(values[i]) : ""), "");
  const lines = text.split("\\n");
  if (lines.length > 1 && lines[0].trim() === "") {
    lines.shift();
  }
  const indents = lines.filter((l) => l.trim() !== "").map((l) => l.length - l.trimStart().length);
  const margin = indents.length > 0 ? Math.min(...indents) : 0;
  return lines.map((l) => l.slice(margin)).join("\\n").trimEnd();
}
"""


def test_a_template_tag_is_explored_with_templates_and_its_tests_call_it_as_a_tag(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    repo = make_package(tmp_path / "trim", "vitest", {"src/trim.ts": TRIM_TS}, esm=True)
    fake_llm.on(scripted({}, "typescript"))
    result, data = cover(repo, fake_llm, "--mutants", "report", "--mutation-budget", "6")
    assert result.returncode == 0, result.stdout + result.stderr

    # Called with strings, `trim` throws at `strings.reduce`; tagging templates runs it all.
    after = data["coverage"]["files"]["src/trim.ts"]["after"]
    assert after["line"] == 100.0 and after["branch"] == 100.0
    assert fake_llm.chat_requests == []  # exploration alone
    written = (repo / "test" / "trim.assay.test.ts").read_text()
    tagged = re.findall(r"expect\(trim`", written)
    assert len(tagged) >= 3, written
    assert "expect(trim`\n" in written  # a template of several lines, written as lines
    mutation = data["mutation"]
    assert mutation["after"]["killed"] > mutation["before"]["killed"] == 0
    done = subprocess.run(
        ["node", "node_modules/vitest/vitest.mjs", "run", "--no-cache"],
        cwd=repo, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


QUERY_JS = """\
export function parseQuery(text, options) {
  const opts = options || {};
  const out = {};
  for (const part of String(text).split(opts.delimiter || "&")) {
    if (!part) continue;
    const [key, value] = part.split("=");
    const nested = /^(\\w+)\\[(\\w+)\\]$/.exec(key);
    if (nested) {
      out[nested[1]] = { ...(out[nested[1]] || {}), [nested[2]]: value };
    } else {
      out[key] = value;
    }
  }
  return out;
}
"""
QUERY_README = """\
# query

```js
import { parseQuery } from "query";

parseQuery('user[name]=ada&user[lang]=en');
// { user: { name: 'ada', lang: 'en' } }

const input = window.location.search;
parseQuery(input, { delimiter: ';' });
```
"""


def test_the_calls_a_readme_shows_are_explored_first_and_kept_as_written(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    """Only a key with brackets takes the nested branch, and no random string has one; the
    README shows such a call.  It is explored like a JSDoc example and kept as written; the
    README's call on a variable (``parseQuery(input, …)``) is left out."""
    repo = make_package(
        tmp_path / "query", "vitest", {"src/query.js": QUERY_JS, "README.md": QUERY_README},
        esm=True,
    )  # fmt: skip
    fake_llm.on(scripted({}))
    result, data = cover(repo, fake_llm, "--mutants", "off")
    assert result.returncode == 0, result.stdout + result.stderr
    after = data["coverage"]["files"]["src/query.js"]["after"]
    assert after["line"] == 100.0 and after["branch"] == 100.0, after
    written = (repo / "test" / "query.assay.test.js").read_text()
    assert "parseQuery('user[name]=ada&user[lang]=en')" in written, written
    assert 'user: { name: "ada", lang: "en" }' in written, written
    assert "input" not in written


def test_missing_node_modules_is_a_clear_error(tmp_path: Path, fake_llm: FakeOpenAI) -> None:
    repo = make_package(tmp_path / "bare", "vitest", {"src/index.js": INDEX_JS}, esm=True)
    (repo / "node_modules").unlink()
    result, _ = cover(repo, fake_llm)
    assert result.returncode == 2
    assert "No node_modules in" in result.stderr and "--install-command" in result.stderr
    assert "Traceback" not in result.stderr
    assert fake_llm.chat_requests == []


@pytest.fixture(autouse=True)
def _no_marker_left(tmp_path: Path):
    yield
    assert not list(tmp_path.rglob("flaky-marker"))  # the flaky test's marker stayed in the sandbox


def test_review_tests_section_measures_diff_coverage_of_a_typescript_change(
    tmp_path: Path, assay_home: Path
) -> None:
    from agents.review.testsection import TestsOptions, tests_section
    from agents.runtime import open_sandbox
    from agents.settings import load_settings

    repo = make_package(
        tmp_path / "codes", "vitest",
        {"src/codes.ts": CODES_TS, "test/codes.test.ts": CODES_TEST}, esm=True,
    )  # fmt: skip
    changed = CODES_TS.replace(
        "  if (value < low) return low;\n",
        "  if (Number.isNaN(value)) {\n    return low;\n  }\n  if (value < low) return low;\n",
    )
    (repo / "src" / "codes.ts").write_text(changed)
    settings = load_settings(repo).settings
    with open_sandbox(settings, repo, language="javascript") as sandbox:
        section = tests_section(repo, "HEAD", sandbox, None, TestsOptions(generate=False))
    lines = changed.splitlines()
    nan_check = lines.index("  if (Number.isNaN(value)) {") + 1
    # vitest's v8 provider counts lines: the `if` (run), its `return` and brace (not run).
    assert section.changed_lines == 3 and section.covered_lines == 1
    assert section.uncovered == {"src/codes.ts": [nan_check + 1, nan_check + 2]}
    assert section.note == ""
