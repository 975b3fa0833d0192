"""What the model sees of the code a test calls, for the readable rewrite
(:mod:`agents.cover.rewrite`): the function's signature and docstring, the class line for a
method, the module's short constants — never a body — and the function's defaults (a keyword
passed as its default is no change, :func:`agents.cover.rewrite.adds_nothing`)."""

from __future__ import annotations

import ast

MAX_CONTEXT = 900  # characters of the code shown


def _find(tree: ast.Module, qualname: str) -> tuple[ast.ClassDef | None, ast.AST | None]:
    scope: list[ast.stmt] = tree.body
    owner: ast.ClassDef | None = None
    node: ast.AST | None = None
    for part in qualname.split("."):
        kinds = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
        node = next((n for n in scope if isinstance(n, kinds) and n.name == part), None)
        if node is None:
            return owner, None
        if isinstance(node, ast.ClassDef):
            owner, scope = node, node.body
    return (owner if owner is not node else None), node


def _head(lines: list[str], node: ast.AST) -> str:
    """A definition's signature and docstring, its body elided."""
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    body = node.body[0]
    has_doc = isinstance(body, ast.Expr) and isinstance(body.value, ast.Constant)
    end = (body.end_lineno or body.lineno) if has_doc else body.lineno - 1
    head = lines[first - 1 : max(end, node.lineno)]
    indent = " " * (body.col_offset if hasattr(body, "col_offset") else 4)
    return "\n".join([*head, indent + "..."])


def rewrite_context(source: str, qualname: str, max_chars: int = MAX_CONTEXT) -> str:
    """What the model sees of ``qualname`` in ``source``: the module's short constants, the
    class line (and its ``__init__``'s signature) for a method, the function's signature and
    docstring — no body."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return ""
    lines = source.splitlines()
    owner, node = _find(tree, qualname)
    if node is None:
        return ""
    parts = [
        ast.get_source_segment(source, n) or ""
        for n in tree.body
        if isinstance(n, ast.Assign)
        and all(isinstance(t, ast.Name) and t.id.isupper() for t in n.targets)
        and isinstance(n.value, ast.Constant)
    ][:3]
    if owner is not None:
        doc = owner.body[0]
        has_doc = isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant)
        end = (doc.end_lineno or doc.lineno) if has_doc else owner.lineno
        parts.append("\n".join(lines[owner.lineno - 1 : end]))
        init = next((n for n in owner.body if isinstance(n, ast.FunctionDef)
                     and n.name == "__init__" and n is not node), None)  # fmt: skip
        if init is not None:
            parts.append(_head(lines, init))
    parts.append(_head(lines, node))
    text = "\n".join(p for p in parts if p)
    return text if len(text) <= max_chars else text[: max_chars - 4].rstrip() + "\n..."


def defaults_of(source: str, qualname: str) -> dict[str, str]:
    """The defaults of function ``qualname`` in ``source``: a parameter's name → its source."""
    try:
        _, node = _find(ast.parse(source), qualname)
    except SyntaxError:
        return {}
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return {}
    args = node.args
    positional = [*args.posonlyargs, *args.args][-len(args.defaults) :] if args.defaults else []
    pairs: list[tuple[ast.arg, ast.expr | None]] = [*zip(positional, args.defaults, strict=True)]
    pairs += zip(args.kwonlyargs, args.kw_defaults, strict=True)
    return {a.arg: ast.unparse(d) for a, d in pairs if d is not None}
