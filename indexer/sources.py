"""Repositories to index: a local git repository, a git URL, or a plain directory.

A git repository is read at one commit (``ref``, default ``HEAD``) straight from its object
database, so the work tree's uncommitted edits are not indexed and the indexed commit is
exact.  A URL is cloned once as a mirror into ``clones_dir`` and fetched on every update.  A
directory that is not a git repository is read from disk, honouring its ``.gitignore`` files;
its files are keyed by the blob SHA git would give them, so incremental updates work the same.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import git

from indexer.errors import SourceError
from indexer.files import IgnoreRules

_URL = re.compile(r"^(https?|ssh|git|file)://|^[\w.-]+@[\w.-]+:")
_PRUNE = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".nox"})
_GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true"}


@dataclass(frozen=True)
class FileEntry:
    path: str
    blob: str  # git blob SHA-1, hex
    size: int


def is_url(location: str) -> bool:
    return bool(_URL.match(location))


def default_name(location: str) -> str:
    """``owner/name`` for a URL, the directory name for a path."""
    if is_url(location):
        tail = re.split(r"[:/]", location.rstrip("/").removesuffix(".git"))
        parts = [p for p in tail if p]
        return "/".join(parts[-2:]) if len(parts) >= 2 else parts[-1]
    return Path(location).expanduser().resolve().name


def git_blob_sha(data: bytes) -> str:
    """The SHA git gives a blob with this content."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


class Snapshot:
    """The files of a repository at one commit (or, for a plain directory, on disk now)."""

    commit: str | None = None
    pruned: tuple[str, ...] = ()

    def entries(self) -> list[FileEntry]:
        raise NotImplementedError

    def read(self, entry: FileEntry) -> bytes:
        raise NotImplementedError

    def close(self) -> None:
        """Release what reading needed (git's helper processes)."""


class GitSnapshot(Snapshot):
    def __init__(self, repo: git.Repo, ref: str, location: str) -> None:
        self._repo = repo
        try:
            self.commit = repo.commit(ref).hexsha
        except (git.BadName, ValueError, git.GitCommandError) as exc:
            repo.close()
            if ref == "HEAD":
                raise SourceError(
                    f"Repository {location} has no commits", "commit something first"
                ) from exc
            raise SourceError(
                f"Ref {ref!r} not found in {location}",
                "pass an existing branch, tag or commit with --ref",
            ) from exc

    def entries(self) -> list[FileEntry]:
        listing = self._repo.git.ls_tree("-r", "-l", "-z", "--full-tree", self.commit)
        found: list[FileEntry] = []
        for record in listing.split("\0"):
            if not record:
                continue
            meta, _, path = record.partition("\t")
            mode, kind, sha, size = meta.split()
            if kind != "blob" or mode == "120000":  # submodules and symlinks are not content
                continue
            found.append(FileEntry(path, sha, int(size)))
        rules = IgnoreRules(
            (e.path.rpartition("/")[0], self.read(e).decode("utf-8", "replace"))
            for e in found
            if e.path.rpartition("/")[2] == ".gitignore"
        )
        if rules:  # files committed although ignored (``git add -f``) are left out too
            found = [e for e in found if not rules.ignored(e.path)]
        return found

    def read(self, entry: FileEntry) -> bytes:
        data: bytes = self._repo.odb.stream(bytes.fromhex(entry.blob)).read()
        return data

    def close(self) -> None:
        self._repo.close()


class DirSnapshot(Snapshot):
    def __init__(self, root: Path) -> None:
        self.root = root

    def entries(self) -> list[FileEntry]:
        found: list[FileEntry] = []
        pruned: list[str] = []
        rules = IgnoreRules()
        for dirpath, dirnames, filenames in os.walk(self.root):
            rel_dir = Path(dirpath).relative_to(self.root).as_posix()
            rel_dir = "" if rel_dir == "." else rel_dir
            if ".gitignore" in filenames:
                text = Path(dirpath, ".gitignore").read_text("utf-8", errors="replace")
                rules.add(rel_dir, text)
            for name in list(dirnames):
                rel = f"{rel_dir}/{name}".lstrip("/")
                if name in _PRUNE or os.path.islink(os.path.join(dirpath, name)):
                    dirnames.remove(name)
                    if name != ".git":
                        pruned.append(rel + "/")
                elif rules.ignored(rel, is_dir=True):
                    dirnames.remove(name)
            for name in sorted(filenames):
                rel = f"{rel_dir}/{name}".lstrip("/")
                full = os.path.join(dirpath, name)
                if os.path.islink(full) or rules.ignored(rel):
                    continue
                try:
                    data = Path(full).read_bytes()
                except OSError:
                    continue
                found.append(FileEntry(rel, git_blob_sha(data), len(data)))
        self.pruned = tuple(pruned)
        return found

    def read(self, entry: FileEntry) -> bytes:
        try:
            return (self.root / entry.path).read_bytes()
        except OSError:  # gone since it was listed
            return b""


def _last_line(exc: git.GitCommandError) -> str:
    """git's own complaint (``fatal: …``) out of gitpython's wrapped stderr."""
    raw = str(exc.stderr or exc).splitlines()
    lines = [line.strip().removeprefix("stderr:").strip().strip("'").strip() for line in raw]
    lines = [line for line in lines if any(c.isalnum() for c in line)]
    fatal = [line for line in lines if line.startswith(("fatal:", "error:"))]
    return (fatal or lines or [type(exc).__name__])[-1].removeprefix("fatal: ")


def mirror(url: str, dest: Path, *, fetch: bool = True) -> git.Repo:
    """A mirror clone of ``url`` at ``dest``: cloned the first time, fetched after."""
    if (dest / "HEAD").is_file():
        repo = git.Repo(dest)
        if fetch:
            try:
                with repo.git.custom_environment(**_GIT_ENV):
                    repo.git.fetch("--prune", "--quiet", "origin")
            except git.GitCommandError as exc:
                repo.close()
                raise SourceError(
                    f"Cannot fetch {url}: {_last_line(exc)}",
                    "check the network and your access, or index what is there with --no-fetch",
                ) from exc
        return repo
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".clone-", dir=dest.parent))
    try:
        git.Repo.clone_from(url, tmp, multi_options=["--mirror", "--quiet"], env=_GIT_ENV)
        tmp.replace(dest)
    except git.GitCommandError as exc:
        raise SourceError(
            f"Cannot clone {url}: {_last_line(exc)}", "check the URL and your access to it"
        ) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return git.Repo(dest)


@contextmanager
def open_snapshot(
    location: str, ref: str | None, clones_dir: Path, *, name: str, fetch: bool = True
) -> Iterator[Snapshot]:
    """The files of ``location`` at ``ref``: a URL is mirrored into ``clones_dir/name``."""
    snapshot: Snapshot
    if is_url(location):
        repo = mirror(location, clones_dir / name.replace("/", "__"), fetch=fetch)
        snapshot = GitSnapshot(repo, ref or "HEAD", location)
    else:
        root = Path(location).expanduser()
        if not root.is_dir():
            raise SourceError(
                f"Repository path {location} is not a directory", "pass a directory or a git URL"
            )
        if (root / ".git").exists():
            try:
                repo = git.Repo(root)
            except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
                raise SourceError(f"Cannot open git repository {location}: {exc}") from exc
            snapshot = GitSnapshot(repo, ref or "HEAD", location)
        elif ref:
            raise SourceError(
                f"{location} is not a git repository, so --ref {ref} cannot apply",
                "drop --ref or index a git repository",
            )
        else:
            snapshot = DirSnapshot(root)
    try:
        yield snapshot
    finally:
        snapshot.close()
