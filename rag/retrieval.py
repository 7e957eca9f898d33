"""Retrieval: the question's embedding against the store, as scored passages."""
from __future__ import annotations

from llama_index.core.embeddings import BaseEmbedding

from store import Hit, VectorStore

from .types import Passage


def to_passage(hit: Hit) -> Passage:
    m = hit.metadata
    return Passage(
        id=hit.id,
        document=hit.document,
        language=str(m.get("language", "und")),
        text=hit.text,
        start=int(m.get("start", 0)),
        end=int(m.get("end", 0)),
        score=float(hit.score),
    )


def dense_search(query: str, k: int, *, store: VectorStore, embedder: BaseEmbedding) -> list[Passage]:
    """Top-k passages by cosine similarity, best first."""
    vector = embedder.get_query_embedding(query)
    return [to_passage(h) for h in store.query(vector, k)]
