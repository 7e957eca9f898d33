"""Uncited answers traced back by meaning (a translated quote shares no words with its source)."""
from __future__ import annotations

import pytest

from rag.answering.checks import attribute_by_meaning, finish
from rag.answering.excerpts import Excerpt, Span
from rag.present.messages import message
from rag.types import Passage

EN = "The Commission has a monopoly on initiating legislation, while Parliament can amend it."
VI = "Campuchia đã bắt giữ 2.141 nghi phạm và bàn giao cho Trung Quốc."


def excerpt(pid: str, doc: str, lang: str, text: str, span_id: str | None) -> Excerpt:
    p = Passage(id=pid, document=doc, language=lang, text=text, start=0, end=len(text), score=0.5)
    return Excerpt(p, (Span(0, len(text), text, span_id),))


EXCERPTS = [excerpt("p1", "a.txt", "en", EN, "s1"), excerpt("p2", "b.txt", "vi", VI, "s2")]


def table(scores: dict[str, dict[str, float]]):
    """A similarity whose scores depend on which answer sentence is asked about."""
    calls = []

    def similarity(text, ids):
        calls.append((text, tuple(ids)))
        for key, by_id in scores.items():
            if key in text:
                return {i: by_id.get(i, 0.0) for i in ids}
        return {i: 0.0 for i in ids}

    similarity.calls = calls
    return similarity


@pytest.mark.parametrize(
    "text, scores, expected, cited",
    [
        # A Chinese translation of the English sentence: attributed to it.
        ("欧盟委员会对发起立法具有垄断权。", {"欧盟": {"s1": 0.8, "s2": 0.3}}, "欧盟委员会对发起立法具有垄断权[1]。", (1,)),
        # Its number is in the Vietnamese sentence, written the Chinese way.
        ("柬埔寨逮捕了2141名嫌疑人。", {"柬埔寨": {"s1": 0.2, "s2": 0.7}}, "柬埔寨逮捕了2141名嫌疑人[2]。", (2,)),
        # Closest, but not close enough: left uncited.
        ("欧盟委员会对发起立法具有垄断权。", {"欧盟": {"s1": 0.4}}, "欧盟委员会对发起立法具有垄断权。", ()),
        # Close in meaning, but its number is not in that sentence: left uncited.
        ("柬埔寨逮捕了3000名嫌疑人。", {"柬埔寨": {"s2": 0.9}}, "柬埔寨逮捕了3000名嫌疑人。", ()),
        # The closest sentence lacks the number, the next one holds it (and is close enough): that one.
        ("柬埔寨逮捕了2141名嫌疑人。", {"柬埔寨": {"s1": 0.9, "s2": 0.6}}, "柬埔寨逮捕了2141名嫌疑人[2]。", (2,)),
        # ...but not when the one holding it is not close enough.
        ("柬埔寨逮捕了2141名嫌疑人。", {"柬埔寨": {"s1": 0.9, "s2": 0.4}}, "柬埔寨逮捕了2141名嫌疑人。", ()),
        # Two sentences, each to its own source; a sentence that already cites is left alone.
        ("The Commission initiates laws. Cambodia arrested 2,141 suspects [2].",
         {"Commission": {"s1": 0.9}}, "The Commission initiates laws [1]. Cambodia arrested 2,141 suspects [2].", (1,)),
    ],
)
def test_attribute_by_meaning(text, scores, expected, cited):
    assert attribute_by_meaning(text, EXCERPTS, table(scores), threshold=0.5) == (expected, cited)


def test_sentences_without_stored_vectors_are_not_scored():
    sim = table({"欧盟": {"s1": 0.9}})
    bare = [excerpt("p1", "a.txt", "en", EN, None)]
    assert attribute_by_meaning("欧盟委员会具有垄断权。", bare, sim, 0.5) == ("欧盟委员会具有垄断权。", ())
    assert sim.calls == []


def test_finish_cites_the_exact_sentence_found_by_meaning():
    answer = finish("哪个实体对发起立法具有垄断权？", "zh-Hans", "欧盟委员会对发起立法具有垄断权。", EXCERPTS, [e.passage for e in EXCERPTS],
                    similarity=table({"欧盟": {"s1": 0.8}}), min_similarity=0.5)
    assert not answer.refused and answer.text == "欧盟委员会对发起立法具有垄断权[1]。"
    (c,) = answer.citations
    assert (c.document, c.start, c.end, c.text) == ("a.txt", 0, len(EN), EN)


def test_finish_without_similarity_still_refuses_an_uncited_answer():
    answer = finish("哪个实体对发起立法具有垄断权？", "zh-Hans", "欧盟委员会对发起立法具有垄断权。", EXCERPTS,
                    [e.passage for e in EXCERPTS])
    assert answer.refused and answer.citations == ()
    assert answer.related  # the passages are still offered as possibly related


def test_ask_traces_an_uncited_translation_through_the_sentence_store(make):
    # The fake embedder's scores mean nothing, so accept any: the point is the wiring, from the stored
    # sentence vectors to a citation of one of the sentences the model was shown.
    a, llm = make(["警方的行动取得了成果。"], attribution_min_score=-1.0)
    answer = a.ask("柬埔寨逮捕了多少名嫌疑人？")
    assert not answer.refused and answer.text.endswith("]。")
    (c,) = answer.citations
    assert " ".join(c.text.split()) in llm.prompts[0][-1]["content"]  # a sentence the model was shown
    original = (make.seeds / c.document).read_text(encoding="utf-8")
    assert original[c.start : c.end] == c.text


def test_ask_leaves_an_uncited_answer_refused_under_the_threshold(make):
    a, _ = make(["警方的行动取得了成果。"], attribution_min_score=1.0, refusal_evidence=False)
    answer = a.ask("柬埔寨逮捕了多少名嫌疑人？")
    assert answer.refused and answer.citations == ()


FR = "Près de 1 000 suspects ont été rapatriés d'autres pays, selon Sun Maoli."
FR_EXCERPTS = [excerpt("p3", "c.txt", "fr", FR, "s3")]


@pytest.mark.parametrize(
    "question, reply, problem",
    [
        # The question restated, with its question mark...
        ("Selon Sun Maoli, combien de suspects ont été rapatriés d'autres pays ?",
         "Selon Sun Maoli, combien de suspects ont été rapatriés d'autres pays [1] ?", "echo"),
        # ...or without it: not one word pair the question lacks.
        ("Combien de suspects ont été rapatriés d'autres pays ?",
         "Combien de suspects ont été rapatriés d'autres pays [1].", "echo"),
        ("苏茂利说，从其他国家遣返了多少名嫌疑人？", "从其他国家遣返了多少名嫌疑人[1]。", "echo"),
        # ...or reworded without one keyword the question lacks ("The UN resolution endorsed the IPCC").
        ("Quels suspects ont été rapatriés d'autres pays ?", "Les suspects ont été rapatriés d'autres pays [1].",
         "echo"),
        # The question's words around the answer: an answer.
        ("Combien de suspects ont été rapatriés d'autres pays ?",
         "Près de 1 000 suspects ont été rapatriés d'autres pays [1].", None),
        ("从其他国家遣返了多少名嫌疑人？", "从其他国家遣返了近1000名嫌疑人[1]。", None),
        # A yes-or-no question is answered by restating it as a statement.
        ("从其他国家遣返了近1000名嫌疑人吗？", "从其他国家遣返了近1000名嫌疑人[1]。", None),
        ("Est-ce que près de 1 000 suspects ont été rapatriés d'autres pays ?",
         "Près de 1 000 suspects ont été rapatriés d'autres pays [1].", None),
        # The other checks name their own problem.
        ("Combien de suspects ont été rapatriés ?", "Près de 2 000 suspects ont été rapatriés [1].",
         "ungrounded_number"),
        ("Combien de suspects ont été rapatriés ?", "Il y en a beaucoup.", "uncited"),
        # The model's own refusal is an answer, not a problem.
        ("Combien de suspects ont été rapatriés ?", "NO_ANSWER", None),
    ],
)
def test_checks_say_what_was_wrong(question, reply, problem):
    lang = "zh-Hans" if question[0] > "\u3000" else "fr"
    answer = finish(question, lang, reply, FR_EXCERPTS, [FR_EXCERPTS[0].passage])
    assert answer.refused == (problem is not None or reply == "NO_ANSWER")
    assert answer.notices == ((message(problem, lang),) if problem else ())


FR_2022 = excerpt("p3", "c.txt", "fr", "Les organes chinois ont résolu 391 000 cas de fraude en 2022.", "s3")
FR_NOV = excerpt("p4", "c.txt", "fr", "En novembre, les organes chinois avaient résolu 391.000 cas.", "s4")


@pytest.mark.parametrize("question, shown, refused", [
    # The question's "2022年11月" repeated in the answer: 2022 is in the cited sentence, November in
    # the other one shown; the answer stands.
    ("截至2022年11月，中国公安机关破获了多少起案件？", [FR_2022, FR_NOV], False),
    # No shown source speaks of November: "11" is a number no source holds.
    ("截至2022年11月，中国公安机关破获了多少起案件？", [FR_2022], True),
    # The same answer to a question that did not name the date: the date is the model's own.
    ("中国公安机关破获了多少起案件？", [FR_2022, FR_NOV], True),
])
def test_the_questions_own_dates_are_grounded_by_any_shown_source(question, shown, refused):
    answer = finish(question, "zh-Hans", "截至2022年11月，中国公安机关破获了391000起案件[1]。", shown,
                    [e.passage for e in shown])
    assert answer.refused is refused
    assert answer.flags == (("ungrounded_number",) if refused else ())
