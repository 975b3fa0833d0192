"""The pure parts of ``assay cover`` for JavaScript/TypeScript: project detection, exports,
istanbul coverage, mutants, merging test files, rendering observed values.  No node needed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.cover.js.drafting import complete_tests
from agents.cover.js.explore import Call, Observed, plan_calls
from agents.cover.js.gates import gained
from agents.cover.js.mutants import all_mutants
from agents.cover.js.project import detect_project, is_js_project, source_files
from agents.cover.js.render import keep, literal
from agents.cover.js.runner import Case, JsTestRun, read_istanbul
from agents.cover.js.symbols import read_module, syntax_error
from agents.cover.js.targets import JsTarget, file_targets
from agents.cover.js.testfile import TestFile, drop_repeats, drop_tests, statics
from flows import FileCoverage, RunResult

ESM = """\
/**
 * @example area(2, 3) // 6
 */
export function area(w, h) {
  if (w < 0) {
    throw new Error("negative");
  }
  return w * h;
}
export const double = (x) => x * 2;
function hidden(x) { return x; }
export { hidden as shown };
export default class Stack {
  push(item) { this.items = [...(this.items || []), item]; return this.items.length; }
  static of(x) { return new Stack(); }
}
"""

CJS = """\
'use strict';
function truncate(text, max) {
  return text.length <= max ? text : text.slice(0, max);
}
exports.words = (text) => text.split(' ').length;
module.exports = { truncate, other: truncate };
"""


def write(root: Path, files: dict[str, str]) -> list[str]:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return sorted(files)


def test_detects_runner_module_kind_and_where_tests_go(tmp_path: Path) -> None:
    jest = tmp_path / "jest"
    files = write(jest, {
        "package.json": json.dumps({"devDependencies": {"jest": "29"}}),
        "lib/a.js": CJS, "lib/b.cjs": CJS, "__tests__/a.test.js": "const a = require('../lib/a');",
        "jest.config.js": "module.exports = {}", "dist/a.js": CJS, "types.d.ts": "",
    })  # fmt: skip
    project = detect_project(jest, files)
    assert project.runner == "jest" and not project.esm and project.import_style == "cjs"
    assert project.sources == ("lib/a.js", "lib/b.cjs")
    assert project.test_path_for("lib/a.js") == "__tests__/a.assay.test.js"
    assert project.test_path_for("lib/b.cjs") == "__tests__/b.assay.test.cjs"
    assert project.import_path("__tests__/a.assay.test.js", "lib/a.js") == "../lib/a"
    assert project.command == ("node", "node_modules/jest/bin/jest.js")

    ts = tmp_path / "ts"
    files = write(ts, {
        "package.json": json.dumps({"type": "module", "scripts": {"test": "vitest"}}),
        "src/deep/codes.ts": ESM, "src/deep/codes.spec.ts": "import { x } from './codes';",
    })  # fmt: skip
    project = detect_project(ts, files, test_command="npx vitest run --dir src")
    assert project.runner == "vitest" and project.esm and project.typescript
    assert project.custom_command and project.command[:2] == ("npx", "vitest")
    assert project.test_path_for("src/deep/codes.ts") == "src/deep/codes.assay.spec.ts"
    assert project.import_path("src/deep/codes.assay.spec.ts", "src/deep/codes.ts") == "./codes"

    bare = tmp_path / "bare"
    files = write(bare, {"package.json": "{}", "index.mjs": ESM})
    project = detect_project(bare, files)
    assert project.runner == "vitest" and project.test_dir == "test"  # the defaults
    assert project.import_path(project.test_path_for("index.mjs"), "index.mjs") == "../index.mjs"
    assert is_js_project(bare) and not is_js_project(tmp_path)
    (bare / "pyproject.toml").write_text("")
    assert not is_js_project(bare)  # a Python project with a package.json stays Python
    assert source_files(files, exclude=["index.*"]) == []


def test_without_tests_to_follow_the_code_is_loaded_as_its_sources_load_each_other(
    tmp_path: Path,
) -> None:
    # CommonJS sources under vitest: `require`, so a helper that another module requires is
    # one module (vitest would load an imported CommonJS file again, as its own: two copies
    # whose state, `instanceof` and coverage disagree)
    cjs = tmp_path / "cjs"
    files = write(cjs, {"package.json": json.dumps({"devDependencies": {"vitest": "2"}}),
                        "lib/a.js": CJS, "lib/b.js": "const a = require('./a');\n"})  # fmt: skip
    project = detect_project(cjs, files)
    assert project.runner == "vitest" and project.import_style == "cjs"
    assert project.import_path(project.test_path_for("lib/a.js"), "lib/a.js") == "../lib/a"
    # ES module syntax in .js files of a package without "type": "module" (a bundler's
    # package), or TypeScript: `import`
    for name, text in (("lib/a.js", ESM), ("src/a.ts", "export const x = 1;\n")):
        root = tmp_path / name.replace("/", "-")
        files = write(root, {"package.json": "{}", name: text})
        assert detect_project(root, files).import_style == "esm"


def test_exports_esm_and_commonjs_with_params_examples_and_methods() -> None:
    esm = {e.name: e for e in read_module(ESM, "src/a.js")}
    assert set(esm) == {"area", "double", "shown", "default"}
    assert esm["area"].params == ["w", "h"] and esm["area"].examples == ["area(2, 3)"]
    assert '"negative"' in esm["area"].literals and esm["area"].body_start == 5
    assert esm["shown"].local == "hidden" and esm["default"].binding == "Stack"
    methods = {m.name: m for m in esm["default"].methods}
    assert set(methods) == {"push", "of"} and methods["of"].is_static
    cjs = {e.name: e for e in read_module(CJS, "lib/a.js")}
    assert set(cjs) == {"truncate", "other", "words"}
    assert cjs["other"].start == cjs["truncate"].start and cjs["words"].kind == "function"
    assert syntax_error("export function (", "a.ts").startswith("line 1")
    assert syntax_error("const x: number = 1;", "a.ts") == ""


ISTANBUL = {
    "/tmp/assay-sandbox-x/runs/run-1/copy/src/a.js": {
        "path": "/tmp/assay-sandbox-x/runs/run-1/copy/src/a.js",
        "statementMap": {
            "0": {"start": {"line": 5}},
            "1": {"start": {"line": 6}},
            "2": {"start": {"line": 8}},
            "3": {"start": {"line": 8}},
        },
        "s": {"0": 1, "1": 0, "2": 1, "3": 0},
        "branchMap": {
            "0": {"line": 5, "locations": [{"start": {"line": 5}}, {"start": {"line": 5}}]},
            "1": {"loc": {"start": {"line": 8}}, "locations": [{"start": {"line": 8}}]},
        },
        "b": {"0": [0, 3], "1": [2]},
    },
    "/elsewhere/outside.js": {"path": "/elsewhere/outside.js", "statementMap": {}, "s": {}},
}


def test_istanbul_report_reads_as_line_and_branch_coverage() -> None:
    report = read_istanbul(ISTANBUL)
    assert set(report.files) == {"src/a.js"}  # only files inside the run's copy
    cov = report.files["src/a.js"]
    assert cov.executed_lines == (5, 8) and cov.missing_lines == (6,)
    assert cov.num_branches == 3 and len(cov.missing_branches) == 1
    assert cov.missing_branches[0][0] == 5  # (branch line, outcome line), unique per outcome
    assert round(cov.percent, 1) == round(100 * 4 / 6, 1)
    after = read_istanbul({
        k: {**v, "s": {"0": 1, "1": 1, "2": 1, "3": 1}, "b": {"0": [1, 3], "1": [2]}}
        for k, v in ISTANBUL.items() if "copy" in k
    })  # fmt: skip
    lines, branches = gained(report, after, "src/a.js")
    assert lines == (6,) and branches == cov.missing_branches
    targets = file_targets("src/a.js", ESM, cov)
    assert [t.target.qualname for t in targets] == ["area"]
    assert targets[0].target.missing_lines == (6,)


def test_mutants_use_the_python_operators_and_keep_lines() -> None:
    mutants = all_mutants(ESM, "src/a.ts", [(4, 10)])
    kinds = {m.kind for m in mutants}
    assert {"comparison", "boundary", "condition", "branch", "arithmetic", "return"} <= kinds
    assert {"constant", "statement"} <= kinds
    for mutant in mutants:
        assert mutant.source.count("\n") == ESM.count("\n")  # one segment, lines hold
        assert not syntax_error(mutant.source, "src/a.ts")
    flipped = next(m for m in mutants if m.kind == "comparison")
    assert flipped.after.strip() == "if (w >= 0) {" and flipped.line == 5
    assert not all_mutants(ESM, "src/a.ts", [(11, 11)], lines=[99])


def test_test_files_merge_imports_and_append_tests() -> None:
    merged = TestFile("test/a.assay.test.ts")
    merged.add('import { describe, expect, it } from "vitest";\n'
               'import { area } from "../src/a";\n\ndescribe("area", () => {});\n')  # fmt: skip
    merged.add('import { expect, it, vi } from "vitest";\nimport { double } from "../src/a";\n'
               'import * as fs from "node:fs";\n\nit("doubles", () => {});\n')  # fmt: skip
    text = merged.render()
    assert text.count('from "../src/a"') == 1 and "import { area, double }" in text
    assert 'import { describe, expect, it, vi } from "vitest";' in text
    assert text.index('describe("area"') < text.index('it("doubles"')
    facts = statics(text + "function area() {}\n", "test/a.assay.test.ts")
    assert "area" in facts.declared and facts.tests == 1
    assert facts.bindings["../src/a"] == ["area", "double"]
    cjs = TestFile("t.assay.test.js")
    cjs.add('const { a } = require("../lib/x");\ntest("a", () => {});\n')
    cjs.add('const { b: bee } = require("../lib/x");\ntest("b", () => {});\n')
    assert 'const { a, b: bee } = require("../lib/x");' in cjs.render()


@pytest.mark.parametrize(
    ("tag", "source"),
    [
        (["n", 3.0], "3"), (["nan"], "NaN"), (["inf", -1], "-Infinity"), (["u"], "undefined"),
        (["s", 'say "hi"'], '"say \\"hi\\""'), (["a", [["b", True], ["null"]]], "[true, null]"),
        (["o", [["a-b", ["n", 1]], ["c", ["a", []]]]], '{ "a-b": 1, c: [] }'), (["x"], None),
        (["a", [["x"]]], None),
        (["s", "é\ud83d"], '"é\\ud83d"'),  # half a surrogate pair: escaped, the file stays UTF-8
    ],
)  # fmt: skip
def test_observed_values_are_written_back_as_literals(tag: list, source: str | None) -> None:
    assert literal(tag) == source


def test_kept_calls_ran_new_blocks_then_show_new_outcomes() -> None:
    export = read_module(ESM, "src/a.js")[0]
    jt = JsTarget(file_targets("src/a.js", ESM, read_istanbul(ISTANBUL).files["src/a.js"])[0]
                  .target, export)  # fmt: skip

    def seen(n: int, args: str, idle: list[str], **kw: object) -> Observed:
        return Observed(Call(n, jt, args), blocks=[["0:100", idle]], **kw)  # type: ignore[arg-type]

    observed = [
        seen(0, "1, 2", ["10:20"], ok=["n", 2]),
        seen(1, "3, 4", ["10:20"], ok=["n", 12]),  # the same blocks, another value: kept after
        seen(2, "-1, 2", ["30:40"], threw={"name": "Error", "message": "negative"}),
        seen(3, "'a', 2", [], threw={"name": "TypeError", "message": "w.map is not a function"}),
        seen(4, "5, 5", ["10:20"], ok=["x"]),  # not writable as a literal
        seen(5, "2, 1", ["10:20"], ok=["n", 2]),  # the same blocks and value as call 0
        seen(6, "'x', 'y'", ["10:20"], ok=["s", "xy"]),  # a string from numbers: not kept
        seen(7, "7, 7", ["10:20"], ok=["n", 49]),  # a third value on call 0's path: not kept
    ]
    assert [o.call.id for o in keep(observed)] == [0, 1, 2]
    # a result holding a function's source text (String(fn)) is not asserted: a coverage
    # tool's, a mutation tester's or a bundler's copy of the code gives another text
    source = ["o", [["function (str) {\n  return str;\n}", ["s", ""]]]]
    assert keep([seen(8, "(k, v) => v", [], ok=source)]) == []
    assert len(keep([seen(8, "(k, v) => v", [], ok=["o", [["str", ["s", ""]]]])])) == 1
    # The file's only target: more than five calls kept while each runs a block none ran, and
    # past the target's cap of 24 too.
    blocks = [f"{10 * k}:{10 * k + 5}" for k in range(1, 41)]
    each = [seen(n, str(n), [b for b in blocks if b != blocks[n]], ok=["n", n]) for n in range(40)]
    assert len(keep(each)) == 40
    # Many values on one path: two of them; a call that ran a new block goes before the second.
    many = [seen(n, str(n), ["10:20", "30:40"], ok=["n", n]) for n in range(30)]
    many.append(seen(99, "99999", ["10:20"], ok=["n", 99]))  # the longest arguments: last
    assert [o.call.id for o in keep(many)] == [0, 1, 99]


def test_calls_on_earlier_results_are_written_with_the_earlier_value() -> None:
    from agents.cover.js.explore import _chained

    export = read_module(ESM, "src/a.js")[0]
    cov = read_istanbul(ISTANBUL).files["src/a.js"]
    jt = JsTarget(file_targets("src/a.js", ESM, cov)[0].target, export)
    done = {
        0: Observed(Call(0, jt, "2, 3"), ok=["n", 6]),
        1: Observed(Call(1, jt, "__r(0), 2"), ok=["n", 12]),
        2: Observed(Call(2, jt, "1, 1"), ok=["x"]),
        3: Observed(Call(3, jt, "__r(2), 1"), ok=["n", 1]),
    }
    got = {o.call.id: o for o in _chained(done)}
    assert got[1].call.args == "6, 2" and got[1].ok == ["n", 12]
    assert got[3].ok == ["x"]  # the earlier value has no literal: the call cannot be kept


DRAFT = """\
describe("clamp", () => {
  it("a", () => {
    expect(clamp(1, 0, 2)).toEqual(1);
  });

  it("b", () => {
    expect(clamp(5, 0, 2)).toEqual(5);
  });

  it("c", () => {
    expect(clamp(-1, 0, 2)).toEqual(0);
  });
});
"""


def test_a_drafts_failing_tests_are_dropped_by_their_runner_names() -> None:
    kept = drop_tests(DRAFT, "t.test.ts", {"clamp b"})
    assert kept is not None and syntax_error(kept, "t.test.ts") == ""
    assert 'it("a"' in kept and 'it("c"' in kept and 'it("b"' not in kept
    assert drop_tests(DRAFT, "t.test.ts", {"clamp a", "clamp b", "clamp c"}) is None  # none left
    assert drop_tests(DRAFT, "t.test.ts", {"other d"}) is None  # nothing to drop
    # The same test twice in one draft: the second goes.
    twice = DRAFT.replace('  it("c"', '  it("a", () => {\n    expect(clamp(1, 0, 2)).toEqual(1);'
                          '\n  });\n\n  it("c"')  # fmt: skip
    assert twice.count('it("a"') == 2 and drop_repeats(twice, "t.test.ts") == DRAFT
    assert drop_repeats(DRAFT, "t.test.ts") == DRAFT


def test_a_reply_cut_off_by_the_token_limit_keeps_its_finished_tests() -> None:
    cut = DRAFT[: DRAFT.index('it("c"') + 14]
    completed = complete_tests(cut, "t.test.ts")
    assert syntax_error(completed, "t.test.ts") == ""
    assert 'it("b"' in completed and 'it("c"' not in completed
    assert complete_tests(DRAFT, "t.test.ts") == DRAFT  # a whole reply is left alone
    deeper = cut.replace("\n  ", "\n    ")  # the model's own indentation
    assert 'it("b"' in complete_tests(deeper, "t.test.ts")
    assert syntax_error(complete_tests(deeper, "t.test.ts"), "t.test.ts") == ""


OPTIONS_JS = """\
const defaults = { sep: '&' };
export function parse(text, opts) {
  const options = opts || defaults;
  if (options.mode === 'strict' && text.indexOf('=') < 0) {
    throw new Error('no pair in ' + text);
  }
  return options.trim ? text.trim() : text.split('&');
}
"""


def test_exploration_draws_options_objects_and_punctuated_strings_from_the_module() -> None:
    [export] = read_module(OPTIONS_JS, "src/parse.js")
    values = export.module_values
    # The keys the module reads off an options object, with the values it compares them to.
    assert "{ mode: 'strict' }" in values and "{ trim: true }" in values
    assert "{ trim: false }" in values and "{ mode: true }" not in values
    # Strings made of the module's punctuation: what a parser needs to get past its checks.
    assert "'a=b'" in values and "'a&b=c'" in values
    cov = FileCoverage("src/parse.js", (1,), tuple(range(2, 9)), (), (), (), 7, 0, 0.0)
    [target] = file_targets("src/parse.js", OPTIONS_JS, cov)
    calls = [c.args for c in plan_calls([target])]
    assert len(calls) > 40  # one target in the file: it gets the file's calls
    assert any("{ mode: 'strict' }" in args for args in calls)


def test_a_failure_reads_as_each_tests_assertion_not_the_runners_stack() -> None:
    frames = "".join(f"\n    at runTest (node_modules/@vitest/runner/dist/index.js:{n}:5)"
                     for n in range(40))  # fmt: skip
    cases = tuple(
        Case("t.test.js", f"parse case {n}", "failed",
             f"AssertionError: expected {{ a: {n} }} to deeply equal {{}}{frames}")
        for n in range(3)
    )  # fmt: skip
    run = JsTestRun(RunResult(("vitest",), 1, False, "", 1.0, "process"), cases)
    text = run.failure()
    assert "runTest" not in text
    for n in range(3):  # every failing test with what it expected, for the model's retry
        assert f"parse case {n}: AssertionError: expected {{ a: {n} }} to deeply equal {{}}" in text


TAGS_TS = """\
export function dedent(strings: TemplateStringsArray, ...values: unknown[]): string {
  return strings.raw.join("");
}
/** @param {TemplateStringsArray} parts the template's text */
export function html(parts, ...values) {
  return parts.join("");
}
export function plain(text: string, ...rest: string[]): string {
  return text + rest.join("");
}
"""


def test_a_template_tag_is_called_with_templates_first() -> None:
    exports = read_module(TAGS_TS, "src/tags.ts")
    assert [(e.name, e.tag) for e in exports] == [("dedent", True), ("html", True),
                                                  ("plain", False)]  # fmt: skip
    cov = FileCoverage("src/tags.ts", (), tuple(range(1, 11)), (), (), (), 10, 0, 0.0)
    calls = plan_calls(file_targets("src/tags.ts", TAGS_TS, cov))
    dedent = [c for c in calls if c.target.export.name == "dedent"]
    templates = [c.template for c in dedent if c.template]
    # Templates first (the shapes a person tries, then seeded ones), each a template literal.
    assert templates and dedent[0].template == "``" and len(set(templates)) == len(templates)
    assert all(t.startswith("`") and t.endswith("`") for t in templates)
    assert any("\n  alpha 1\n" in t for t in templates) and any("${" in t for t in templates)
    assert not [c for c in calls if c.target.export.name == "plain" and c.template]
    # A rest parameter takes none to two values: calls of several arities.
    plain = [c.args for c in calls if c.target.export.name == "plain" and "__r(" not in c.args]
    assert {len(a.split(", ")) for a in plain if a} >= {1, 2, 3}


def test_a_tags_fixed_shape_is_kept_before_a_shorter_seeded_template_on_the_same_blocks() -> None:
    from agents.cover.js.templates import FIXED

    cov = FileCoverage("src/tags.ts", (), tuple(range(1, 11)), (), (), (), 10, 0, 0.0)
    jt = next(t for t in file_targets("src/tags.ts", TAGS_TS, cov) if t.export.name == "dedent")
    indented_value = next(t for t in FIXED if "${'first" in t)

    def tagged(n: int, template: str) -> Observed:
        return Observed(Call(n, jt, "", template=template), ok=["s", "x"], blocks=[["0:9", []]])

    # The same blocks and outcome: one is kept, the fixed shape, though the seeded one is shorter.
    kept = keep([tagged(1, "`${'a\\nb'}`"), tagged(2, indented_value)])
    assert [o.call.template for o in kept] == [indented_value]


def test_a_readmes_calls_of_an_export_are_read_when_their_arguments_are_values(
    tmp_path: Path,
) -> None:
    from agents.cover.js.readme import readme_calls

    (tmp_path / "README.md").write_text(
        "# qs\n\n```javascript\nvar qs = require('qs');\n"
        "assert.deepEqual(qs.parse('a[b]=c', { depth: 1 }), { a: { b: 'c' } });\n"
        "qs.parse('a=b;c=d,e=f', { delimiter: /[;,]/ });\n"
        "qs.parse(str);  // a variable the README made\n"
        "qs.parse('a', { decoder: function (s) { return s; } });\n"
        "qs.stringify({\n  a: ['b', 'c'],\n}, { arrayFormat: 'brackets' });\n"
        "qs.parse(`a=${value}`);\nfunction parse(text) {}\n```\n\n"
        "```python\nparse('not javascript')\n```\n\n    parse('an indented block')\n"
    )
    assert readme_calls(tmp_path, ["parse", "stringify", "missing"]) == {
        "parse": ["parse('a[b]=c', { depth: 1 })", "parse('a=b;c=d,e=f', { delimiter: /[;,]/ })"],
        "stringify": ["stringify({ a: ['b', 'c'], }, { arrayFormat: 'brackets' })"],
    }
    assert readme_calls(tmp_path / "nowhere", ["parse"]) == {}
