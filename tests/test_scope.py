"""A question scoped to some documents and/or languages: applied inside retrieval, so the k passages
all come from the scope (not what is left of an unscoped top k), on every index the stages read."""
from __future__ import annotations

import json

import pytest

from rag import Final, InvalidInput, Sources
from rag.retrieval.keywords import KeywordIndex, KeywordItem
from ui.cli import main

QUESTION_VI = "Campuchia đã bắt giữ bao nhiêu nghi phạm liên quan đến lừa đảo?"
VI = "003_912a6ae6278a5b97.txt"  # the Vietnamese article: unscoped, it fills the top of the list
FR = ("000_e2aec77d374aef68.txt", "001_d4ebc187bb764b66.txt")
EN = "002_f3a0f75631bd8566.txt"
ZH = "004_0a58046803119029.txt"
ALL_STAGES = "dense,center,sentence,keyword,anchor"


@pytest.mark.parametrize("stages", ["dense", "dense,keyword", "dense,center,sentence", ALL_STAGES])
def test_all_k_passages_come_from_the_documents_named(make, stages):
    assistant, _ = make(retrieval=stages, weight_anchor=0.1)
    k = 8
    unscoped = assistant.search(QUESTION_VI, k)
    assert len({p.document for p in unscoped}) > 1 and unscoped[0].document == VI
    scoped = assistant.search(QUESTION_VI, k, documents=[EN])
    assert len(scoped) == k and {p.document for p in scoped} == {EN}
    # Not a filter over the unscoped list: the English passages it held are fewer than k.
    assert sum(p.document == EN for p in unscoped) < k
    assert [p.score for p in scoped] == sorted((p.score for p in scoped), reverse=True)


def test_several_documents(make):
    assistant, _ = make()
    scoped = assistant.search(QUESTION_VI, 10, documents=[EN, ZH])
    assert len(scoped) == 10 and {p.document for p in scoped} == {EN, ZH}


@pytest.mark.parametrize("languages,documents", [
    (["fr"], set(FR)), (["en"], {EN}), (["fr", "en"], {*FR, EN}), (["zh"], {ZH}), (["zh-Hant"], {ZH}),
])
def test_scope_by_language(make, languages, documents):
    assistant, _ = make()
    scoped = assistant.search(QUESTION_VI, 8, languages=languages)
    assert len(scoped) == 8 and {p.document for p in scoped} <= documents
    assert assistant.scope(languages=languages) == sorted(documents)


def test_documents_and_languages_together_keep_what_both_allow(make):
    assistant, _ = make()
    assert assistant.scope(documents=[EN, FR[0]], languages=["fr"]) == [FR[0]]
    assert {p.document for p in assistant.search(QUESTION_VI, 5, documents=[EN, FR[0]], languages=["fr"])} == {FR[0]}


def test_an_empty_scope_is_no_scope(make):
    assistant, _ = make()
    assert assistant.scope() is None and assistant.scope([], []) is None
    assert assistant.search(QUESTION_VI, 5, documents=[]) == assistant.search(QUESTION_VI, 5)


@pytest.mark.parametrize("scope,message", [
    ({"documents": ["nope.txt"]},
     "no document named 'nope.txt' in the collection 'rag_chunks' (`rag documents` lists them)"),
    ({"documents": [EN, "a.md", "b.md"]},
     "no document named 'a.md', 'b.md' in the collection 'rag_chunks' (`rag documents` lists them)"),
    ({"languages": ["de"]},
     "no document in 'de' in the collection 'rag_chunks'; its documents are in en, fr, vi, zh-Hant"),
    ({"documents": [EN], "languages": ["vi"]},
     f"no document in 'vi' among '{EN}' in the collection 'rag_chunks'; its documents are in en, fr, vi, zh-Hant"),
])
def test_a_scope_that_matches_nothing_is_invalid_input_naming_it(make, scope, message):
    assistant, llm = make()
    with pytest.raises(InvalidInput) as e:
        assistant.search(QUESTION_VI, 5, **scope)
    assert str(e.value) == message
    with pytest.raises(InvalidInput) as e:
        next(assistant.ask_stream(QUESTION_VI, **scope))
    assert str(e.value) == message and llm.prompts == []


def test_an_answer_is_made_and_cited_from_the_scope_only(make):
    assistant, llm = make()
    events = list(assistant.ask_stream(QUESTION_VI, documents=[EN]))
    sources = events[0]
    assert isinstance(sources, Sources) and len(sources.passages) == assistant.settings.top_k
    assert {p.document for p in sources.passages} == {EN}
    answer = events[-1].answer
    assert isinstance(events[-1], Final) and answer.citations
    assert {c.document for c in answer.citations} == {EN}
    assert VI not in llm.prompts[0][-1]["content"]


def test_the_module_functions_take_a_scope(seeds_copy):
    import rag

    rag.ingest([seeds_copy])
    assert {p.document for p in rag.search(QUESTION_VI, 6, languages=["fr"])} <= set(FR)
    answer = rag.ask(QUESTION_VI, documents=[ZH])  # refused (the default score floor): related passages shown
    assert answer.related and {p.document for p in answer.related} == {ZH} and not answer.citations


def test_the_keyword_index_ranks_only_the_documents_given(tmp_path):
    index = KeywordIndex(tmp_path / "k.sqlite")
    index.add([KeywordItem("a1", "a.txt", "the cat eats the mouse", "en"),
               KeywordItem("b1", "b.txt", "the cat sleeps", "en"),
               KeywordItem("c1", "c's \"file\".txt", "a cat", "en")])
    assert {i for i, _ in index.search("cat", 10)} == {"a1", "b1", "c1"}
    assert [i for i, _ in index.search("cat", 10, documents=["b.txt"])] == ["b1"]
    assert {i for i, _ in index.search("cat", 10, documents=["c's \"file\".txt", "a.txt"])} == {"a1", "c1"}
    assert index.search("cat", 10, documents=[]) == []


def test_cli_document_and_language_options(seeds_copy, capsys):
    assert main(["ingest", str(seeds_copy), "--json"]) == 0
    capsys.readouterr()
    assert main(["search", QUESTION_VI, "-k", "6", "--document", EN, "--document", ZH, "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert len(hits) == 6 and {h["document"] for h in hits} == {EN, ZH}
    assert main(["search", QUESTION_VI, "--language", "fr", "--json"]) == 0
    assert {h["document"] for h in json.loads(capsys.readouterr().out)} <= set(FR)
    assert main(["ask", QUESTION_VI, "--language", "en", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert {c["document"] for c in answer["citations"]} <= {EN}
    assert main(["search", QUESTION_VI, "--document", "nope.txt"]) == 2
    assert capsys.readouterr().err == ("error: no document named 'nope.txt' in the collection 'rag_chunks' "
                                       "(`rag documents` lists them)\n")


@pytest.mark.parametrize("scope,message", [
    ({"documents": [f"doc{i}.txt" for i in range(1001)]},
     "the scope names 1001 documents; the limit is 1000 (RAG_MAX_SCOPE_DOCUMENTS)"),
    ({"languages": [f"l{i}" for i in range(11)]}, "the scope names 11 languages; the limit is 10 (RAG_MAX_SCOPE_LANGUAGES)"),
])
def test_a_scope_over_its_bound_is_refused_before_any_work(make, monkeypatch, scope, message):
    assistant, llm = make()
    monkeypatch.setattr(type(assistant), "documents", lambda self: pytest.fail("the scope was worked out"))
    with pytest.raises(InvalidInput) as e:
        assistant.scope(**scope)
    assert str(e.value) == message


def test_a_name_given_twice_counts_once(make):
    assistant, _ = make()
    assert assistant.scope([EN] * 5000) == [EN]
