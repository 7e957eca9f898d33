"""ask / ask_stream / search over the seeds with the fake embedder and a scripted LLM."""
from __future__ import annotations

import pytest

from rag import Assistant, Delta, Final, Sources, load_settings
from rag.errors import EmptyQuestion
from rag.backends.llm import ScriptedLLM

QUESTION_VI = "Campuchia đã bắt giữ bao nhiêu nghi phạm liên quan đến lừa đảo?"

def test_answer_cites_retrieved_passages_with_exact_spans(make):
    assistant, llm = make()  # default fake: first sentence of source [1], cited
    answer = assistant.ask(QUESTION_VI)
    assert not answer.refused and answer.language == "vi"
    assert [c.n for c in answer.citations] == [1]
    c = answer.citations[0]
    original = (make.seeds / c.document).read_text(encoding="utf-8")
    assert original[c.start : c.end] == c.text
    assert c.document == "003_912a6ae6278a5b97.txt"  # the fake embedder is lexical: same-language match
    assert "Vietnamese" in llm.prompts[0][-1]["content"]


def test_invented_markers_are_dropped(make):
    assistant, _ = make(["2.141 nghi phạm [1] theo [9]."])
    answer = assistant.ask(QUESTION_VI)
    assert answer.text == "2.141 nghi phạm [1] theo."
    assert [c.n for c in answer.citations] == [1]


def test_model_refusal_gives_refused_answer_with_related_passages(make):
    assistant, _ = make(["NO_ANSWER"], refusal_evidence=False)  # the quoted evidence: test_evidence.py
    answer = assistant.ask("Quelle est la capitale de l'Australie ?")
    assert answer.refused and answer.citations == ()
    assert answer.text == "Je n'ai pas trouvé la réponse dans les documents."
    assert len(answer.related) == assistant.settings.top_k


def test_weak_retrieval_refuses_without_calling_the_model(make):
    assistant, llm = make(min_score=0.99)
    answer = assistant.ask("Quelle est la capitale de l'Australie ?")
    assert answer.refused and llm.prompts == []
    assert answer.related  # shown as possibly related, never as citations


def test_the_refusal_floor_reads_the_best_score_not_the_first_passage():
    # Anchors may rank a less similar passage first: the model is still asked when another one
    # reaches the floor, and only when none does is it refused unasked.
    from rag.answering.generate import stream_answer
    from rag.types import Passage

    def p(i, score):
        return Passage(id=f"c{i}", document="d.txt", language="en", text="Cambodia arrested 2,141 suspects.",
                       start=0, end=33, score=score)

    for scores, asked in (((0.25, 0.40), True), ((0.25, 0.30), False)):
        llm = ScriptedLLM(["Cambodia arrested 2,141 suspects [1]."])
        events = list(stream_answer("How many suspects did Cambodia arrest?", "en", [p(1, scores[0]), p(2, scores[1])],
                                    llm=llm, settings=load_settings(min_score=0.32)))
        assert (llm.prompts != []) == asked
        assert events[-1].answer.refused != asked


def test_uncited_answer_is_not_shown(make):
    assistant, _ = make(["Cambodia arrested many people."])
    answer = assistant.ask("How many suspects did Cambodia arrest?")
    assert answer.refused
    assert any("cited no source" in n for n in answer.notices)


def test_stream_yields_sources_first_then_deltas_then_final(make):
    assistant, _ = make(["Myanmar đã trao trả hơn 5.500 nghi phạm [1]."])
    events = list(assistant.ask_stream("Myanmar đã trao trả bao nhiêu nghi phạm?"))
    assert isinstance(events[0], Sources) and events[0].passages
    assert isinstance(events[-1], Final)
    deltas = [e.text for e in events if isinstance(e, Delta)]
    assert len(deltas) > 1 and "".join(deltas) == "Myanmar đã trao trả hơn 5.500 nghi phạm [1]."


def test_refusal_sentinel_never_streams(make):
    assistant, _ = make(["NO_ANSWER"])
    events = list(assistant.ask_stream("What is the capital of Australia?"))
    assert not [e for e in events if isinstance(e, Delta)]
    assert events[-1].answer.refused


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_question_is_an_error(make, question):
    assistant, _ = make()
    with pytest.raises(EmptyQuestion):
        assistant.ask(question)


def test_long_question_is_truncated_with_a_notice(make):
    assistant, llm = make()
    answer = assistant.ask("How many suspects? " * 6000)
    assert any("shortened to 2000 characters" in n for n in answer.notices)
    assert len(llm.prompts[0][-1]["content"]) < 8000


def test_empty_index_says_so(tmp_path):
    assistant = Assistant(load_settings(), llm=ScriptedLLM())
    answer = assistant.ask("Combien de suspects ?")
    assert answer.refused
    assert any("rag ingest" in n for n in answer.notices)


def test_forced_language(make):
    assistant, llm = make(["2141 [1]"], language="zh-Hant")
    answer = assistant.ask("How many suspects did Cambodia arrest?")
    assert answer.language == "zh-Hant"
    assert "Traditional Chinese" in llm.prompts[0][-1]["content"]


def test_search_returns_scored_passages(make):
    assistant, _ = make()
    passages = assistant.search("Myanmar nghi phạm Trung Quốc", k=3)
    assert len(passages) == 3
    assert passages[0].score >= passages[1].score >= passages[2].score
    assert passages[0].document == "003_912a6ae6278a5b97.txt"
