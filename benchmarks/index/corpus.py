"""The pinned corpus of the index benchmark: real PyPI sdists, docstrings stripped, and queries.

Each pinned sdist is downloaded with pip (sha256 checked: a mismatch is refused), its code files
(``.py .js .ts .java .go``) are copied into ``<work>/corpus/<dist>/`` with every docstring
removed (module, class, function), and committed as a git repository.  The first line of each
removed *function or method* docstring becomes a query whose answer is the chunk holding that
function's ``def`` line; a first line shorter than three words, or shared by two functions, is
no query (its answer would be ambiguous).

    python benchmarks/index/corpus.py [--work DIR] [--max-files N]   # prepare and print stats
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import inspect
import json
import math
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_WORK = HERE.parent / "work" / "index"

# (distribution, version, sha256 of the sdist on PyPI): 801 code files in all.
PINNED = [
    ("networkx", "3.4.2", "307c3669428c5362aab27c8a1260aa8f47c4e91d3891f48be0141738d8d053e1"),
    ("click", "8.1.7", "ca9853ad459e787e2192211578cc907e7594e294c7ccc834310722b41b9ca6de"),
    ("rich", "13.9.4", "439594978a49a09530cff7ebc4b5c7103ef57baf48d5ea3184f21d9a2befa098"),
]
CODE_SUFFIXES = {".py", ".js", ".ts", ".java", ".go"}
GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "HOME": "/nonexistent",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
}


@dataclass(frozen=True)
class Query:
    text: str
    repo: str
    path: str
    line: int  # the def line in the stripped file
    symbol: str


@dataclass
class Corpus:
    repos: dict[str, Path]
    queries: list[Query]
    files: int
    bytes: int
    stripped_docstrings: int


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def download(sdists: Path, dist: str, version: str, digest: str) -> Path:
    sdists.mkdir(parents=True, exist_ok=True)
    for candidate in (f"{dist}-{version}.tar.gz", f"{dist.replace('-', '_')}-{version}.tar.gz"):
        path = sdists / candidate
        if path.is_file() and sha256(path) == digest:
            return path
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
    cmd += ["--disable-pip-version-check", "-q", "-d", str(sdists), f"{dist}=={version}"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    path = sdists / f"{dist}-{version}.tar.gz"
    got = sha256(path) if path.is_file() else "missing"
    if got != digest:
        sys.exit(f"{path}: sha256 {got}, expected {digest}: refusing to use it")
    return path


def _docstring(node: ast.AST) -> ast.Expr | None:
    body = getattr(node, "body", None)
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        return first if isinstance(first.value.value, str) else None
    return None


def strip_docstrings(source: str) -> tuple[str, dict[str, str], int]:
    """``(stripped source, {function qualname: first docstring line}, docstrings removed)``.

    A docstring on lines of its own is deleted (``pass`` takes its place when it was the whole
    body); one sharing a line with code is left alone and gives no query.
    """
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    edits: list[tuple[int, int, str | None]] = []  # 0-based rows, replacement
    firsts: dict[str, str] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = prefix
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}."
                _strip(child, name[:-1], isinstance(child, ast.ClassDef))
            visit(child, name)

    def _strip(node: ast.AST, qualname: str, is_class: bool) -> None:
        doc = _docstring(node)
        if doc is None or doc.end_lineno is None or doc.end_col_offset is None:
            return
        first, last = doc.lineno - 1, doc.end_lineno - 1
        before = lines[first][: doc.col_offset]
        after = lines[last][doc.end_col_offset :]
        if before.strip() or (after.strip() and not after.strip().startswith("#")):
            return
        only = len(getattr(node, "body", [])) == 1
        edits.append((first, last, f"{before}pass\n" if only else None))
        text = inspect.cleandoc(str(doc.value.value)).strip()  # type: ignore[attr-defined]
        if text and not is_class:
            firsts[qualname] = text.splitlines()[0].strip()

    if _docstring(tree) is not None:
        _strip(tree, "", True)
    visit(tree, "")
    for first, last, replacement in sorted(edits, reverse=True):
        lines[first : last + 1] = [replacement] if replacement else []
    return "".join(lines), firsts, len(edits)


def def_lines(source: str) -> dict[str, int]:
    """Qualified name → line of its ``def`` in ``source``."""
    found: dict[str, int] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = prefix
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}."
                if not isinstance(child, ast.ClassDef):
                    found.setdefault(name[:-1], child.lineno)
            visit(child, name)

    visit(ast.parse(source), "")
    return found


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], env=GIT_ENV, check=True, capture_output=True)


def build(work: Path = DEFAULT_WORK, max_files: int | None = None) -> Corpus:
    """Download, strip and commit the corpus (afresh), and collect the queries."""
    sdists, root = work / "sdists", work / "corpus"
    if root.exists():
        shutil.rmtree(root)
    share = math.ceil(max_files / len(PINNED)) if max_files else None
    repos: dict[str, Path] = {}
    candidates: list[Query] = []
    files = size = stripped = 0
    for dist, version, digest in PINNED:
        sdist = download(sdists, dist, version, digest)
        repo = root / dist
        with tempfile.TemporaryDirectory() as tmp:
            with tarfile.open(sdist) as tar:
                tar.extractall(tmp, filter="data")
            top = next(Path(tmp).iterdir())
            code = sorted(p for p in top.rglob("*") if p.is_file() and p.suffix in CODE_SUFFIXES)
            for path in code[:share]:
                rel = path.relative_to(top).as_posix()
                text = path.read_text(encoding="utf-8", errors="replace")
                if path.suffix == ".py":
                    try:
                        text, firsts, removed = strip_docstrings(text)
                        lines = def_lines(text)
                    except SyntaxError:
                        firsts, removed, lines = {}, 0, {}
                    stripped += removed
                    for qualname, first in firsts.items():
                        if len(first.split()) >= 3 and qualname in lines:
                            candidates.append(Query(first, dist, rel, lines[qualname], qualname))
                target = repo / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
                files += 1
                size += len(text.encode("utf-8"))
        _git(repo, "init", "-q", "-b", "main")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", f"{dist} {version}, docstrings stripped")
        repos[dist] = repo
    counts = Counter(q.text for q in candidates)
    queries = [q for q in candidates if counts[q.text] == 1]
    return Corpus(repos, queries, files, size, stripped)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--max-files", type=int, default=None)
    args = parser.parse_args()
    corpus = build(args.work, args.max_files)
    print(
        json.dumps(
            {
                "repos": {k: str(v) for k, v in corpus.repos.items()},
                "files": corpus.files,
                "bytes": corpus.bytes,
                "stripped_docstrings": corpus.stripped_docstrings,
                "queries": len(corpus.queries),
                "example": asdict(corpus.queries[0]) if corpus.queries else None,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
