"""The embedding cache used by eval's throw-away indexes: hits skip the embedder, and keys keep
models and sides apart."""
from __future__ import annotations

from rag.backends.embed_cache import CachedEmbedder, EmbeddingCache, embed_texts


class Counting:
    def __init__(self, model_name: str = "m", query_model: str | None = None) -> None:
        self.model_name, self.query_model, self.calls = model_name, query_model, []

    def get_text_embedding_batch(self, texts):
        self.calls += [("passage", t) for t in texts]
        return [[float(len(t)), 0.0] for t in texts]

    def get_query_embedding(self, text):
        self.calls.append(("query", text))
        return [0.0, float(len(text))]


def test_second_call_is_served_from_the_cache(tmp_path):
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    e = Counting()
    first = embed_texts(e, ["ab", "cde"], "passage", cache=cache)
    again = embed_texts(e, ["cde", "ab", "f"], "passage", cache=cache)
    cache.close()
    assert e.calls == [("passage", "ab"), ("passage", "cde"), ("passage", "f")]
    assert again[0].tolist() == first[1].tolist() and again[1].tolist() == first[0].tolist()


def test_keys_keep_sides_and_query_models_apart(tmp_path):
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    embed_texts(Counting(), ["x"], "passage", cache=cache)
    q = Counting()
    embed_texts(q, ["x"], "query", cache=cache)  # same text, other side: not a hit
    other = Counting(query_model="e5-query")
    embed_texts(other, ["x"], "query", cache=cache)  # another query model: not a hit either
    same = Counting(query_model="e5-query")
    embed_texts(same, ["x"], "query", cache=cache)
    cache.close()
    assert q.calls == [("query", "x")] and other.calls == [("query", "x")] and same.calls == []


def test_cached_embedder_carries_both_model_names(tmp_path):
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    wrapped = CachedEmbedder(Counting("e5-passage", "e5-query"), cache)
    assert (wrapped.model_name, wrapped.query_model) == ("e5-passage", "e5-query")
    cache.close()
