"""The compact context a model needs to test one target, and nothing more.

The embedded model reads ~50 tokens/s, so every line counts: the module's imports, the
module-level names the target uses, the class header (fields and ``__init__``) for a method, the
target's source with line numbers and the missed lines and branches marked, the signatures of the
module's own functions it calls, and the imports and fixtures of an existing test file as a
style example.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from agents.cover.targets import Target

MISSED = "# NOT COVERED"
MAX_TARGET_LINES = 80
MAX_STYLE_LINES = 25


@dataclass(frozen=True)
class TargetContext:
    code: str  # the numbered, marked excerpt the prompt shows
    header: str  # the test file's first lines, written by us: imports of the code under test
    missed_summary: str  # "lines 14, 17 and the branch 12->15"
    style: str  # imports and fixtures of an existing test file ("" if none)


def _segment(lines: list[str], node: ast.AST) -> list[str]:
    start = getattr(node, "lineno", 1)
    decorators = getattr(node, "decorator_list", [])
    start = min([start, *(d.lineno for d in decorators)])
    end = getattr(node, "end_lineno", start) or start
    return lines[start - 1 : end]


def _signature(lines: list[str], fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """``def name(args) -> ret:`` as written (multi-line signatures joined), plus ``...``."""
    body_start = fn.body[0].lineno
    first_doc = ast.get_docstring(fn)
    text = " ".join(line.strip() for line in lines[fn.lineno - 1 : body_start - 1]) or (
        lines[fn.lineno - 1].strip()
    )
    if not text.endswith(":"):
        text = text.split(":")[0] + ":" if text.count(":") else text
    doc = f'  """{first_doc.splitlines()[0]}"""' if first_doc else ""
    return f"{text}{doc} ..."


def _class_header(lines: list[str], cls: ast.ClassDef, target: str) -> list[str]:
    """Decorators, ``class`` line, fields and the ``__init__`` signature: how to build one."""
    out = [line for d in cls.decorator_list for line in _segment(lines, d)]
    out += lines[cls.lineno - 1 : cls.body[0].lineno - 1]
    for node in cls.body:
        if isinstance(node, ast.AnnAssign | ast.Assign):
            out += _segment(lines, node)
        elif isinstance(node, ast.FunctionDef) and node.name == "__init__" and target != "__init__":
            out.append("    " + _signature(lines, node))
    return out


def _names_used(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)
    }


def _marked(lines: list[str], start: int, end: int, target: Target) -> list[str]:
    missing = set(target.missing_lines)
    branch_notes: dict[int, list[str]] = {}
    for src, dst in target.missing_branches:
        note = "exit" if dst < 0 else f"line {dst}"
        branch_notes.setdefault(src, []).append(note)
    width = len(str(end))
    out = []
    for n in range(start, end + 1):
        text = lines[n - 1].rstrip()
        if n in missing:
            text += f"  {MISSED}"
        elif n in branch_notes:
            text += f"  # NOT COVERED: the jump to {' / '.join(branch_notes[n])}"
        out.append(f"{n:>{width}}| {text}")
    if len(out) > MAX_TARGET_LINES:  # keep the marked lines and their neighbours
        keep = {i for i, line in enumerate(out) if "NOT COVERED" in line}
        keep |= {i + d for i in keep for d in (-2, -1, 1, 2)} | {0, 1, 2}
        trimmed, gap = [], False
        for i, line in enumerate(out):
            if i in keep:
                trimmed.append(line)
                gap = False
            elif not gap:
                trimmed.append("   ...")
                gap = True
        out = trimmed
    return out


def summarize_missed(target: Target) -> str:
    """The missed lines and branches in words; a count when there are many (they are marked in
    the code the model sees anyway)."""
    n_lines, n_branches = len(target.missing_lines), len(target.missing_branches)
    if n_lines + n_branches > 8:
        return f"the {n_lines} lines and {n_branches} branches marked NOT COVERED"
    parts = []
    if target.missing_lines:
        parts.append("lines " + ", ".join(str(n) for n in target.missing_lines))
    if target.missing_branches:
        arcs = ", ".join(f"{a}->{'exit' if b < 0 else b}" for a, b in target.missing_branches)
        parts.append(f"branches {arcs}")
    return " and ".join(parts)


def style_example(test_file: Path | None) -> str:
    """Imports and fixtures of an existing test file, to copy its style (not its tests)."""
    if test_file is None:
        return ""
    try:
        text = test_file.read_text(encoding="utf-8")
        tree = ast.parse(text)
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return ""
    lines = text.splitlines()
    out: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom) or (
            isinstance(node, ast.FunctionDef)
            and any("fixture" in ast.unparse(d) for d in node.decorator_list)
        ):
            out += _segment(lines, node)
    return "\n".join(out[:MAX_STYLE_LINES])


def build_context(repo: Path, target: Target, style_file: Path | None = None) -> TargetContext:
    source = (repo / target.path).read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    fn_node: ast.AST | None = None
    cls_node: ast.ClassDef | None = None
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == target.class_name:
            cls_node = cls_node or node
        if (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name == target.name
            and node.lineno <= target.end
            and (node.end_lineno or node.lineno) >= target.start
        ):
            fn_node = node
    used = _names_used(fn_node) if fn_node is not None else set()

    parts: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            parts += _segment(lines, node)
    constants = []
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = {t.id for t in targets if isinstance(t, ast.Name)}
            if names & used:
                constants += _segment(lines, node)[:6]
    if constants:
        parts += ["", *constants]
    helpers = []
    for node in tree.body:
        if (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name in used
            and node.name != target.name
        ):
            helpers.append(_signature(lines, node))
        if isinstance(node, ast.ClassDef) and node.name in used and node.name != target.class_name:
            helpers.append(lines[node.lineno - 1].strip() + " ...")
    if helpers:
        parts += ["", *helpers]
    parts.append("")
    if cls_node is not None:
        parts += _class_header(lines, cls_node, target.name)
        parts.append("    ...")
    parts += _marked(lines, target.start, target.end, target)

    header_lines = ["import pytest", ""]
    header_lines[1:1] = [f"from {target.module} import {target.import_name}"]
    return TargetContext(
        code="\n".join(parts).strip("\n"),
        header="\n".join(header_lines).rstrip() + "\n",
        missed_summary=summarize_missed(target),
        style=style_example(style_file),
    )
