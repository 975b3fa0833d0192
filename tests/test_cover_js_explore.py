"""What JS/TS exploration reaches: values that need more than a literal (an object holding
itself, declared in the test before the call; a string as long as the module's limit, written
back as ``'A'.repeat(1024)``), an entry module that only passes on functions of the package's
other modules (called through it, as users do), and a helper's missed lines (the target of the
export that calls it).  On a real vitest run in the sandbox where it runs code."""

from __future__ import annotations

from pathlib import Path

from agents.cover.js.drafting import marked_code
from agents.cover.js.explore import explore_file, plan_calls
from agents.cover.js.render import keep, render_tests
from agents.cover.js.targets import file_targets, find_targets
from flows.coverage_data import FileCoverage
from tests.kit.js import make_package, sandboxed_runner

TEXT_JS = """\
'use strict';

var LIMIT = 1024;

function shout(text) {
  if (text.length >= LIMIT) {
    return text.slice(0, LIMIT).toUpperCase();
  }
  return text.toUpperCase();
}

function flatten(value, seen) {
  var path = seen || [];
  if (value === null || typeof value !== 'object') {
    return [value];
  }
  if (path.indexOf(value) !== -1) {
    throw new RangeError('Cyclic value');
  }
  path.push(value);
  var out = [];
  Object.keys(value).forEach(function (key) {
    out = out.concat(flatten(value[key], path));
  });
  path.pop();
  return out;
}

module.exports = { shout, flatten };
"""

UPPER_JS = """\
'use strict';

/**
 * @example upper('abc') // 'ABC'
 */
module.exports = function upper(text) {
  return String(text).toUpperCase();
};
"""

INDEX_JS = """\
'use strict';

var upper = require('./upper');
var text = require('./text');

module.exports = { upper: upper, text: text };
"""


def test_a_cyclic_object_and_a_string_as_long_as_a_limit_are_tried_and_written_readably(
    tmp_path: Path, assay_home: Path
) -> None:
    repo = make_package(tmp_path / "text", "vitest", {"lib/text.js": TEXT_JS})
    with sandboxed_runner(repo) as (project, runner, coverage):
        targets, _ = find_targets(repo, coverage, project.sources)
        found = explore_file(runner, project, "lib/text.js", targets, seconds=60)
        test_path = project.test_path_for("lib/text.js")
        code = render_tests(project, test_path, "lib/text.js", keep(found.observed))
        # the long input's branch, its result written as what it is
        assert "expect(shout('a'.repeat(1024))).toEqual(\"A\".repeat(1024));" in code, code
        # the cycle's refusal, the object made by statements before the call
        assert (
            "    const cyclic = { a: 1 };\n    cyclic.self = cyclic;\n"
            '    expect(() => flatten(cyclic)).toThrow(new RangeError("Cyclic value"));'
        ) in code, code
        run = runner.run([test_path], files={test_path: code})
    assert run.passed, run.failure()
    assert run.coverage is not None
    cov = run.coverage.get("lib/text.js")
    assert cov is not None and not cov.missing_branches and not cov.missing_lines, cov


def test_an_entry_no_test_loads_is_explored_through_on_its_functions_examples(
    tmp_path: Path, assay_home: Path
) -> None:
    """``lib/index.js`` only passes on ``upper`` (another module's whole export): its tests
    call ``upper`` through the entry, on the calls its JSDoc shows, and cover the entry; the
    module object ``text`` is not a function and is not a target."""
    files = {"lib/upper.js": UPPER_JS, "lib/text.js": TEXT_JS, "lib/index.js": INDEX_JS}
    repo = make_package(tmp_path / "entry", "vitest", files)
    with sandboxed_runner(repo) as (project, runner, coverage):
        targets, _ = find_targets(repo, coverage, ["lib/index.js"])
        assert [(t.target.qualname, t.export.reexported_from) for t in targets] == [
            ("upper", "lib/upper.js")
        ]
        assert [c.args for c in plan_calls(targets)] == ["'abc'"]  # its example, not a sweep
        found = explore_file(runner, project, "lib/index.js", targets, seconds=60)
        test_path = project.test_path_for("lib/index.js")
        code = render_tests(project, test_path, "lib/index.js", keep(found.observed))
        assert 'const { upper } = require("../lib/index");' in code, code
        assert "expect(upper('abc')).toEqual(\"ABC\");" in code, code
        run = runner.run([test_path], files={test_path: code})
    assert run.passed, run.failure()
    assert run.coverage is not None
    cov = run.coverage.get("lib/index.js")
    assert cov is not None and not cov.missing_lines, cov


def test_a_helpers_missed_lines_are_the_target_of_the_export_that_calls_it() -> None:
    """``shout``'s cut sits in a helper it calls (``cut``, not exported): the helper's missed
    line is ``shout``'s to reach (the file has no other target), and the model's prompt for a
    long file shows it apart from the export, marked."""
    helper = TEXT_JS.replace(
        "return text.slice(0, LIMIT).toUpperCase();", "return cut(text).toUpperCase();"
    ).replace(
        "function shout(",
        "function cut(text) {\n  return text.slice(0, LIMIT);\n}\n" + "\n" * 40 + "function shout(",
    )  # the helper far enough above the export to be shown on its own
    lines = helper.splitlines()
    cut_line = lines.index("  return text.slice(0, LIMIT);") + 1
    long = helper + "\n" * 200  # past the prompt's whole-file size
    cov = FileCoverage("lib/text.js", (1,), (cut_line,), (), (), (), 30, 0, 50.0)
    [shout] = file_targets("lib/text.js", long, cov)
    assert shout.target.qualname == "shout" and shout.target.missing_lines == (cut_line,)
    shown = marked_code(long, shout)
    assert "  return text.slice(0, LIMIT);  // NOT COVERED" in shown, shown
    assert "// …" in shown and "function shout(text) {" in shown, shown


def test_an_esm_entrys_reexports_are_read_by_their_names_there(tmp_path: Path) -> None:
    """``export { default as upper } from './upper.js'`` (TypeScript's ``.js`` for ``.ts``) and
    an import passed on under another name: each is the function of the module it comes from,
    named as the entry exports it; what is not a function, or not the package's, is not."""
    from agents.cover.js.reexports import reexported

    files = {
        "src/upper.ts": "export default function upper(text: string) {\n"
        "  return text.toUpperCase();\n}\n",
        "src/text.ts": "export function shout(text: string, times = 1) {\n"
        "  return text.repeat(times);\n}\nexport const LIMIT = 3;\n",
        "src/index.ts": "export { default as upper } from './upper.js';\n"
        "import { shout as loud, LIMIT } from './text';\n"
        "import { join } from 'node:path';\n"
        "export { loud, LIMIT, join };\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    found = reexported(tmp_path, "src/index.ts", files["src/index.ts"])
    assert [(e.name, e.reexported_from, e.params, e.start) for e in found] == [
        ("upper", "src/upper.ts", ["text"], 1),
        ("loud", "src/text.ts", ["text", "times"], 4),
    ]
