"""The throwaway copies for :mod:`flows.sandbox`: staging a repository, a run's files, cleanup.

:func:`_stage` copies what :func:`_git_files` lists (``git ls-files --cached --others
--exclude-standard``: tracked and untracked files, not ignored ones) or, outside a git work tree,
what :func:`_walk` finds honouring every ``.gitignore`` on the way down (with ``pathspec``; the
deepest file with a matching pattern decides).  ``.git``, virtualenvs, caches and
``node_modules`` (:data:`ALWAYS_SKIP`) are never copied.  One exception to "not ignored":
modules a build generated inside a package (:func:`_generated_modules`: ``version.py`` of
setuptools_scm, compiled extensions), which the code under test imports.  Symlinks stay
symlinks, relinked relative to the copy so they never point back into the user's tree; those
leading outside the repository are dropped and reported.  A submodule or nested repository,
which git lists as one entry, is walked.

:func:`_write_files` puts a run's extra files into its copy, refusing paths that lead outside
it; :func:`_rmtree` removes a run's directory even where the run made parts of it read-only.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from pathspec import GitIgnoreSpec

from flows.errors import SandboxError

ALWAYS_SKIP = frozenset(
    {".git", ".venv", "venv", "__pycache__", "node_modules", ".tox", ".nox", ".mypy_cache"}
    | {".pytest_cache", ".ruff_cache"}
)


def _git_files(repo: Path, env: Mapping[str, str]) -> list[str] | None:
    """What git would show (tracked and untracked, not ignored); None outside a git work tree."""
    git_env = {name: value for name, value in env.items() if not name.startswith("GIT_")}
    argv = ["git", "-c", "core.fsmonitor=false", "-C", str(repo), "ls-files", "--cached"]
    argv += ["--others", "--exclude-standard", "-z"]
    try:
        done = subprocess.run(argv, env=git_env, capture_output=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    names = os.fsdecode(done.stdout).split("\0")
    return sorted({name.rstrip("/") for name in names if name}) if done.returncode == 0 else None


GENERATED_SUFFIXES = (".py", ".so", ".pyd")


def _generated_modules(repo: Path, names: Iterable[str]) -> list[str]:
    """Ignored modules that sit beside a listed ``__init__.py`` (a package's own directory):
    what a build wrote there (``version.py`` of setuptools_scm, ``*.so`` extensions) and the
    package cannot be imported without.  Other ignored files (``.env``, data) stay out."""
    listed = set(names)
    packages = {n.rpartition("/")[0] for n in listed if n.rpartition("/")[2] == "__init__.py"}
    extra = []
    for package in sorted(packages):
        if not package or ALWAYS_SKIP.intersection(package.split("/")):
            continue  # a package directory, never the repository's root
        with contextlib.suppress(OSError):
            for entry in os.scandir(repo / package):
                rel = f"{package}/{entry.name}" if package else entry.name
                if (rel not in listed and entry.name.endswith(GENERATED_SUFFIXES)
                        and entry.is_file(follow_symlinks=False)):  # fmt: skip
                    extra.append(rel)
    return sorted(extra)


def listed_files(repo: Path, env: Mapping[str, str]) -> list[str]:
    """What a copy of ``repo`` holds: what git shows (tracked and untracked, not ignored), or
    a ``.gitignore``-aware walk, and the generated modules of its packages."""
    names = _git_files(repo, env)
    listed = list(_walk(repo)) if names is None else names
    return sorted({*listed, *_generated_modules(repo, listed)})


def _walk(repo: Path, start: str = "") -> Iterator[str]:
    """Paths under ``repo/start`` not ignored by the ``.gitignore`` files met on the way down."""
    specs: dict[str, GitIgnoreSpec] = {}
    for dirpath, dirnames, filenames in os.walk(repo / start):
        rel_dir = Path(dirpath).relative_to(repo).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir
        gitignore = Path(dirpath, ".gitignore")
        if gitignore.is_file():
            lines = gitignore.read_text(encoding="utf-8", errors="replace").splitlines()
            specs[rel_dir] = GitIgnoreSpec.from_lines(lines)
        chain = [(base, spec) for base, spec in specs.items() if _is_under(rel_dir, base)]
        for name in list(dirnames):
            rel, link = f"{rel_dir}/{name}".lstrip("/"), os.path.islink(os.path.join(dirpath, name))
            if link or name in ALWAYS_SKIP or _ignored(chain, rel, is_dir=True):
                dirnames.remove(name)  # a symlink to a directory is copied as a link
                if link and name not in ALWAYS_SKIP and not _ignored(chain, rel, is_dir=False):
                    yield rel
        for name in filenames:
            rel = f"{rel_dir}/{name}".lstrip("/")
            if not _ignored(chain, rel, is_dir=False):
                yield rel


def _ignored(chain: list[tuple[str, GitIgnoreSpec]], rel: str, is_dir: bool) -> bool:
    verdict = None  # the deepest .gitignore with a matching pattern decides
    for base, spec in chain:
        include = spec.check_file(rel[len(base) :].lstrip("/") + ("/" if is_dir else "")).include
        verdict = verdict if include is None else include
    return bool(verdict)


def _is_under(path: str, base: str) -> bool:
    return base == "" or path == base or path.startswith(base + "/")


def _stage(repo: Path, dest: Path, names: Iterable[str]) -> list[str]:
    """Copy ``names`` from ``repo`` to ``dest``; return the symlinks dropped (leading outside)."""
    real_repo, dropped = Path(os.path.realpath(repo)), []
    for rel in names:
        src, dst = repo / rel, dest / rel
        if ALWAYS_SKIP.intersection(rel.split("/")):
            continue
        if src.is_symlink():  # relinked relative to the copy, so it never points back
            target = Path(os.path.realpath(src))
            if not target.is_relative_to(real_repo):
                dropped.append(rel)
                continue
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(os.path.relpath(target, real_repo / Path(rel).parent), dst)
        elif src.is_dir():  # a submodule or nested repository, listed by git as one entry
            dropped += _stage(repo, dest, _walk(repo, rel))
        elif src.is_file():  # skips files deleted in the work tree but still in the index
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst, follow_symlinks=False)
    return dropped


def _write_files(copy: Path, files: Mapping[str, str | bytes] | None) -> None:
    """Write ``files`` (paths relative to the repository root) into a run's copy."""
    for rel, content in (files or {}).items():
        path, target = Path(rel), copy / rel
        if path.is_absolute() or ".." in path.parts or not path.parts:
            raise SandboxError(
                f"extra file {rel!r} is outside the repository", "use a relative path"
            )
        if not Path(os.path.realpath(target.parent)).is_relative_to(os.path.realpath(copy)):
            raise SandboxError(
                f"extra file {rel!r} leads outside the repository", "use a plain path"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():
            target.unlink()
        target.write_bytes(content.encode() if isinstance(content, str) else content)


def _collect(out: Path, max_bytes: int) -> dict[str, bytes]:
    """The regular files under ``out`` (relative paths), ``max_bytes`` in all at most."""
    files: dict[str, bytes] = {}
    total = 0
    for path in sorted(out.rglob("*")):
        if path.is_file() and not path.is_symlink():
            size = path.stat().st_size
            if total + size <= max_bytes:
                files[path.relative_to(out).as_posix()] = path.read_bytes()
                total += size
    return files


def _rmtree(path: Path) -> None:
    """Remove ``path`` even where a run left read-only directories; never follows symlinks."""

    def retry(func: object, name: str, _exc: object) -> None:
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(name), 0o700)
            func(name)  # type: ignore[operator]

    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=retry)
    else:
        shutil.rmtree(path, onerror=retry)


def repo_files(repo: Path, env: Mapping[str, str] | None = None) -> list[str]:
    """The regular files a sandbox copy of ``repo`` holds ('/'-separated, relative, sorted):
    :func:`listed_files` without symlinks and what is never copied."""
    return sorted(
        name
        for name in listed_files(repo, os.environ if env is None else env)
        if not ALWAYS_SKIP.intersection(name.split("/"))
        and (repo / name).is_file()
        and not (repo / name).is_symlink()
    )
