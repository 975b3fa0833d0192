"""Write a run of the index benchmark into its own section of ``benchmarks/RESULTS.md``.

The section lies between ``<!-- index:start -->`` and ``<!-- index:end -->``; each run is added
at its end (newest last) and nothing outside the markers is touched.  A missing file is created
with a header, a file without the markers gets the section appended.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

START, END = "<!-- index:start -->", "<!-- index:end -->"
HEADER = "# Benchmark results\n\nWritten by the benchmarks in `benchmarks/`; newest runs last.\n"
SECTION_TITLE = """## Code index (`benchmarks/index/`)

Indexing, incremental updates, search latency and retrieval quality of `indexer/` on the pinned
corpus of `benchmarks/index/corpus.py` (docstrings stripped; a query is the first line of a
function's docstring, its answer the chunk holding that function). Newest run last.
"""


def ok(good: bool) -> str:
    return "yes" if good else "**no**"


def entry(out: dict[str, Any], argv: str) -> str:
    c, r, q, lat = out["cold"], out["reindex"], out["quality"], out["latency_ms"]
    m = out["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items())
    rows = [
        (
            "cold index, end to end",
            f"{c['files_per_s']} files/s, {c['chunks_per_s']} chunks/s "
            f"({c['files']} files, {c['chunks']} chunks, {c['seconds']} s)",
            "",
            "",
        ),
        (
            "embedder alone, same chunks and batches",
            f"{c['raw_chunks_per_s']} chunks/s ({c['raw_seconds']} s)",
            "",
            "",
        ),
        (
            "pipeline / embedder",
            f"{c['pipeline_vs_raw']:.0%}",
            "≥ 80 %",
            ok(c["pipeline_vs_raw"] >= 0.8),
        ),
        (
            "re-index, nothing changed (library)",
            f"{r['unchanged_s']} s",
            "< 2 s",
            ok(r["unchanged_s"] < 2),
        ),
        (
            "re-index, nothing changed (`assay index update --all`, new process)",
            f"{r['unchanged_cli_s']} s",
            "",
            "",
        ),
        (
            "re-index, one file changed",
            f"{r['one_file_changed_s']} s "
            f"({r['one_file_chunks_embedded']} chunks of `{r['one_file']}`)",
            "< 2 s",
            ok(r["one_file_changed_s"] < 2),
        ),
        (
            "query latency, hybrid k=10, with query embedding",
            f"p50 {lat['with_embedding']['p50']} ms, p95 {lat['with_embedding']['p95']} ms",
            "p95 < 50 ms",
            ok(lat["with_embedding"]["p95"] < 50),
        ),
        (
            "query latency, search only (embedding given)",
            f"p50 {lat['search_only']['p50']} ms, p95 {lat['search_only']['p95']} ms",
            "",
            "",
        ),
        ("peak RSS", f"{out['peak_rss_mb']} MB", "", ""),
        ("model load", f"{out['model']['load_s']} s", "", ""),
    ]
    lines = [
        f"### {out['date']} — {out['model']['name']}, {out['corpus']['files']} files "
        f"({', '.join(out['corpus']['sdists'])})",
        "",
        f"Machine: {m['cpus']} cores ({m['cpu']}), Python {m['python']}, {versions}; "
        f"embedded Qdrant; {lat['points']} points. Command: "
        f"`{f'.venv/bin/python benchmarks/index/run.py {argv}'.strip()}`.",
        "",
        "| measure | value | goal | met |",
        "|---|---|---|---|",
        *(f"| {a} | {b} | {g} | {k} |" for a, b, g, k in rows),
        "",
        f"| retrieval ({q['queries']} queries) | MRR@10 | recall@10 |",
        "|---|---|---|",
        *(
            f"| {mode} | {q[mode]['mrr@10']:.3f} | {q[mode]['recall@10']:.3f} |"
            for mode in ("dense", "sparse", "hybrid")
        ),
        "",
    ]
    return "\n".join(lines)


def record(path: Path, out: dict[str, Any], argv: str) -> Path:
    text = path.read_text(encoding="utf-8") if path.is_file() else HEADER
    if START not in text or END not in text:
        text = text.rstrip("\n") + f"\n\n{SECTION_TITLE}\n{START}\n{END}\n"
    head, _, rest = text.partition(END)
    path.write_text(f"{head.rstrip()}\n\n{entry(out, argv)}\n{END}{rest}", encoding="utf-8")
    return path
