"""Exploration: tests found without a model, by calling the code with generated arguments.

Before any model call, ``assay cover`` runs :mod:`agents.cover.explore_driver` in the sandbox on
each file with targets: it calls the file's functions, constructors and methods with values from
the file's own literals, its docstring examples (``>>> is_email('a@b.com')``), simple defaults and
what earlier calls returned, and keeps each call that ran a line or branch the tests missed.
:func:`render_tests` turns the kept calls into a test module that checks what each call returned
or raised, as observed; the module then goes through the same gates as a model's candidate
(passes alone and repeatedly, with the suite, adds coverage, kills a mutant).  The model then
only works on what exploration could not reach, where reading the code matters.

The driver runs with the guard (:mod:`agents.cover.guard`): a call that touched the host outside
the run is not written as a test, nor is one whose value looks like a credential
(:func:`agents.cover.oracle.usable_value`); calls that would end the exploration are skipped.
"""

from __future__ import annotations

import ast
import builtins
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agents.cover.explore_render import render_tests as render_tests
from agents.cover.oracle import GUARD_FILE, GUARD_SOURCE
from agents.cover.targets import Target
from flows import Sandbox

DRIVER = Path(__file__).with_name("explore_driver.py")
DRIVER_FILE = "_assay_explore_driver.py"
# What the driver imports, shipped beside it under these names.
HELPERS = {
    "_assay_explore_facts.py": Path(__file__).with_name("explore_facts.py"),
    "_assay_explore_boundaries.py": Path(__file__).with_name("explore_boundaries.py"),
    "_assay_explore_shrink.py": Path(__file__).with_name("explore_shrink.py"),
    "_assay_explore_differential.py": Path(__file__).with_name("explore_differential.py"),
    "_assay_explore_values.py": Path(__file__).with_name("explore_values.py"),
    "_assay_explore_cli.py": Path(__file__).with_name("explore_cli.py"),
    "_assay_explore_stdlib.py": Path(__file__).with_name("explore_stdlib.py"),
    "_assay_explore_clock.py": Path(__file__).with_name("explore_clock.py"),
}
SPEC_FILE = "_assay_explore_spec.json"
MARK = "ASSAY_EXPLORED "
MAX_LITERAL = 60  # characters of a string literal worth trying as an argument
MAX_LITERALS = 200
MAX_EXAMPLES = 60
MAX_PACKAGE_LITERALS = 40  # from the examples of the modules of its package a file imports
EXPLORED_QUALNAME = "<explored>"
_EXAMPLE = re.compile(r"^\s*>>>\s?(.*)$", re.M)
_BUILTINS = frozenset(dir(builtins))
_WARNS = re.compile(r"\bwarn(?:_explicit)?\s*\(")  # warnings.warn(…), warn_explicit(…)


@dataclass
class Exploration:
    """What one exploration of a file found."""

    path: str
    calls: list[dict] = field(default_factory=list)  # kept calls, as the driver printed them
    tries: int = 0
    seconds: float = 0.0
    caught: int = 0  # mutants beyond the sample a known call already tells apart (not hunted)
    done: bool = False  # the driver printed its final summary
    error: str = ""  # why the driver stopped early (it could not import the module, …)


def literals_of(source: str) -> tuple[list[str], list[str]]:
    """(argument literals, example calls) of a module's source: its short string and number
    constants (docstrings aside), and the calls shown in its docstrings' ``>>>`` examples."""
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    literals: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or id(node) in docstrings:
            continue
        value = node.value
        short_text = isinstance(value, str) and len(value) <= MAX_LITERAL
        if short_text or (isinstance(value, int | float) and not isinstance(value, bool)):
            literals.append(repr(value))
    examples: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or id(node) not in docstrings:
            continue
        for match in _EXAMPLE.finditer(str(node.value)):
            example = _example_call(match.group(1))
            if example is not None:
                examples.append(example)
                literals += _constants(example)
    return _unique(literals)[:MAX_LITERALS], _unique(examples)[:MAX_EXAMPLES]


def _example_call(line: str) -> str | None:
    """A docstring example line's call (``f('x') # returns true`` → ``f('x')``), if it is one."""
    text = line.strip()
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        return None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute):
        return ast.get_source_segment(text, node)
    return None


def _constants(expr: str) -> list[str]:
    tree = ast.parse(expr, mode="eval")
    return [
        repr(n.value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str | int | float)
    ]


def _unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


def package_literals(repo: Path, target: Target, source: str) -> list[str]:
    """The constants of the docstring examples of the modules of its own package that
    ``source`` imports from: a CLI module that does ``from .version import Version`` takes
    ``'1.2.3'`` from ``version.py``'s examples, values no literal of its own shows."""
    found: list[str] = []
    for path in _imported_files(repo, target, source):
        try:
            _, examples = literals_of(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
            continue
        for example in examples:
            found += _constants(example)
    return _unique(found)[:MAX_PACKAGE_LITERALS]


def _imported_files(repo: Path, target: Target, source: str) -> list[Path]:
    """The files of ``target``'s package that ``source`` imports from (``from .x import``,
    ``from pkg.x import``), itself aside."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    own = (repo / target.path).resolve()
    root = repo / target.import_root if target.import_root else repo
    top = target.module.split(".")[0]
    files: list[Path] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = own.parent
            for _ in range(node.level - 1):
                base = base.parent
        elif node.module and node.module.split(".")[0] == top:
            base = root
        else:
            continue
        dotted = node.module.split(".") if node.module else []
        names = [[*dotted]] if node.module else [[alias.name] for alias in node.names]
        for parts in names:
            place = base.joinpath(*parts)
            for file in (place.with_name(place.name + ".py"), place / "__init__.py"):
                if file.is_file() and file.resolve() != own and file not in files:
                    files.append(file)
    return files


def spec_for(source: str, targets: Sequence[Target], seconds: float, seed: int = 0) -> dict:
    """The driver's input for one file: its module, targets, goals and seed values."""
    literals, examples = literals_of(source)
    first = targets[0]
    return {
        "module": first.module,
        "targets": [{"qualname": t.qualname, "start": t.start, "end": t.end} for t in targets],
        "lines": sorted({n for t in targets for n in t.missing_lines}),
        "arcs": sorted({tuple(a) for t in targets for a in t.missing_branches}),
        "literals": literals,
        "examples": examples,
        "seconds": seconds,
        "seed": seed,
        "warns": bool(_WARNS.search(source)),  # it warns on purpose: calls' warnings are checked
    }


def _drive(sandbox: Sandbox, spec: dict, pythonpath: str, seconds: float, path: str) -> Exploration:
    run = sandbox.run(
        [str(sandbox.python), DRIVER_FILE, SPEC_FILE],
        extra_files={
            DRIVER_FILE: DRIVER.read_text(encoding="utf-8"),
            **{name: path.read_text(encoding="utf-8") for name, path in HELPERS.items()},
            SPEC_FILE: json.dumps(spec),
            GUARD_FILE: GUARD_SOURCE,
        },
        env={"PYTHONPATH": pythonpath} if pythonpath else None,
        timeout=seconds + 30,
    )
    found = read_output(run.output, path)
    if run.broken:
        found.error = run.broken
    elif not found.done and run.timed_out:
        found.error = f"cut at the time limit ({seconds + 30:.0f} s) after {found.tries} calls"
    elif not found.done:
        tail = [t for t in run.output.strip().splitlines() if t.strip()][-1:]
        found.error = tail[0][:300] if tail else f"exit code {run.returncode}"
    return found


def read_output(output: str, path: str) -> Exploration:
    """What the driver printed: its kept calls, and its last summary (the final one, or the
    last progress line of a driver cut before it)."""
    found = Exploration(path)
    for line in output.splitlines():
        if not line.startswith(MARK):
            continue
        try:
            item = json.loads(line[len(MARK) :])
        except ValueError:
            continue
        if "tries" in item:
            found.done = found.done or bool(item.get("done"))
            found.tries, found.seconds = int(item["tries"]), float(item["seconds"])
            found.caught = int(item.get("caught", 0))
        elif isinstance(item.get("expr"), str):
            found.calls.append(item)
    return found


def explore(
    sandbox: Sandbox,
    repo: Path,
    targets: Sequence[Target],
    *,
    seconds: float,
    pythonpath: str,
    seed: int = 0,
) -> Exploration:
    """Run the driver on the file of ``targets`` (all of one file) for up to ``seconds``."""
    path = targets[0].path
    source = (repo / path).read_text(encoding="utf-8")
    spec = spec_for(source, targets, seconds, seed)
    spec["package_literals"] = package_literals(repo, targets[0], source)
    return _drive(sandbox, spec, pythonpath, seconds, path)


def explore_mutants(
    sandbox: Sandbox,
    repo: Path,
    targets: Sequence[Target],
    mutants: Sequence[tuple[str, int, str]],
    *,
    seconds: float,
    pythonpath: str,
    seed: int = 0,
    beyond: Sequence[tuple[str, int, str]] = (),
    known: Sequence[str] = (),
) -> Exploration:
    """Differential exploration of one file: for each mutant ``(id, line, mutated source)``
    a call whose outcome differs between the original and the mutant, if the driver finds one
    in its share of ``seconds``; each kept call says which mutant it ``kills``.

    ``beyond``: mutants the sample left out, searched after the others in a smaller share of
    the time; one that a call of the suite's explored tests (``known``) already tells apart is
    not searched (:attr:`Exploration.caught` counts them)."""
    path = targets[0].path
    source = (repo / path).read_text(encoding="utf-8")
    spec = spec_for(source, targets, seconds, seed)
    spec["package_literals"] = package_literals(repo, targets[0], source)
    spec["mutants"] = [{"id": i, "line": line, "source": text} for i, line, text in mutants]
    spec["mutants"] += [
        {"id": i, "line": line, "source": text, "beyond": True} for i, line, text in beyond
    ]
    spec["known"] = list(known)
    return _drive(sandbox, spec, pythonpath, seconds, path)


def file_target(targets: Sequence[Target], source: str) -> Target:
    """One target standing for every target of a file: the gates judge an exploration's tests
    against the whole file (the lines and branches all its targets miss)."""
    first = targets[0]
    return Target(
        path=first.path,
        module=first.module,
        import_root=first.import_root,
        qualname=EXPLORED_QUALNAME,
        start=1,
        end=max(1, len(source.splitlines())),
        missing_lines=tuple(sorted({n for t in targets for n in t.missing_lines})),
        missing_branches=tuple(sorted({a for t in targets for a in t.missing_branches})),
        statements=sum(t.statements for t in targets),
    )
