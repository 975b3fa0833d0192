"""JS/TS: an options object explored key by key, and surviving mutants become targets.

End to end through the CLI on a CommonJS package run by vitest in the real sandbox (the model is
the scripted fake server, and says nothing useful: what is shown here is exploration's), plus
the sweep's planning on its own.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from agents.cover.js.option_sweep import EVERY_KIND, option_objects, split_args, sweep_args
from agents.cover.js.symbols import parse
from tests.fakes.openai_server import FakeOpenAI
from tests.kit.cli import run_assay
from tests.kit.js import make_package, sandboxed_runner

FORMAT_JS = """\
'use strict';

function format(value, opts) {
  var options = opts || {};
  if (typeof options.digits !== 'undefined' && typeof options.digits !== 'number') {
    throw new TypeError('digits must be a number');
  }
  var text = Number(value).toFixed(typeof options.digits === 'number' ? options.digits : 2);
  if (options.unit === 'percent') {
    text = text + ' %';
  }
  if (options.sign === true && value > 0) {
    return '+' + text;
  }
  return text;
}

function percent(value) {
  return Math.min(Math.max(value, 0), 100) + ' %';
}

module.exports = { format, percent };
"""


def test_an_options_parameter_is_swept_one_key_at_a_time_with_the_examples_first_arguments() -> (
    None
):
    root = parse(FORMAT_JS, "lib/format.js").root_node
    objects = option_objects(root)
    # a type check gives values of the type and one of another (what the check refuses); a
    # comparison with a string gives that string and one no comparison expects
    assert "{ digits: 0 }" in objects and "{ digits: '1' }" in objects
    assert "{ unit: 'percent' }" in objects and "{ unit: 'other' }" in objects
    assert "{ sign: true }" in objects
    assert split_args("'a,b', { c: [1, 2] }, f(x, y)") == ["'a,b'", "{ c: [1, 2] }", "f(x, y)"]
    # two keys together: each value of a mode (compared with strings) with each switch on
    assert "{ unit: 'percent', sign: true }" in objects
    singles = [o for o in objects if o.count(":") == 1]
    calls = sweep_args(["value", "opts"], ["format(12.5, { unit: 'percent' })"], objects, ["'a'"])
    assert "12.5, { digits: '1' }" in calls and "'a', { sign: true }" in calls
    assert "12.5, { unit: 'percent', sign: true }" in calls
    # each key after the example's first argument and the fallback; two keys after the first
    assert len(calls) == 2 * len(singles) + (len(objects) - len(singles))
    assert sweep_args(["opts"], [], objects, ["'a'"]) == []  # options first: not swept


SERIALIZE_JS = """\
var generators = { brackets: 1, comma: 2, 'dotted-key': 3 };
module.exports = function serialize(object, opts) {
  if (opts.arrayFormat in generators && opts.limit === Infinity) { return ''; }
  return opts.skipNulls ? 'a' : 'b';
};
"""


def test_a_sweep_reads_lookup_tables_and_tries_each_kind_of_first_argument() -> None:
    objects = option_objects(parse(SERIALIZE_JS, "lib/serialize.js").root_node)
    # `opts.arrayFormat in generators`: each key of the module's table, and one it lacks
    for value in ("'brackets'", "'comma'", "'dotted-key'", "'other'"):
        assert f"{{ arrayFormat: {value} }}" in objects
    assert "{ limit: Infinity }" in objects
    assert "{ arrayFormat: 'comma', skipNulls: true }" in objects
    # the examples pass an object: one holding every kind of value is tried too, first
    calls = sweep_args(["object", "opts"], ["serialize({ a: 'b' })"], objects, ["'a'"])
    assert calls[0] == f"{EVERY_KIND}, {{ arrayFormat: 'brackets' }}"
    assert f"{EVERY_KIND}, {{ arrayFormat: 'comma', skipNulls: true }}" in calls
    # they pass a string: the empty string too (what nothing gives, under each key)
    calls = sweep_args(["text", "opts"], ["parse('a=b')"], objects, [])
    assert calls[:2] == ["'', { arrayFormat: 'brackets' }", "'a=b', { arrayFormat: 'brackets' }"]
    # a key an example passes meets each key paired with it on that example's input (where
    # the two act together: `'foo[]'` with allowEmptyArrays and strictNullHandling), once
    shown = [
        "parse('a=b')",
        "parse('c')",
        "parse('d')",
        "parse('x[]', { skipNulls: true, limit: 1 })",
    ]
    calls = sweep_args(["text", "opts"], shown, objects, [])
    assert "'x[]', { arrayFormat: 'comma', skipNulls: true }" in calls
    assert "'x[]', { limit: Infinity }" in calls
    assert calls.count("'x[]', { skipNulls: true }") == 1
    assert not any(c.startswith("'x[]', { arrayFormat: 'brackets' }") for c in calls)
    # two examples' strings crossed at the separator both have, with either one's options:
    # where one key's syntax meets the other's (a comma-joined value under `a[]=`)
    shown = ["parse('a[]=b', { parseArrays: false })", "parse('a=b,c', { comma: true })"]
    calls = sweep_args(["text", "opts"], shown, objects, [])
    assert "'a[]=b,c', { comma: true }" in calls and "'a[]=b,c', { parseArrays: false }" in calls
    assert "'a[]=b,c', { depth: 1 }" not in calls  # options neither example shows
    # a table of more keys than are tried: the unexpected one and the pairs are kept all the same
    wide = (
        "var T = { a: 1, b: 1, c: 1, d: 1, e: 1, f: 1 };\n"
        "function g(x, opts) { if (opts.mode in T) {} if (opts.on) {} }"
    )
    objects = option_objects(parse(wide, "lib/g.js").root_node)
    assert "{ mode: 'other' }" in objects and "{ mode: 'a', on: true }" in objects


def test_surviving_mutants_become_targets_and_each_added_test_says_which_it_catches(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    """Exploration keeps the calls that run new code: ``percent`` has one path, and its kept
    calls are small numbers, which ``Math.min(…, 100)`` turned into ``101`` does not change.
    With ``--mutants raise`` the explored calls are made on each mutant and one that tells it
    apart is added (``percent(101)``), named with its mutant in the report; the suite then
    catches those mutants.  ``--mutants report`` keeps only the covering calls."""
    repo = make_package(tmp_path / "fmt", "vitest", {"lib/format.js": FORMAT_JS})
    fake_llm.on(lambda req: "I cannot help with that.")
    report = tmp_path / "report.json"
    common = ["--llm-base-url", fake_llm.url, "--llm-model", "fake-model", "--attempts", "1",
              "--rounds", "1", "--candidate-timeout", "20", "--mutation-budget", "0"]  # fmt: skip
    result = run_assay("cover", str(repo), *common, "--report", str(report), timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(report.read_text())
    told = data["explored"][0]["mutants"]
    assert told["caught_by_added"] >= 1 and told["added"], told
    assert told["run"] == told["mutants"] > 0, told
    written = (repo / "test" / "format.assay.test.js").read_text()
    for added in told["added"]:
        assert json.dumps(added["test"]) in written, added
        assert re.fullmatch(r"lib/format\.js line \d+: .+", added["mutant"]), added
    survivors = {f"{s['file']} {s['description']}" for s in data["mutation"]["survivors"]}
    for added in told["added"]:  # each is caught by the suite as written
        assert added["mutant"] not in survivors, (added, survivors)
    assert "mutants of lib/format.js" in result.stdout + result.stderr
    assert any("`100` → `101`" in added["mutant"] for added in told["added"]), told
    # the sweep's calls are in the suite: the refused type (its message matched whole: a
    # mutant that only adds to it is caught) and the percent unit
    assert 'toThrow(new TypeError("digits must be a number"))' in written, written
    assert "{ unit: 'percent' }" in written, written

    other = make_package(tmp_path / "fmt2", "vitest", {"lib/format.js": FORMAT_JS})
    report2 = tmp_path / "report2.json"
    result = run_assay("cover", str(other), *common, "--mutants", "report", "--report",
                       str(report2), timeout=900)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    plain = json.loads(report2.read_text())
    assert plain["explored"][0]["mutants"] is None
    assert plain["explored"][0]["calls_kept"] < data["explored"][0]["calls_kept"]
    assert plain["mutation"]["after"]["killed"] < data["mutation"]["after"]["killed"]


DIGITS_JS = """\
'use strict';

function digits(n) {
  var count = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    count++;
  }
  return count;
}

module.exports = { digits };
"""


def test_mutants_that_hang_are_left_out_and_cost_about_one_run_each(
    tmp_path: Path, assay_home: Path
) -> None:
    """Deleting ``n = Math.floor(n / 10)`` or turning ``/`` into ``*`` makes ``digits`` loop
    forever on the explored calls: those mutants are left out (the run that hung goes on after
    them in a new process), every other one is told apart, and the hangs cost seconds, not the
    step's whole time."""
    from agents.cover.js.differential import catching_calls
    from agents.cover.js.explore import explore_file
    from agents.cover.js.render import keep
    from agents.cover.js.targets import find_targets

    repo = make_package(tmp_path / "digits", "vitest", {"lib/digits.js": DIGITS_JS})
    with sandboxed_runner(repo) as (project, runner, coverage):
        targets, _ = find_targets(repo, coverage, project.sources)
        found = explore_file(runner, project, "lib/digits.js", targets, seconds=60)
        kept = keep(found.observed)[:1]  # one call kept: the others are there to be added
        started = time.monotonic()
        told = catching_calls(runner, project, repo, "lib/digits.js", found.observed, kept,
                              seconds=300)  # fmt: skip
        elapsed = time.monotonic() - started
    assert told.left_out >= 2, told.record()  # the two that loop forever, at least
    assert told.run + told.left_out == told.mutants, told.record()
    assert told.caught_by_added >= 1 and told.error == "", told.record()
    assert elapsed < 120, (elapsed, told.record())


def test_each_mutant_meets_the_kept_calls_first_and_the_others_only_if_they_miss_it(
    tmp_path: Path, assay_home: Path
) -> None:
    """Most mutants are caught by a call that is kept anyway: those are not run through the
    other calls (what made a file of many explored calls reach few of its mutants in its
    time); the ones the kept calls let live are, so a call can still be added for them."""
    from agents.cover.js.differential import Differential, _outcomes
    from agents.cover.js.explore import explore_file
    from agents.cover.js.mutants import all_mutants
    from agents.cover.js.render import keep, renderable
    from agents.cover.js.targets import find_targets

    repo = make_package(tmp_path / "fmt", "vitest", {"lib/format.js": FORMAT_JS})
    with sandboxed_runner(repo) as (project, runner, coverage):
        targets, _ = find_targets(repo, coverage, project.sources)
        found = explore_file(runner, project, "lib/format.js", targets, seconds=60)
        kept = {o.call.id for o in keep(found.observed)}
        usable = [o.call for o in found.observed if renderable(o)]
        mutants = all_mutants(FORMAT_JS, "lib/format.js", [(1, FORMAT_JS.count("\n") + 1)])
        differ = _outcomes(runner, project, "lib/format.js", mutants, usable, 120,
                           Differential("lib/format.js"), kept)  # fmt: skip
    assert len(differ) == len(mutants), differ  # none hangs here: each was run
    by_kept = [ids for ids in differ.values() if ids & kept]
    assert by_kept and all(ids <= kept for ids in by_kept), differ
    assert any(ids and not ids & kept for ids in differ.values()), differ  # others still tried
