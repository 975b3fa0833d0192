"""Putting accepted tests into the user's test files: AST-aware merging and atomic writes.

:func:`merge_tests` adds a candidate module to an existing test module: imports the file does not
have yet go after its imports (``__future__`` ones first), test functions that would clash with
an existing name are renamed, everything else is appended.  :func:`write_atomic` replaces a file
in one step (temp file, fsync, rename), so an interruption leaves the old or the new file, never
half of one.  Only test files are ever written.
"""

from __future__ import annotations

import ast
import difflib
import os
import tempfile
from pathlib import Path, PurePosixPath

from agents.cover.targets import is_test_file
from agents.errors import AssayError
from flows import repo_files

Key = tuple[str, ...]


def _import_keys(node: ast.Import | ast.ImportFrom) -> list[tuple[Key, ast.alias]]:
    if isinstance(node, ast.Import):
        return [(("import", a.name, a.asname or ""), a) for a in node.names]
    module = "." * node.level + (node.module or "")
    return [(("from", module, a.name, a.asname or ""), a) for a in node.names]


def _render(node: ast.Import | ast.ImportFrom, aliases: list[ast.alias]) -> str:
    if isinstance(node, ast.Import):
        return ast.unparse(ast.Import(names=aliases))
    return ast.unparse(ast.ImportFrom(module=node.module, names=aliases, level=node.level))


def _span(node: ast.stmt) -> tuple[int, int]:
    decorators = getattr(node, "decorator_list", [])
    start = min([node.lineno, *(d.lineno for d in decorators)])
    return start, node.end_lineno or node.lineno


def _is_main_guard(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and "__name__" in ast.unparse(node.test)


def merge_tests(existing: str, addition: str, *, docstring: str = "") -> str:
    """``existing`` test module text with the tests of ``addition`` merged in."""
    ex_tree = ast.parse(existing) if existing.strip() else ast.Module(body=[], type_ignores=[])
    add_tree = ast.parse(addition)
    bound = {
        key
        for node in ex_tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
        for key, _ in _import_keys(node)
    }
    names = {
        node.name
        for node in ex_tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }
    future: list[str] = []
    imports: list[str] = []
    chunks: list[str] = []
    add_lines = addition.splitlines()
    for index, node in enumerate(add_tree.body):
        if isinstance(node, ast.Import | ast.ImportFrom):
            fresh = [alias for key, alias in _import_keys(node) if key not in bound]
            bound.update(key for key, _ in _import_keys(node))
            if fresh:
                rendered = _render(node, fresh)
                is_future = getattr(node, "module", "") == "__future__"
                (future if is_future else imports).append(rendered)
            continue
        if index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the candidate's docstring
        if _is_main_guard(node):
            continue
        start, end = _span(node)
        chunk = add_lines[start - 1 : end]
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = new = node.name
            n = 2
            while new in names:
                new, n = f"{name}_{n}", n + 1
            if new != name:
                kind = "class" if isinstance(node, ast.ClassDef) else "def"
                at = node.lineno - start
                chunk[at] = chunk[at].replace(f"{kind} {name}", f"{kind} {new}", 1)
            names.add(new)
        chunks.append("\n".join(chunk))

    lines = existing.rstrip().splitlines()
    if not lines and docstring:
        lines = [f'"""{docstring}"""', ""]
    new_file = bool(docstring) and not existing.strip()
    _insert_imports(lines, ex_tree, future, imports, has_docstring=new_file)
    text = "\n".join(lines).rstrip()
    body = "\n\n\n".join(chunks)
    return _combine_imports((text + "\n\n\n" + body if text else body).rstrip() + "\n")


def _combine_imports(code: str) -> str:
    """One ``from M import a, b`` line per module where the file has several single-line ones
    (tests added one after another import one name each): as a person writes them."""
    tree = ast.parse(code)
    lines = code.splitlines()
    first: dict[str, int] = {}
    names: dict[str, list[str]] = {}
    drop: set[int] = set()
    for node in tree.body:
        simple = (
            isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
            and node.lineno == node.end_lineno and all(a.asname is None for a in node.names)
            and "(" not in lines[node.lineno - 1] and "#" not in lines[node.lineno - 1]
        )  # fmt: skip
        if not simple:
            continue
        assert isinstance(node, ast.ImportFrom) and node.module
        module = node.module
        if module in first:
            drop.add(node.lineno - 1)
        else:
            first[module] = node.lineno - 1
        names.setdefault(module, [])
        names[module] += [a.name for a in node.names if a.name not in names[module]]
    if not drop:
        return code
    for module, index in first.items():
        lines[index] = f"from {module} import {', '.join(sorted(names[module]))}"
    return "\n".join(line for i, line in enumerate(lines) if i not in drop) + "\n"


def _insert_imports(
    lines: list[str],
    tree: ast.Module,
    future: list[str],
    imports: list[str],
    *,
    has_docstring: bool,
) -> None:
    """Insert import lines in place: ``__future__`` after the docstring, others after the
    file's last top-level import (or after the docstring and future imports)."""
    body = tree.body
    doc_end = 0
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        doc_end = body[0].end_lineno or 0
    elif has_docstring:
        doc_end = 1
    imports_in_file = [n for n in body if isinstance(n, ast.Import | ast.ImportFrom)]
    future_end = max(
        [doc_end]
        + [n.end_lineno or 0 for n in imports_in_file if getattr(n, "module", "") == "__future__"]
    )
    last_import = max([future_end] + [n.end_lineno or 0 for n in imports_in_file])
    if imports:
        block = imports if last_import else [*imports, ""]
        lines[last_import:last_import] = block
    if future:
        lines[doc_end:doc_end] = future


def check_writable(repo: Path, path: str) -> Path:
    """The absolute path of a test file we may write; refuses anything that is not a test file
    (assay never modifies the code under test)."""
    target = (repo / path).resolve()
    if not target.is_relative_to(repo.resolve()) or not is_test_file(path):
        raise AssayError(f"Refusing to write {path}: it is not a test file inside {repo}")
    return target


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step; keeps the old file's permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def unified_diff(path: str, old: str | None, new: str) -> str:
    before = (old or "").splitlines(keepends=True)
    after = new.splitlines(keepends=True)
    source = f"a/{path}" if old is not None else "/dev/null"
    return "".join(difflib.unified_diff(before, after, source, f"b/{path}"))


CANDIDATE_SUFFIX = "_candidate.py"  # tests/test_x_assay.py → tests/test_x_assay_candidate.py


def candidate_beside(output: str) -> str:
    """Where a candidate for the test file ``output`` is judged: beside it, sorting right after
    it, so that the suite runs it where its tests will run once merged (after the file's own
    tests and the project's before)."""
    out = PurePosixPath(output)
    return str(out.with_name(f"{out.stem}{CANDIDATE_SUFFIX}"))


def test_path_for(
    repo: Path,
    test_dir: str,
    source_path: str,
    module: str,
    *,
    clashes: set[str] = frozenset(),  # type: ignore[assignment]
    into: str = "new",
) -> str:
    """Where tests for ``source_path`` go: ``<test_dir>/test_<module>_assay.py`` (the dotted
    module name when another source has the same file name), or with ``into="existing"`` the
    project's own ``test_<module>.py`` when there is one."""
    stem = PurePosixPath(source_path).stem
    if stem == "__init__":
        stem = module.rsplit(".", 1)[-1] or "package"
    if stem in clashes:
        stem = module.replace(".", "_")
    if into == "existing" and (repo / test_dir / f"test_{stem}.py").is_file():
        return f"{test_dir}/test_{stem}.py"
    return f"{test_dir}/test_{stem}_assay.py"


def style_file_for(repo: Path, test_dir: str, source_path: str) -> Path | None:
    """An existing test file to show as a style example: the module's own, else the first."""
    preferred = repo / test_dir / f"test_{PurePosixPath(source_path).stem}.py"
    if preferred.is_file():
        return preferred
    tests = sorted(
        p for p in repo_files(repo) if is_test_file(p) and PurePosixPath(p).name.startswith("test_")
    )
    return repo / tests[0] if tests else None
