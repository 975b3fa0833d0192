"""Explored calls written back as tests that assert what the code was seen to do.

:func:`keep` picks, per target, the calls with distinct outcomes (different values or errors)
whose results can be written as literals; :func:`render_tests` writes them as one test file in
the runner's style: ``expect(f(1, 2)).toEqual(3)``, ``expect(() => f(-1)).toThrow(new
RangeError("…"))`` (the whole message), ``await expect(f()).resolves.toEqual(…)``, and for a
method the instance's state afterwards (``toMatchObject``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from agents.cover.js.explore import Observed, made_for, written
from agents.cover.js.project import JsProject
from agents.cover.js.targets import JsTarget
from agents.cover.js.templates import FIXED
from agents.cover.js.values import _object, js_string, kind_of, literal, shows_source

BUILTIN_ERRORS = frozenset({"Error", "TypeError", "RangeError", "SyntaxError", "ReferenceError",
                            "EvalError", "URIError"})  # fmt: skip
KEEP_PER_TARGET = 5  # at least; a file with few targets shares KEEP_PER_FILE among them
KEEP_PER_FILE = 24
KEEP_BEYOND_CAP = 96  # a file's calls past those caps, each running blocks no other call ran
MISUSE = re.compile(
    r"is not a function|Cannot read propert|is not iterable|is not a constructor|"
    r"Cannot convert|Cannot destructure|is not defined|Cannot set propert"
)


def _state(observed: Observed) -> str | None:
    tag = observed.state
    if isinstance(tag, list) and len(tag) == 3 and tag[0] == "i" and isinstance(tag[2], list):
        return _object(tag[2])
    return None


def _signature(o: Observed) -> str:
    return json.dumps([o.ok, o.threw, o.state, o.is_async], sort_keys=True)


def _kind(o: Observed) -> str:
    """What kind of outcome a call had: the error it threw, or the type of what it returned."""
    if o.threw is not None:
        return f"throws {o.threw.get('name')}"
    return kind_of(o.ok)


def misuse(o: Observed) -> bool:
    """An error of calling the code with arguments of the wrong kind (``x.map is not a
    function``), not one the code throws on purpose (its message is none of the code's)."""
    threw = o.threw or {}
    message = threw.get("message", "")
    if threw.get("name") not in ("TypeError", "ReferenceError") or not MISUSE.search(message):
        return False
    literals = o.call.target.export.literals
    return not any(message in lit for lit in literals)


def renderable(o: Observed) -> bool:
    if o.threw is not None:
        return not o.threw.get("message", "").startswith("__assay_slow") and not misuse(o)
    if shows_source([o.ok, o.state]):
        return False
    if o.call.target.method is not None and o.state is not None:
        return _state(o) is not None and (o.ok is None or literal(o.ok) is not None)
    return literal(o.ok) is not None


def _items(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


def _units(o: Observed, universe: dict[str, set[str]]) -> set[str]:
    """The blocks of the module a call ran (see :mod:`agents.cover.js.explore`)."""
    units: set[str] = set()
    for fn, idle in o.blocks or []:
        fn_key = str(fn)
        idle_ranges = [tuple(map(int, str(r).split(":"))) for r in _items(idle)]
        units.add(fn_key)
        for block in universe.get(fn_key, ()):
            a, b = map(int, block.split(":"))
            if not any(x <= a and b <= y for x, y in idle_ranges):
                units.add(f"{fn_key}/{block}")
    return units


def _plainness(o: Observed) -> tuple[int, int, int]:
    """Examples first, then calls with simple arguments (short, one kind of value); a tag's
    templates: the shapes a person tries first (each made to show one thing), then shorter."""
    args = o.call.args
    if o.call.template:
        return (1, 0 if o.call.template in FIXED else 1, len(o.call.template))
    kinds = {("s" if "'" in a or '"' in a else "n") for a in args.split(",") if a.strip()}
    return (0 if o.call.example else 1 + len(kinds), 0, len(args))


@dataclass
class _Tally:
    """What ``keep`` kept of one target so far."""

    outcomes: set[str] = field(default_factory=set)
    kinds: set[str] = field(default_factory=set)  # the kinds of outcome of the first pass
    count: int = 0
    twice: set[frozenset[str]] = field(default_factory=set)  # paths shown with a second value


def keep(observed: Sequence[Observed]) -> list[Observed]:
    """Per target, the calls that ran blocks of the module no earlier call ran (examples and
    simple arguments first; where the runtime gave no blocks, the first call of each distinct
    outcome); then, once per path (the blocks a call ran), a call that shows an outcome none
    kept shows, of a kind they show: a second value on a path, what catches a wrong operator or
    pattern on it (not a new kind, such as a string out of a function of numbers called with
    strings).  At most ``KEEP_PER_TARGET`` per target, more when the file has few targets (a
    module that exports one big function needs more than five calls to show it), and past
    that up to ``KEEP_BEYOND_CAP`` a file that each run blocks no kept call ran."""
    usable = sorted((o for o in observed if renderable(o)), key=_plainness)
    targets = len({o.call.target.target.key for o in usable})
    cap = max(KEEP_PER_TARGET, KEEP_PER_FILE // max(1, targets))
    universe: dict[str, set[str]] = {}
    for o in usable:
        for fn, idle in o.blocks or []:
            universe.setdefault(str(fn), set()).update(str(r) for r in _items(idle))
    # no blocks: the runtime gave none, or the call ran none of the module's (a function an
    # entry passes on from another module)
    paths = {o.call.id: frozenset(_units(o, universe)) for o in usable if o.blocks}
    kept: dict[int, Observed] = {}
    covered: set[str] = set()
    tallies: dict[str, _Tally] = {}
    beyond = 0  # calls kept past a target's cap because they run blocks no other call ran
    for second in (False, True):
        for o in usable:
            tally = tallies.setdefault(o.call.target.target.key, _Tally())
            sig, path = _signature(o), paths.get(o.call.id)
            if o.call.id in kept:
                continue
            full = tally.count >= cap
            if second:
                path = path or frozenset()
                shown = path in tally.twice or sig in tally.outcomes
                if full or shown or _kind(o) not in tally.kinds:
                    continue
                tally.twice.add(path)
            else:
                if path is not None:
                    if not path - covered or (full and beyond >= KEEP_BEYOND_CAP):
                        continue
                    beyond += full
                    covered |= path
                elif full or sig in tally.outcomes:
                    continue
                tally.kinds.add(_kind(o))
            tally.count += 1
            tally.outcomes.add(sig)
            kept[o.call.id] = o
    return sorted(kept.values(), key=lambda o: o.call.id)


def header(project: JsProject, test_path: str, source: str, names: Sequence[str],
           default: str | None = None) -> str:  # fmt: skip
    """The lines a test of ``source`` starts with: the runner's names, the code under test."""
    spec = json.dumps(project.import_path(test_path, source))
    lines = []
    if project.runner == "vitest":
        lines.append('import { describe, expect, it } from "vitest";')
    named = ", ".join(sorted(set(names)))
    if project.import_style == "cjs":
        if default:
            lines.append(f"const {default} = require({spec});")
        elif named:
            lines.append(f"const {{ {named} }} = require({spec});")
    else:
        both = ", ".join(filter(None, [default or "", f"{{ {named} }}" if named else ""]))
        if both:
            lines.append(f"import {both} from {spec};")
    return "\n".join(lines) + "\n"


def import_names(targets: Sequence[JsTarget]) -> tuple[list[str], str | None]:
    """(named imports, the default import's binding) for tests of ``targets``."""
    names, default = [], None
    for jt in targets:
        if jt.export.name == "default":
            default = jt.export.binding
        else:
            names.append(jt.export.name)
    return names, default


def _callee(jt: JsTarget) -> str:
    return jt.export.binding


def called(jt: JsTarget) -> str:
    """How a call of ``jt`` reads to a person: ``f``, ``new C``, ``C#m``."""
    name = _callee(jt)
    if jt.method is None:
        return name
    return f"new {name}" if jt.method == "constructor" else f"{name}#{jt.method}"


def case_title(o: Observed) -> str:
    """A kept call's test title (unique in its file: the call's id when it is long)."""
    jt, call = o.call.target, o.call
    name = _callee(jt)
    shown = written(called(jt), call).replace("\n", "\\n")
    if len(shown) > 60:
        shown = f"{name} call {call.id}"
    if o.threw is not None:
        return f"throws for {shown}"
    if jt.method == "constructor":
        return f"builds {shown}"
    value = literal(o.ok)
    if jt.method is not None and value == "undefined":
        return f"updates the instance for {shown}"
    return f"returns {value if value and len(value) < 30 else 'its result'} for {shown}"


def _throws(threw: dict[str, str]) -> str:
    """The matcher of an error: its whole message (``toThrow("…")`` would pass on any message
    that contains it), as an error of its class when that is a built-in one."""
    if not threw.get("message"):
        return "toThrow()"
    name = threw.get("name", "")
    made = name if name in BUILTIN_ERRORS else "Error"
    return f"toThrow(new {made}({js_string(threw['message'])}))"


def _case(o: Observed) -> str:
    jt, call = o.call.target, o.call
    name = _callee(jt)
    if jt.method is None:
        expr = written(name, call)
        setup = ""
    elif jt.method == "constructor":
        expr = f"new {name}({call.args})"
        setup = ""
    else:
        method = next((m for m in jt.export.methods if m.name == jt.method), None)
        static = method is not None and method.is_static
        setup = "" if static else f"    const subject = new {name}({call.ctor});\n"
        expr = f"{name}.{jt.method}({call.args})" if static else f"subject.{jt.method}({call.args})"
    setup = "".join(f"    {line}\n" for line in made_for(call.args)) + setup
    body: list[str] = []
    if o.threw is not None:
        matcher = _throws(o.threw)
        if o.is_async:
            body.append(f"    await expect({expr}).rejects.{matcher};")
        else:
            body.append(f"    expect(() => {expr}).{matcher};")
    elif jt.method == "constructor":
        body.append(f"    const made = {expr};")
        body.append(f"    expect(made).toMatchObject({_state(o)});")
    else:
        value = literal(o.ok)
        if o.is_async:
            body.append(f"    await expect({expr}).resolves.toEqual({value});")
        elif value == "undefined" and jt.method is not None:
            body.append(f"    {expr};")
        else:
            body.append(f"    expect({expr}).toEqual({value});")
        if jt.method is not None and _state(o) is not None and "subject" in expr:
            body.append(f"    expect(subject).toMatchObject({_state(o)});")
    asynchronous = "async " if o.is_async else ""
    title_text = js_string(case_title(o))
    return f"  it({title_text}, {asynchronous}() => {{\n{setup}" + "\n".join(body) + "\n  });"


def render_tests(project: JsProject, test_path: str, source: str, kept: Sequence[Observed]) -> str:
    """One test file asserting the kept calls, grouped by target."""
    targets = {o.call.target.target.key: o.call.target for o in kept}
    names, default = import_names(list(targets.values()))
    out = [header(project, test_path, source, names, default)]
    for key, jt in targets.items():
        cases = [_case(o) for o in kept if o.call.target.target.key == key]
        title = json.dumps(jt.target.qualname)
        out.append(f"describe({title}, () => {{\n" + "\n\n".join(cases) + "\n});\n")
    return "\n".join(out)
