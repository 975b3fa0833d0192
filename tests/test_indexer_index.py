"""The index end to end on real git repositories and embedded Qdrant (small embedders)."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from indexer.chunking import ChunkLimits
from indexer.embed import Embedder
from indexer.errors import SourceError, StoreError
from indexer.index import CodeIndex, glob_directory
from indexer.quality import Policy
from indexer.sources import open_snapshot
from indexer.store import Store
from indexer.types import Hit, IndexReport, SearchMode
from tests.fakes.embedders import CountingEmbedder, VocabEmbedder
from tests.kit.gitrepos import DIGEST, RETRY, SHAPES, commit, git, make_repo


@pytest.fixture
def store(assay_home: Path) -> Iterator[Store]:
    with Store(path=assay_home / "qdrant") as s:
        yield s


def run(
    index: CodeIndex,
    location: Path | str,
    name: str,
    policy: Policy | None = None,
    ref: str | None = None,
    clones: Path | None = None,
) -> IndexReport:
    with open_snapshot(str(location), ref, clones or Path("/nonexistent"), name=name) as snap:
        return index.index(snap, name, policy)


def paths(hits: list[Hit]) -> list[str]:
    return [f"{h.repo}:{h.path}" for h in hits]


def test_incremental_unchanged_changed_and_deleted(tmp_path: Path, store: Store) -> None:
    repo = make_repo(
        tmp_path / "app",
        {"src/digest.py": DIGEST, "src/net.py": RETRY, "web/shapes.js": SHAPES},
    )
    embedder = CountingEmbedder()
    index = CodeIndex(store, embedder)
    first = run(index, repo, "app")
    assert (first.files_seen, first.files_embedded, first.chunks_embedded) == (3, 3, 3)
    assert first.commit == git(repo, "rev-parse", "HEAD")
    assert len(embedder.texts) == 3

    embedder.texts.clear()
    again = run(index, repo, "app")
    assert embedder.texts == [] and again.chunks_embedded == 0
    assert again.files_unchanged == 3 and again.chunks_total == 3

    commit(repo, {"src/net.py": RETRY.replace("attempts=3", "attempts=5")})
    changed = run(index, repo, "app")
    assert changed.files_embedded == 1 and changed.files_unchanged == 2
    assert len(embedder.texts) == 1 and "path: src/net.py" in embedder.texts[0]
    hits = index.search("retry_request attempts", k=3)
    assert "attempts=5" in next(h.text for h in hits if h.path == "src/net.py")
    assert changed.chunks_total == 3  # the old version's chunk is gone

    commit(repo, delete=("web/shapes.js",))
    embedder.texts.clear()
    deleted = run(index, repo, "app")
    assert deleted.files_deleted == 1 and embedder.texts == []
    assert deleted.chunks_total == 2
    assert "app:web/shapes.js" not in paths(index.search("area width height", k=10))


def test_unchanged_repo_embeds_nothing_after_reopening_the_store(
    tmp_path: Path, assay_home: Path
) -> None:
    repo = make_repo(tmp_path / "app", {"a.py": DIGEST, "b.py": RETRY})
    with Store(path=assay_home / "q") as store:
        assert run(CodeIndex(store, CountingEmbedder()), repo, "app").chunks_embedded == 2
    embedder = CountingEmbedder()
    with Store(path=assay_home / "q") as store:
        report = run(CodeIndex(store, embedder), repo, "app")
    assert report.chunks_embedded == 0 and embedder.texts == [] and report.chunks_total == 2


def test_the_same_snippet_ranks_high_tier_first_and_deprecated_never(
    tmp_path: Path, store: Store
) -> None:
    good = make_repo(tmp_path / "good", {"digest.py": DIGEST})
    bad = make_repo(tmp_path / "bad", {"digest.py": DIGEST})
    index = CodeIndex(store, CountingEmbedder())
    policy = Policy().with_tier("good", "high").with_tier("bad", "low")
    run(index, good, "good", policy)
    run(index, bad, "bad", policy)

    hits = index.search("file checksum", k=2, policy=policy, explain=True)
    assert paths(hits) == ["good:digest.py", "bad:digest.py"]
    top, low = hits
    assert top.relevance is not None and low.relevance is not None
    assert top.score == pytest.approx(top.relevance * 1.5, rel=1e-4)
    assert low.score == pytest.approx(low.relevance * 0.5, rel=1e-4)
    assert (top.tier, top.tier_weight, low.tier, low.tier_weight) == ("high", 1.5, "low", 0.5)

    flipped = policy.with_tier("good", "low").with_tier("bad", "high")
    assert paths(index.search("file checksum", k=2, policy=flipped)) == [
        "bad:digest.py",
        "good:digest.py",
    ]

    gone = policy.with_tier("bad", "deprecated")
    modes: tuple[SearchMode, ...] = ("hybrid", "dense", "sparse")
    for mode in modes:
        found = index.search("file checksum", k=50, policy=gone, mode=mode)
        assert paths(found) == ["good:digest.py"]
    assert index.search("file checksum", repos=["bad"], policy=gone) == []


def test_path_weights_change_the_order(tmp_path: Path, store: Store) -> None:
    repo = make_repo(tmp_path / "mono", {"legacy/digest.py": DIGEST, "src/digest.py": DIGEST})
    index = CodeIndex(store, CountingEmbedder())
    run(index, repo, "mono")
    demote_src = Policy().with_path_weight("src/**", 0.2)
    index.apply_policy(demote_src, ["mono"])
    hits = index.search("file checksum", k=2, policy=demote_src, explain=True)
    assert paths(hits) == ["mono:legacy/digest.py", "mono:src/digest.py"]
    assert hits[1].path_weight == pytest.approx(0.2)

    demote_legacy = Policy().with_path_weight("legacy/**", 0.2)
    assert index.apply_policy(demote_legacy, ["mono"]) == 2
    assert paths(index.search("file checksum", k=2, policy=demote_legacy)) == [
        "mono:src/digest.py",
        "mono:legacy/digest.py",
    ]
    hidden = Policy().with_path_weight("legacy/**", 0)
    index.apply_policy(hidden, ["mono"])
    assert paths(index.search("file checksum", k=5, policy=hidden)) == ["mono:src/digest.py"]


def test_hybrid_finds_an_exact_identifier_that_dense_alone_misses(
    tmp_path: Path, store: Store
) -> None:
    files = {
        f"mod{i}.py": f"def helper_{i}(data):\n    return [value for value in data if value]\n"
        for i in range(6)
    }
    files["target.py"] = (
        "def zqx_frobnicate_v7(user, password, cache, config):\n"
        "    result = parse(read(file), http, response, checksum, digest, login, retry)\n"
        "    return sort(list(result), items, count, number, string, error)\n"
    )
    repo = make_repo(tmp_path / "r", files)
    index = CodeIndex(store, VocabEmbedder(), chunk_limits=None)
    run(index, repo, "r")
    query = "zqx_frobnicate_v7"
    assert "r:target.py" not in paths(index.search(query, k=3, mode="dense"))
    assert paths(index.search(query, k=1, mode="sparse")) == ["r:target.py"]
    assert paths(index.search(query, k=1, mode="hybrid")) == ["r:target.py"]
    assert paths(index.search("frobnicate", k=1))[0] == "r:target.py"  # a part of it too


def test_bad_files_are_reported_and_do_not_stop_the_run(tmp_path: Path, store: Store) -> None:
    repo = make_repo(
        tmp_path / "messy",
        {
            "good.py": DIGEST,
            "logo.png": b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(range(256)),
            "latin.py": "# caf\xe9\ndef greet():\n    return 'bonjour'\n".encode("latin-1"),
            "broken.py": "def broken(:\n    return unclosed_identifier_xyz(\n",
            "huge.py": "x = 1\n" * (5 * 1024 * 1024 // 6 + 1),
            "node_modules/lib/index.js": SHAPES,
            "gen_pb2.py": "x = 1\n",
        },
    )
    report = run(CodeIndex(store, CountingEmbedder()), repo, "messy")
    skipped = {p.path: p.reason for p in report.skipped}
    fallbacks = {p.path: p.reason for p in report.fallbacks}
    assert skipped["logo.png"] == "binary"
    assert skipped["huge.py"].startswith("too large (5.0 MB")
    assert "vendored" in skipped["node_modules/lib/index.js"]
    assert skipped["gen_pb2.py"] == "generated or minified file"
    assert "not UTF-8" in fallbacks["latin.py"]
    assert "syntax error" in fallbacks["broken.py"]
    assert report.files_embedded == 3  # good, latin, broken
    index = CodeIndex(store, CountingEmbedder())
    assert paths(index.search("unclosed_identifier_xyz", k=1)) == ["messy:broken.py"]
    latin = index.search("greet bonjour", k=1, languages=["python"])
    assert paths(latin) == ["messy:latin.py"] and "café" in latin[0].text


def test_filters_by_repo_language_and_path_glob(tmp_path: Path, store: Store) -> None:
    one = make_repo(tmp_path / "one", {"src/a/digest.py": DIGEST, "web/shapes.js": SHAPES})
    two = make_repo(tmp_path / "two", {"lib/digest.py": DIGEST})
    index = CodeIndex(store, CountingEmbedder())
    run(index, one, "one")
    run(index, two, "two")
    query = "file checksum digest area"
    assert set(paths(index.search(query, repos=["two"]))) == {"two:lib/digest.py"}
    assert paths(index.search(query, languages=["javascript"])) == ["one:web/shapes.js"]
    assert set(paths(index.search(query, path_glob="src/**"))) == {"one:src/a/digest.py"}
    assert set(paths(index.search(query, path_glob="*.py"))) == {
        "one:src/a/digest.py",
        "two:lib/digest.py",
    }
    assert paths(index.search(query, path_glob="web/*.js")) == ["one:web/shapes.js"]
    assert glob_directory("src/a/**/*.py") == "src/a" and glob_directory("*.py") == ""
    assert glob_directory("/src/*/x.py") == "src"


def test_git_url_is_mirrored_at_a_ref_and_fetched_on_update(
    tmp_path: Path, store: Store, assay_home: Path
) -> None:
    origin = make_repo(tmp_path / "origin", {"digest.py": DIGEST})
    tagged = git(origin, "rev-parse", "HEAD")
    git(origin, "tag", "v1")
    commit(origin, {"net.py": RETRY})
    index = CodeIndex(store, CountingEmbedder())
    clones = assay_home / "index" / "clones"
    url = origin.as_uri()
    at_tag = run(index, url, "team/origin", ref="v1", clones=clones)
    assert at_tag.commit == tagged and at_tag.files_seen == 1
    assert (clones / "team__origin" / "HEAD").is_file()
    newest = commit(origin, {"extra.py": "def extra_function_name():\n    return 1\n"})
    latest = run(index, url, "team/origin", clones=clones)
    assert latest.commit == newest and latest.files_seen == 3 and latest.files_embedded == 2
    assert paths(index.search("extra_function_name", k=1)) == ["team/origin:extra.py"]
    with pytest.raises(SourceError, match="Ref 'nope' not found"):
        run(index, url, "team/origin", ref="nope", clones=clones)
    with pytest.raises(SourceError, match="Cannot clone"):
        run(index, (tmp_path / "missing").as_uri(), "missing", clones=clones)


def test_gitignored_and_plain_directories(tmp_path: Path, store: Store) -> None:
    repo = make_repo(
        tmp_path / "ign",
        {
            ".gitignore": "secret/\n*.log.py\n",
            "ok.py": DIGEST,
            "secret/x.py": RETRY,
            "run.log.py": RETRY,
        },
    )  # committed with --force: the tree's .gitignore still keeps them out
    index = CodeIndex(store, CountingEmbedder())
    report = run(index, repo, "ign")
    assert report.files_seen == 2  # .gitignore and ok.py
    plain = tmp_path / "plain"
    (plain / "pkg").mkdir(parents=True)
    (plain / "pkg" / "digest.py").write_text(DIGEST)
    (plain / "pkg" / "skip.py").write_text(RETRY)
    (plain / ".gitignore").write_text("skip.py\n")
    (plain / "node_modules").mkdir()
    first = run(index, plain, "plain")
    assert first.commit is None and first.files_seen == 2  # .gitignore and digest.py
    assert "node_modules/" in {p.path for p in first.skipped}
    assert run(index, plain, "plain").chunks_embedded == 0
    with pytest.raises(SourceError, match="not a git repository"):
        run(index, plain, "plain", ref="main")


def test_store_errors_are_one_line_with_a_fix(assay_home: Path, store: Store) -> None:
    with pytest.raises(StoreError, match="in use by another assay process"):
        Store(path=assay_home / "qdrant")

    class Wide(CountingEmbedder):
        @property
        def dim(self) -> int:
            return 128

    embedder: Embedder = CountingEmbedder()
    store.ensure_collection(embedder.name, embedder.dim)
    with pytest.raises(StoreError, match="holds 64-dimensional vectors"):
        store.ensure_collection(Wide().name, Wide().dim)


def test_embedded_fast_search_equals_qdrants_own_query(tmp_path: Path, store: Store) -> None:
    """The numpy search of embedded mode returns what Qdrant's own query returns: same hits,
    same order, same scores (the content keeps similarities from tying)."""
    words = ["digest", "checksum", "request", "handler", "retry", "file", "path", "cache"]

    def source(i: int) -> str:  # term counts differ per file: no sparse scores tie
        body = " ".join(" ".join([w] * (1 + (i * (j + 3)) % 11)) for j, w in enumerate(words))
        return f"def func_{i}(value):\n    # {body}\n    return value\n"

    layout = {
        "one": ["pkg/a.py", "pkg/b.py", "src/c.py", "m1x.py"],
        "two": ["lib/d.py", "e.js"],
        "three": ["old/f.py", "g.py"],
    }
    counter = iter(range(100))
    for name, rels in layout.items():
        run_files = {rel: source(next(counter)) for rel in rels}
        make_repo(tmp_path / name, run_files)
    index = CodeIndex(store, Jittered(), chunk_limits=ChunkLimits(min_chars=0))
    policy = Policy().with_tier("one", "high").with_tier("two", "low")
    policy = policy.with_tier("three", "deprecated").with_path_weight("m1*", 0.3)
    for name in layout:
        run(index, tmp_path / name, name, policy)
    cases: list[dict[str, Any]] = [
        {"query": "file checksum digest"},
        {"query": "handler request", "k": 3},
        {"query": "retry cache path", "mode": "dense"},
        {"query": "digest handler", "mode": "sparse"},
        {"query": "digest file", "languages": ["javascript", "python"]},
        {"query": "digest", "repos": ["two", "three"]},
        {"query": "handler request path", "path_glob": "pkg/**"},
        {"query": "nothing_matches_this_token", "mode": "sparse"},
    ]
    for case in cases:
        store.local_search = True
        fast = index.search(policy=policy, explain=True, **case)
        store.local_search = False
        slow = index.search(policy=policy, explain=True, **case)
        assert [h.score for h in fast] == pytest.approx([h.score for h in slow], rel=1e-5)
        assert [h.relevance for h in fast] == pytest.approx([h.relevance for h in slow], rel=1e-5)
        # Fusion can tie exactly (ranks 2+3 and 3+2): tied hits may come in another order.
        assert [tied(h, fast) for h in fast] == [tied(h, slow) for h in slow], case
        if all(len(tied(h, fast)) == 1 for h in fast):
            assert [h.location for h in fast] == [h.location for h in slow], case
        assert bool(fast) == (case["query"] != "nothing_matches_this_token"), case


def tied(hit: Hit, hits: list[Hit]) -> frozenset[str]:
    return frozenset(h.location for h in hits if h.score == pytest.approx(hit.score, rel=1e-5))


class Jittered(CountingEmbedder):
    """Hashing vectors plus a little noise fixed by the text: no two similarities tie."""

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        out = []
        for text, vec in zip(texts, super().embed(texts), strict=True):
            noise = random.Random(text)
            out.append([v + noise.uniform(-0.05, 0.05) for v in vec])
        return out
