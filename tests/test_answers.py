"""Answers you can trust, with the fake LLM: follow-ups, exact sentence spans, number checks."""
from __future__ import annotations

import pytest

from rag.answering.followup import recent_history

VI_DOC = "003_912a6ae6278a5b97.txt"

@pytest.mark.parametrize("history,budget,kept", [
    ([], 300, []),
    ([("q1", "a1"), ("q2", "a2")], 300, [("q1", "a1"), ("q2", "a2")]),
    ([("q1 " * 200, "a1"), ("q2", "a2")], 100, [("q2", "a2")]),  # the old long turn does not fit
    ([("q", "long answer " * 400)], 50, [("q", ("long answer " * 400)[-100:])]),  # one turn: its end
    # one turn whose question is too long: the question's start and the answer's end, never the whole
    ([("long question " * 10**4, "a")], 50, [(("long question " * 10**4)[:100], "a")]),
])
def test_recent_history_keeps_the_latest_turns_within_budget(history, budget, kept):
    assert recent_history(history, budget) == kept


def test_follow_up_is_rewritten_before_retrieval(make):
    assistant, llm = make(["Cảnh sát Trung Quốc và Lào đã bắt bao nhiêu nghi phạm?", "Hơn 600 nghi phạm [1]."])
    history = [("Myanmar đã trao trả bao nhiêu nghi phạm?", "Hơn 5.500 nghi phạm [1].")]
    answer = assistant.ask("Còn Lào thì sao?", history)
    assert answer.standalone_question == "Cảnh sát Trung Quốc và Lào đã bắt bao nhiêu nghi phạm?"
    assert answer.question == "Còn Lào thì sao?"
    rewrite_prompt, answer_prompt = llm.prompts
    assert "Myanmar đã trao trả bao nhiêu nghi phạm?" in rewrite_prompt[-1]["content"]
    assert "Question: Cảnh sát Trung Quốc và Lào đã bắt bao nhiêu nghi phạm?" in answer_prompt[-1]["content"]
    assert answer.to_dict()["standalone_question"] == answer.standalone_question


def test_no_history_no_rewrite(make):
    assistant, llm = make(["Hơn 600 nghi phạm [1]."])
    answer = assistant.ask("Cảnh sát Lào đã bắt bao nhiêu nghi phạm?")
    assert len(llm.prompts) == 1 and answer.standalone_question is None


def test_failed_rewrite_falls_back_to_the_question(make):
    assistant, llm = make(["NO_ANSWER", "Hơn 600 nghi phạm [1]."])
    answer = assistant.ask("Còn Lào thì sao?", [("Myanmar?", "5.500 [1].")])
    assert answer.standalone_question is None
    assert "Question: Còn Lào thì sao?" in llm.prompts[1][-1]["content"]


def test_model_sees_sentences_and_citations_point_at_one(make):
    assistant, llm = make(["Myanmar đã trao trả hơn 5.500 nghi phạm cho Trung Quốc [1]."])
    answer = assistant.ask("Myanmar đã trao trả bao nhiêu nghi phạm cho Trung Quốc?")
    [c] = answer.citations
    original = (make.seeds / c.document).read_text(encoding="utf-8")
    assert original[c.start : c.end] == c.text
    assert c.passage.start <= c.start < c.end <= c.passage.end
    assert (c.end - c.start) < (c.passage.end - c.passage.start)  # a sentence, not the chunk
    assert "5.500" in c.text
    sources = llm.prompts[0][-1]["content"].split("Question:")[0]
    assert len(sources) < sum(len(p.text) for p in answer.related[:2]) + len(c.passage.text)


def test_whole_passages_when_sentences_are_off(make):
    assistant, _ = make(["Myanmar đã trao trả hơn 5.500 nghi phạm cho Trung Quốc [1]."], context_sentences=0)
    [c] = assistant.ask("Myanmar đã trao trả bao nhiêu nghi phạm cho Trung Quốc?").citations
    assert (c.start, c.end) == (c.passage.start, c.passage.end)


def test_number_missing_from_the_cited_span_is_flagged(make):
    assistant, _ = make(["Campuchia đã bắt giữ 9.999 nghi phạm [1]."], refuse_ungrounded=False)
    answer = assistant.ask("Campuchia đã bắt giữ bao nhiêu nghi phạm?")
    assert answer.flags == ("ungrounded_number",) and not answer.refused
    assert answer.citations[0].unsupported_numbers == ("9.999",)


def test_ungrounded_answer_is_refused_by_default_with_the_flag_kept(make):
    assistant, _ = make(["Campuchia đã bắt giữ 9.999 nghi phạm [1]."], refusal_evidence=False)
    answer = assistant.ask("Campuchia đã bắt giữ bao nhiêu nghi phạm?")
    assert answer.refused and answer.flags == ("ungrounded_number",) and answer.citations == ()
    assert "không có trong nguồn" in answer.notices[-1]


def test_a_reply_that_repeats_the_question_is_refused(make):
    assistant, _ = make(["Selon Sun Maoli, combien de suspects ont été rapatriés d'autres pays [1] ?"])
    answer = assistant.ask("Selon Sun Maoli, combien de suspects ont été rapatriés d'autres pays ?")
    assert answer.refused and "répéter la question" in answer.notices[-1]


def test_answer_is_written_in_the_questions_chinese_script(make):
    assistant, _ = make(["緬甸移交了1207名涉诈犯罪嫌疑人[1]。"])  # the model mixed both scripts
    answer = assistant.ask("9月6日，緬甸相關地方執法部門向我方移交了多少名涉詐犯罪嫌疑人？")
    assert answer.language == "zh-Hant" and answer.text.startswith("緬甸移交了1207名涉詐犯罪嫌疑人")


def test_grounded_number_is_not_flagged(make):
    assistant, _ = make(["Campuchia đã bắt giữ 2.141 nghi phạm [1]."])
    answer = assistant.ask("Campuchia đã bắt giữ bao nhiêu nghi phạm liên quan đến lừa đảo?")
    assert answer.flags == () and answer.citations[0].unsupported_numbers == ()


def test_numbers_follow_the_answer_language(make):
    assistant, _ = make(["柬埔寨逮捕了2.141名诈骗嫌疑人[1]。"], language="zh-Hans")
    answer = assistant.ask("Campuchia đã bắt giữ bao nhiêu nghi phạm liên quan đến lừa đảo?")
    assert "2141名" in answer.text and "2.141" not in answer.text


def test_only_the_latest_turns_reach_the_rewrite(make):
    assistant, llm = make(["Combien au Laos ?", "Réponse [1]."], history_turns=2, history_tokens=10**6)
    history = [(f"question numéro {i} ?", f"réponse numéro {i}.") for i in range(50)]
    assistant.ask("Et au Laos ?", history)
    rewrite_turn = llm.prompts[0][-1]["content"]
    assert "question numéro 49 ?" in rewrite_turn and "question numéro 48 ?" in rewrite_turn
    assert "question numéro 47 ?" not in rewrite_turn
