"""Abstain with evidence: a refusal after the model was asked quotes the shown sentence closest to the
question, as a citation of its exact span (rag/answering/evidence.py). Fake LLM, no model."""
from __future__ import annotations

import pytest

from rag.answering.checks import refusal
from rag.answering.evidence import FLAG, closest, quote, sentences, with_evidence
from rag.answering.excerpts import Excerpt, Span
from rag.answering.generate import stream_answer
from rag.backends.llm import ScriptedLLM
from rag.settings import load_settings
from rag.types import Answer, Final, Passage

# One document holding two passages, so offsets are checked against the document itself.
DOC_EN = ("The bridge opened in 1932. It cost four million dollars. "
          "The museum welcomed 12,000 visitors in May. Its director is Ana Silva.")
DOC_FR = "Le pont a été inauguré en 1932. Il a coûté quatre millions de dollars."
SPLIT = DOC_EN.index("The museum")


def passage(pid: str, doc: str, text: str, start: int, lang: str = "en", score: float = 0.6) -> Passage:
    return Passage(id=pid, document=doc, language=lang, text=text[start:], start=start, end=len(text), score=score)


BRIDGE = Passage(id="b", document="en.txt", language="en", text=DOC_EN[:SPLIT].rstrip(), start=0,
                 end=len(DOC_EN[:SPLIT].rstrip()), score=0.6)
MUSEUM = passage("m", "en.txt", DOC_EN, SPLIT, score=0.5)
PONT = passage("f", "fr.txt", DOC_FR, 0, lang="fr", score=0.4)
DOCS = {"en.txt": DOC_EN, "fr.txt": DOC_FR}


def span(doc: str, sentence: str, sid: str | None = None) -> Span:
    start = DOCS[doc].index(sentence)
    return Span(start, start + len(sentence), sentence, sid)


SHOWN = [
    Excerpt(BRIDGE, (span("en.txt", "The bridge opened in 1932.", "s1"),
                     span("en.txt", "It cost four million dollars.", "s2"))),
    Excerpt(MUSEUM, (span("en.txt", "The museum welcomed 12,000 visitors in May.", "s3"),
                     span("en.txt", "Its director is Ana Silva.", "s4"))),
]


def scores(by_id: dict[str, float]):
    return lambda text, ids: {i: by_id.get(i, 0.0) for i in ids}


@pytest.mark.parametrize("question, similarity, expected", [
    # By meaning when the sentences have stored vectors and a scorer is given: any language.
    ("Qui dirige le musée ?", scores({"s4": 0.8, "s3": 0.6}), "Its director is Ana Silva."),
    ("Combien a coûté le pont ?", scores({"s2": 0.7, "s1": 0.65}), "It cost four million dollars."),
    # No scorer: shared word pairs with the question.
    ("How many visitors did the museum welcome in May?", None, "The museum welcomed 12,000 visitors in May."),
    ("When the bridge opened, what else?", None, "The bridge opened in 1932."),
    # No signal at all: the first shown sentence of the best-ranked passage.
    ("Quel âge a le capitaine ?", None, "The bridge opened in 1932."),
    ("Quel âge a le capitaine ?", scores({}), "The bridge opened in 1932."),
])
def test_closest_sentence(question, similarity, expected):
    ex, sp = closest(question, SHOWN, similarity)
    assert sp.text == expected
    assert DOCS[ex.passage.document][sp.start:sp.end] == sp.text


def test_a_whole_passage_shown_is_quoted_by_its_sentences_with_exact_offsets():
    ex = Excerpt(MUSEUM)  # no sentence stage: the model saw the whole passage
    got = sentences(ex)
    assert [s.text for s in got] == ["The museum welcomed 12,000 visitors in May.", "Its director is Ana Silva."]
    assert all(DOC_EN[s.start:s.end] == s.text for s in got)
    _, sp = closest("Its director is who?", [ex])
    assert sp.text == "Its director is Ana Silva."


@pytest.mark.parametrize("text, limit, expected", [
    ("short  sentence\n here.", 300, "short sentence here."),
    ("a" * 10, 5, "aaaa…"),
])
def test_quote(text, limit, expected):
    assert quote(text, limit) == expected


@pytest.mark.parametrize("language, said", [
    ("en", "I could not find the answer in the documents. The closest passage says: «Its director is Ana Silva.» [2]"),
    ("fr", "Je n'ai pas trouvé la réponse dans les documents. Le passage le plus proche dit : "
           "« Its director is Ana Silva. » [2]"),
    ("zh-Hant", "我在文件中沒有找到答案。 最接近的段落寫道：「Its director is Ana Silva.」[2]"),
])
def test_a_refusal_quotes_the_closest_sentence_in_the_askers_language(language, said):
    refused = refusal("Who runs the museum?", language, (BRIDGE, MUSEUM, PONT), ("a notice",))
    answer = with_evidence(refused, SHOWN, scores({"s4": 0.9}))
    assert answer.refused and answer.text == said
    assert answer.flags == (FLAG,) and answer.notices == ("a notice",)
    (c,) = answer.citations
    assert (c.n, c.document, c.passage) == (2, "en.txt", MUSEUM)  # [2]: its place in the related list
    assert DOC_EN[c.start:c.end] == c.text == "Its director is Ana Silva."
    assert answer.related == (BRIDGE, MUSEUM, PONT)


def test_a_refusal_keeps_the_flags_it_had():
    refused = Answer(question="q", text="no", language="en", refused=True, related=(BRIDGE,),
                     flags=("ungrounded_number",))
    answer = with_evidence(refused, SHOWN[:1])
    assert answer.flags == ("ungrounded_number", FLAG)
    assert with_evidence(answer, SHOWN[:1]) == answer  # quoted once


@pytest.mark.parametrize("answer, shown", [
    (Answer(question="q", text="An answer [1].", language="en", refused=False), SHOWN),  # not a refusal
    (Answer(question="q", text="no", language="en", refused=True), []),  # nothing was shown
])
def test_nothing_to_quote_leaves_the_answer_unchanged(answer, shown):
    assert with_evidence(answer, shown) is answer


def final(events) -> Answer:
    (last,) = [e for e in events if isinstance(e, Final)]
    return last.answer


@pytest.mark.parametrize("reply, evidence, quoted", [
    ("NO_ANSWER", True, True),  # the model declined
    ("The museum welcomed 99,999 visitors in May [2].", True, True),  # a check refused its reply
    ("NO_ANSWER", False, False),  # off: a plain refusal, as before
    ("The museum welcomed 12,000 visitors in May [2].", True, False),  # answered: nothing to add
])
def test_stream_answer_quotes_evidence_only_for_refusals_after_the_model(reply, evidence, quoted):
    settings = load_settings(min_score=0.3)
    answer = final(stream_answer("How many visitors did the museum welcome in May?", "en", [BRIDGE, MUSEUM, PONT],
                                 llm=ScriptedLLM([reply]), settings=settings, excerpts=SHOWN, evidence=evidence))
    assert (FLAG in answer.flags) is quoted
    if quoted:
        assert answer.refused and [c.text for c in answer.citations] == ["The museum welcomed 12,000 visitors in May."]
        assert answer.text.endswith("«The museum welcomed 12,000 visitors in May.» [2]")


def test_under_the_floor_nothing_is_quoted():
    # The best passage is not close enough: the question does not look answerable, the model is not asked.
    llm = ScriptedLLM(["The bridge opened in 1932 [1]."])
    answer = final(stream_answer("When did the bridge open?", "en", [BRIDGE, MUSEUM], llm=llm,
                                 settings=load_settings(min_score=0.9), excerpts=SHOWN, evidence=True))
    assert answer.refused and answer.citations == () and FLAG not in answer.flags and llm.prompts == []


def test_ask_quotes_the_closest_sentence_by_default_and_not_when_switched_off(make):
    assistant, _ = make(["NO_ANSWER"])
    answer = assistant.ask("Campuchia đã bắt giữ bao nhiêu nghi phạm?")
    assert answer.refused and "closest_passage" in answer.flags
    (c,) = answer.citations
    original = (make.seeds / c.document).read_text(encoding="utf-8")
    assert original[c.start : c.end] == c.text
    assert f"[{c.n}]" in answer.text  # the quote is cited in the text the reader sees
    off, _ = make(["NO_ANSWER"], refusal_evidence=False)
    plain = off.ask("Campuchia đã bắt giữ bao nhiêu nghi phạm?")
    assert plain.refused and plain.citations == () and "closest_passage" not in plain.flags
