"""Real git repositories in temp dirs for the index tests."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

# Small sources the index tests search for.
DIGEST = '''import hashlib


def file_digest(path):
    """Compute the checksum of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        h.update(fh.read())
    return h.hexdigest()
'''
RETRY = """def retry_request(send, attempts=3):
    for attempt in range(attempts):
        try:
            return send()
        except ConnectionError:
            continue
    raise RuntimeError("gave up")
"""
SHAPES = """export function area(width, height) {
  return width * height;
}
"""

_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "HOME": "/nonexistent",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], env=_ENV, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def make_repo(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """A git repository at ``root`` with ``files`` committed on branch ``main``."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    commit(root, files)
    return root


def commit(repo: Path, files: Mapping[str, str | bytes] = {}, delete: tuple[str, ...] = ()) -> str:
    """Write ``files``, delete ``delete``, commit everything; return the new commit."""
    for rel, content in files.items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    for rel in delete:
        (repo / rel).unlink()
    git(repo, "add", "-A", "-f")
    git(repo, "commit", "-q", "--allow-empty", "-m", "change")
    return git(repo, "rev-parse", "HEAD")
