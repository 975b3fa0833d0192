"""Add a run of the service benchmarks to their own section of ``benchmarks/RESULTS.md``.

The section lies between ``<!-- service:start -->`` and ``<!-- service:end -->``; each run is
added at its end (newest last) and nothing outside the markers is touched.  A missing file is
created with a header; a file without the markers gets the section appended.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

START, END = "<!-- service:start -->", "<!-- service:end -->"
HEADER = "# Benchmark results\n\nWritten by the benchmarks in `benchmarks/`; newest runs last.\n"
TITLE = (
    "## Service (`benchmarks/service/`)\n\n"
    "Webhook intake of `assay serve` on loopback (`intake.py`) and the review of a real "
    "~2,000-line diff (`review.py`).\n"
)
RESULTS = Path(__file__).resolve().parents[1] / "RESULTS.md"


def machine() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{time.strftime('%Y-%m-%d %H:%M')} · {platform.python_implementation()} "
        f"{platform.python_version()} · {os.cpu_count()} cores · load average {load}"
    )


def add_entry(text: str, path: Path = RESULTS) -> None:
    """Append ``text`` (markdown) at the end of the service section."""
    current = path.read_text() if path.exists() else HEADER
    if START not in current or END not in current:
        current = current.rstrip("\n") + f"\n\n{START}\n{TITLE}\n{END}\n"
    head, rest = current.split(START, 1)
    body, tail = rest.split(END, 1)
    body = body.rstrip("\n") + "\n\n" + text.strip("\n") + "\n"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(f"{head}{START}{body}{END}{tail}")
    os.replace(tmp, path)
