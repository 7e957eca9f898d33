"""A persistent cache of embeddings keyed by content hash, so re-embedding the same text is free.

Keys are sha256(model name, kind, text): a different model or the query/passage prefix never
collide. Stored in SQLite under the data directory; safe to delete at any time.
"""
from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

Progress = Callable[[int, int], None]


class EmbeddingCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False)
            self._db.execute("CREATE TABLE IF NOT EXISTS emb (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")
        return self._db

    @staticmethod
    def key(model: str, kind: str, text: str) -> str:
        return hashlib.sha256(f"{model}\x00{kind}\x00{text}".encode("utf-8")).hexdigest()

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        with self._lock:
            db = self._conn()
            for i in range(0, len(keys), 500):
                part = list(keys[i : i + 500])
                rows = db.execute(
                    f"SELECT key, vec FROM emb WHERE key IN ({','.join('?' * len(part))})", part
                ).fetchall()
                out.update({k: np.frombuffer(v, dtype=np.float32) for k, v in rows})
        return out

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        with self._lock:
            db = self._conn()
            db.executemany(
                "INSERT OR REPLACE INTO emb (key, vec) VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()],
            )
            db.commit()

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


def embed_texts(
    embedder,
    texts: Sequence[str],
    kind: str,
    cache: EmbeddingCache | None = None,
    batch: int = 16,
    progress: Progress | None = None,
) -> np.ndarray:
    """Embed `texts` as passages (kind="passage") or queries (kind="query"), through the cache."""
    # Questions may go to a model of their own (`RAG_EMBED_QUERY_MODEL`): key them by it.
    name = (getattr(embedder, "query_model", None) if kind == "query" else None) or embedder.model_name
    keys = [EmbeddingCache.key(name, kind, t) for t in texts]
    have = cache.get_many(keys) if cache else {}
    missing = [i for i, k in enumerate(keys) if k not in have]
    done = len(texts) - len(missing)
    if progress:
        progress(done, len(texts))
    for b in range(0, len(missing), batch):
        idx = missing[b : b + batch]
        chunk = [texts[i] for i in idx]
        if kind == "query":
            batched = getattr(embedder, "get_query_embedding_batch", None)  # a plain test double may lack it
            vecs = batched(chunk) if batched else [embedder.get_query_embedding(t) for t in chunk]
        else:
            vecs = embedder.get_text_embedding_batch(chunk)
        new = {keys[i]: np.asarray(v, dtype=np.float32) for i, v in zip(idx, vecs)}
        have.update(new)
        if cache:
            cache.put_many(new)
        done += len(idx)
        if progress:
            progress(done, len(texts))
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack([have[k] for k in keys])


class CachedEmbedder:
    """An embedder whose passage embeddings go through the cache (for throw-away eval indexes)."""

    def __init__(self, inner, cache: EmbeddingCache | None) -> None:
        self._inner, self._cache = inner, cache
        self.model_name = inner.model_name
        self.query_model = getattr(inner, "query_model", None)

    def get_text_embedding_batch(self, texts):
        return embed_texts(self._inner, texts, "passage", cache=self._cache).tolist()

    def get_query_embedding(self, text):
        return self._inner.get_query_embedding(text)
