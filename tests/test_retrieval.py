"""The retrieval pipeline: stage parsing, the retriever built from settings, and keyword-only hits scored for real."""
from __future__ import annotations

import pytest

from rag import Assistant, load_settings
from rag.errors import ConfigError
from rag.retrieval.stages import Retriever, Weights, parse_stages


@pytest.mark.parametrize("value,stages", [
    ("dense", ("dense",)),
    ("dense, keyword", ("dense", "keyword")),
    ("dense,center,keyword", ("dense", "center", "keyword")),
])
def test_parse_stages(value, stages):
    assert parse_stages(value) == stages


@pytest.mark.parametrize("value,message", [
    ("dense,magic", "unknown retrieval stage(s) 'magic'; known: dense, center, sentence, keyword, anchor"),
    ("keyword", "retrieval stages must include 'dense'"),
])
def test_bad_stages(value, message):
    with pytest.raises(ConfigError) as e:
        parse_stages(value)
    assert str(e.value) == message


def test_the_retriever_is_built_from_settings_alike_for_ask_and_eval():
    s = load_settings(retrieval="dense, keyword", candidates=7, weight_sentence=0.6, weight_keyword=0.2,
                      weight_anchor=0.5)
    parts = dict(store="store", embedder="embedder", keywords="keywords", centering=None, sentences=None)
    r = Retriever.from_settings(s, **parts)
    assert (r.store, r.embedder, r.keywords, r.centering, r.sentences) == tuple(parts.values())
    assert r.stages == ("dense", "keyword") and r.candidates == 7
    assert r.weights == Weights(chunk=pytest.approx(0.4), sentence=0.6, keyword=0.2, anchor=0.5)
    # `rag eval --stages` replaces the configured stages, and they are checked as RAG_RETRIEVAL is
    assert Retriever.from_settings(s, **parts, stages=["dense", "center"]).stages == ("dense", "center")
    with pytest.raises(ConfigError):
        Retriever.from_settings(s, **parts, stages=["keyword"])
    assert Assistant(s).retriever.stages == r.stages and Assistant(s).retriever.weights == r.weights


def test_scores_are_cosine_plus_weighted_keyword_even_for_keyword_only_hits(seeds_copy):
    q = "2.141 nghi phạm Campuchia"
    # a heavy keyword weight so that chunks found by keywords alone reach the top 5
    a = Assistant(load_settings(retrieval="dense,keyword", candidates=1, top_k=5, weight_keyword=1.0))
    a.ingest([seeds_copy])
    passages = a.search(q, k=5)
    assert len(passages) == 5
    v = a.embedder.get_query_embedding(q)
    bm25 = dict(a.keywords.search(q, 5))
    top = max(bm25.values())
    dense_ids = {h.id for h in a.store.query(v, 5)}
    assert any(p.id not in dense_ids for p in passages)  # some came from the keyword index only
    for p in passages:
        [hit] = a.store.get([p.id], embedding=v)
        assert p.score == pytest.approx(hit.score + 1.0 * bm25.get(p.id, 0.0) / top, abs=1e-6)


def test_anchors_reorder_candidates_but_leave_their_scores(seeds_copy):
    from rag.text.anchors import of_passage, of_question

    q = "How many suspects were arrested in Indonesia, and what happened on September 6?"
    a = Assistant(load_settings(retrieval="dense,anchor", weight_anchor=1.0, candidates=60, top_k=5))
    a.ingest([seeds_copy])
    passages = a.search(q, k=5)
    asked = of_question(q)
    assert asked == {"ID", "09-06"}
    # The one passage saying both (in Traditional Chinese: 印度尼西亞, 9月6日) comes first...
    assert asked <= of_passage(passages[0].text) and "9月6日" in passages[0].text
    # ...with its own cosine as its score: min_score still reads similarity, not the bonus.
    v = a.embedder.get_query_embedding(q)
    for p in passages:
        [hit] = a.store.get([p.id], embedding=v)
        assert p.score == pytest.approx(hit.score, abs=1e-6)


def test_settings_reject_unknown_stage(monkeypatch):
    from rag.settings import load_settings as load

    with pytest.raises(ConfigError, match="RAG_RETRIEVAL"):
        load(retrieval="dense,translate")
