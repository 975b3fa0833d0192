"""Exploration of a JS/TS module, no model: call its exports and record what they do.

:func:`explore_file` writes one generated test file that the project's own runner runs in the
sandbox (so TypeScript and ESM transforms are the project's own).  It imports the module, calls
each target with arguments from its JSDoc ``@example`` calls, the literals it uses and simple
values (methods on an instance made with the simplest constructor arguments that work), twice
each, and appends one JSON record per call to a file in the run's output directory: the value
returned (as a tagged tree: ``["n", 1]``, ``["s", "a"]``, ``["a", [...]]``, ``["o", [[k, v]]]``,
``["r", "ab", 600]`` for a long string of one short one repeated,
``["u"]`` for undefined, ``["x"]`` for what cannot be written back as a literal) or the error
thrown, and for a method the instance's state afterwards.  A call whose two results differ is
not kept; one that never ended (the run timed out) is left out of a second run.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from agents.cover.js.option_sweep import sweep_args
from agents.cover.js.project import JsProject
from agents.cover.js.runner import JsRunner
from agents.cover.js.targets import JsTarget
from agents.cover.js.templates import tag_templates
from agents.cover.js.values import literal

# Values made by statements, named in the argument list (``stringify(cyclic)``) and declared
# before the call: an object holding itself (what a serializer or a deep copy must detect)
MADE = {"cyclic": ("const cyclic = { a: 1 };", "cyclic.self = cyclic;")}
SIMPLE = ["0", "1", "-1", "2", "10", "''", "'a'", "'hello world'", "true", "false", "null",
          "undefined", "[]", "[1, 2, 3]", "{}", "0.5",
          # text with lines, indentation and padding: what text-processing code branches on
          "'\\n  first\\n    second\\n'", "'a\\r\\n\\tb'", "'  padded  '",
          # characters of two, three and four bytes in UTF-8; a key every object already has;
          # a symbol, a regex, a function, a date, an object holding itself
          "'é中😀'", "'toString'",
          "Symbol('a')", "/a/", "(value) => value", "new Date(0)", *MADE]  # fmt: skip
# Values with keys and items: each also in every position of one call (what merging and
# comparing code branches on: the same key on both sides, objects inside arrays, nesting)
NESTED = ["{ a: 1 }", "[{ a: 1 }]", "{ a: { b: [1] } }"]
# One value of each kind, paired in the first two positions of a function of several
KINDS = ["1", "'a'", "null", "[1]", "{ a: 1 }", "[{ a: 1 }]"]
SMALL = ["-1", "0", "1", "2", "3", "10"]
SAME_VALUE_LISTS = 6
CALLS_PER_TARGET = 40  # at least; a file with few targets shares FILE_CALLS among them
FILE_CALLS = 400
CHAINED = 4  # calls per target on earlier results
RECORDS = "explore.jsonl"

# The recorder (what a call did, as data) and the test that runs every planned call twice and
# appends what it did (see the module).
RECORDER = Path(__file__).with_name("recorder.js").read_text(encoding="utf-8")
EXPLORE_RUN = Path(__file__).with_name("explore_run.js").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Call:
    id: int
    target: JsTarget
    args: str  # the argument list as source text ("1, 'a'")
    ctor: str = ""  # a method's constructor arguments
    example: bool = False  # from a JSDoc @example
    template: str = ""  # a template tag's call: the template literal, backticks included


def made_for(args: str) -> list[str]:
    """The statements declaring the :data:`MADE` values an argument list names."""
    return [line for name, lines in MADE.items() if re.search(rf"\b{name}\b", args)
            for line in lines]  # fmt: skip


def written(callee: str, call: Call) -> str:
    """How ``call`` of ``callee`` reads in source: ``f(1, 'a')``, or a tag's ``f`…```."""
    return f"{callee}{call.template}" if call.template else f"{callee}({call.args})"


@dataclass
class Observed:
    call: Call
    ok: list[object] | None = None
    threw: dict[str, str] | None = None
    state: list[object] | None = None
    is_async: bool = False
    blocks: list[list[object]] | None = None  # [function range, [ranges inside it not run]]


@dataclass
class Exploration:
    observed: list[Observed] = field(default_factory=list)
    tried: int = 0
    hung: list[str] = field(default_factory=list)
    error: str = ""


def _pool(target: JsTarget) -> list[str]:
    values: list[str] = []
    literals = target.export.literals + [
        lit for m in target.export.methods if m.name == target.method for lit in m.literals
    ]
    for lit in literals:
        values.append(lit)
        if lit.lstrip("-").isdigit():
            values += [str(int(lit) + 1), str(int(lit) - 1)]
    for value in SIMPLE + NESTED + target.export.module_values:
        if value not in values:
            values.append(value)
    return values


def plan_calls(targets: Sequence[JsTarget], seed: int = 0) -> list[Call]:
    """Calls for each target: its @example calls first, then argument lists from its pool,
    then (``CHAINED`` per target) calls whose first argument is what an earlier call of
    another target returned (``__r(id)``, written back as that value's literal), then each
    value of its pool as the only argument (the defaults of the others: where a function of
    several parameters is meant to be called with one) and each pair of :data:`KINDS` as
    the first two (where merging code branches: an array into an object…), then each key
    of an options parameter on its own (:mod:`agents.cover.js.option_sweep`).  A function an
    entry module passes on (:mod:`agents.cover.js.reexports`) gets its examples only, when it
    has some."""
    rng = random.Random(seed)
    calls = _planned(targets, rng)
    earlier = list(calls)
    targets = [jt for jt in targets if not jt.export.reexported_from]  # their examples only
    for jt in targets:
        if not jt.params:
            continue
        others = [c for c in earlier if c.target is not jt and c.target.method is None]
        for source in rng.sample(others, min(CHAINED, len(others))):
            rest = ", ".join(rng.choice(SMALL) for _ in jt.params[1:])
            args = ", ".join(filter(None, [f"__r({source.id})", rest]))
            calls.append(Call(len(calls), jt, args, _ctor(jt)))
    for jt in targets:  # each value of the pool first, the others left out; pairs of kinds
        if len(jt.params) > 1:
            ctor = _ctor(jt)
            lists = _pool(jt) + [f"{a}, {b}" for a in KINDS for b in KINDS]
            calls += [Call(len(calls) + i, jt, args, ctor) for i, args in enumerate(lists)]
    for jt in targets:  # each key of an options parameter on its own (option_sweep)
        if jt.method is None:
            fallback = [v for v in jt.export.module_values + SIMPLE if v[:1] in "'\""]
            for args in sweep_args(jt.params, jt.export.examples, jt.export.option_objects,
                                   fallback):  # fmt: skip
                calls.append(Call(len(calls), jt, args))
    return calls


def _ctor(jt: JsTarget) -> str:
    """A method's constructor arguments (the simplest: a 1 each); "" for a function."""
    if jt.method is None:
        return ""
    params = next((m.params for m in jt.export.methods if m.name == "constructor"), [])
    return ", ".join(["1"] * len(params))


def _planned(targets: Sequence[JsTarget], rng: random.Random) -> list[Call]:
    calls: list[Call] = []
    per_target = max(CALLS_PER_TARGET, FILE_CALLS // max(1, len(targets)))
    for jt in targets:
        args_seen: set[str] = set()
        lists: list[str] = []
        examples: set[str] = set()
        for example in jt.export.examples if jt.method is None else []:
            inner = example[example.index("(") + 1 : -1]
            lists.append(inner)
            examples.add(inner)
        pool = _pool(jt)
        fixed = [p for p in jt.params if not p.startswith("...")]
        rest = len(fixed) < len(jt.params)  # `...values`: none to two of them
        if not jt.params:
            lists.append("")
        elif jt.export.reexported_from and lists:
            pass  # an entry's: how its users are shown to call it; the rest is its module's
        else:
            for value in pool[:SAME_VALUE_LISTS] + NESTED:
                lists.append(", ".join([value] * max(1, len(fixed))))
            while len(lists) < per_target * 3:  # small numbers first, then anything
                choices = SMALL if len(lists) < CALLS_PER_TARGET // 2 else pool
                arity = len(fixed) + (rng.randint(0, 2) if rest else 0)
                lists.append(", ".join(rng.choice(choices) for _ in range(arity)))
        ctor = _ctor(jt)
        if jt.method is None and jt.export.tag:  # tagged first: how a tag is meant to be used
            for template in tag_templates(rng, per_target // 2):
                calls.append(Call(len(calls), jt, "", template=template))
        for args in lists:
            if args in args_seen:
                continue
            args_seen.add(args)
            calls.append(Call(len(calls), jt, args, ctor, example=args in examples))
            if sum(1 for c in calls if c.target is jt) >= per_target:
                break
    return calls


def call_source(call: Call) -> str:
    """``call`` as a function of ``(box, __mod)``: the module it calls is an argument, so the
    same plan runs on the module under test and on its mutants."""
    jt = call.target
    name = f"__mod[{json.dumps(jt.export.name)}]"
    if jt.export.name == "default":
        name = "(__mod.default ?? __mod)"
    made = " ".join(made_for(call.args))
    if jt.method is None:
        return f"(box, __mod) => {{ {made} return {written(name, call)}; }}"
    if jt.method == "constructor":
        return f"(box, __mod) => {{ {made} box.self = new {name}({call.args}); return undefined; }}"
    method = next((m for m in jt.export.methods if m.name == jt.method), None)
    if method is not None and method.is_static:
        return f"(box, __mod) => {{ {made} return {name}[{json.dumps(jt.method)}]({call.args}); }}"
    return (
        f"(box, __mod) => {{ {made} const o = new {name}({call.ctor}); box.self = o; "
        f"return o[{json.dumps(jt.method)}]({call.args}); }}"
    )


def explorer_source(
    project: JsProject, test_path: str, source: str, calls: Sequence[Call], run: str = EXPLORE_RUN
) -> str:
    """The generated test file that makes ``calls`` of ``source``'s exports: the recorder, then
    ``run`` (the test that drives it; exploration's by default)."""
    spec = json.dumps(project.import_path(test_path, source))
    lines = ["// @ts-nocheck", "/* eslint-disable */"]
    if project.import_style == "cjs":
        lines += [f"const __mod = require({spec});", 'const __fs = require("fs");']
        lines += ['const __inspector = require("inspector");']
    else:
        lines += [f"import * as __mod from {spec};", 'import * as __fs from "node:fs";']
        lines += ['import * as __inspector from "node:inspector";']
    lines.append(f"const __src = {json.dumps(source)};")
    if project.runner == "vitest":
        lines.append('import { test as __test } from "vitest";')
    else:
        lines.append("const __test = test;")
    plan = ",\n".join(f"  [{c.id}, {call_source(c)}]" for c in calls)
    lines.append(f"const __plan = [\n{plan}\n];")
    return "\n".join(lines) + "\n" + RECORDER + run


def _read(data: bytes, calls: Sequence[Call]) -> tuple[list[Observed], set[int]]:
    by_id = {c.id: c for c in calls}
    started: set[int] = set()
    done: dict[int, Observed] = {}
    for line in data.decode(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        call = by_id.get(record.get("id"))
        if call is None:
            continue
        if record.get("start"):
            started.add(call.id)
            continue
        done[call.id] = Observed(
            call, record.get("ok"), record.get("threw"), record.get("state"),
            bool(record.get("async")), record.get("blocks"),
        ) if record.get("stable") else Observed(call, ["x"])  # fmt: skip
    return _chained(done), started - set(done)


def _chained(done: dict[int, Observed]) -> list[Observed]:
    """Calls on earlier results with ``__r(id)`` replaced by the literal of what call ``id``
    returned; a call on a result that cannot be written as a literal cannot be kept."""
    out = []
    for o in done.values():
        args = o.call.args
        for found in set(re.findall(r"__r\((\d+)\)", args)):
            earlier = done.get(int(found))
            text = literal(earlier.ok) if earlier is not None and earlier.ok else None
            if text is None:
                o = Observed(o.call, ["x"])
                break
            args = args.replace(f"__r({found})", text)
        out.append(Observed(replace(o.call, args=args), o.ok, o.threw, o.state, o.is_async,
                            o.blocks) if args != o.call.args else o)  # fmt: skip
    return out


def explore_file(
    runner: JsRunner,
    project: JsProject,
    source: str,
    targets: Sequence[JsTarget],
    *,
    seconds: float,
    seed: int = 0,
) -> Exploration:
    """Run the calls planned for ``targets`` of ``source`` (a second time without one that
    never ended) and return what each did."""
    calls = plan_calls(targets, seed)
    found = Exploration(tried=len(calls))
    test_path = project.test_path_for(source).replace(".assay.", ".assay-explore.")
    for _ in range(2):
        if not calls:
            break
        code = explorer_source(project, test_path, source, calls)
        run = runner.run(
            [test_path], files={test_path: code}, coverage=False, timeout=seconds,
            env={"ASSAY_EXPLORE_OUT": f"{{out}}/{RECORDS}"},
        )  # fmt: skip
        observed, hung = _read(run.files.get(RECORDS, b""), calls)
        found.observed += observed
        if not hung:
            if not observed and run.error:
                found.error = run.failure(600)
            break
        found.hung += [f"{c.target.target.qualname}({c.args})" for c in calls if c.id in hung]
        done = {o.call.id for o in observed}
        calls = [c for c in calls if c.id not in done and c.id not in hung]
    return found
