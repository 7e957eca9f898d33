"""Read in the source's language (rag/answering/source_language.py): the question translated into the
passages' language, the reply checked there, the answer translated back with its markers. Fake LLM."""
from __future__ import annotations

import re

import pytest

from rag.answering.excerpts import Excerpt, Span
from rag.answering.generate import stream_answer
from rag.answering.source_language import _with_markers, back_to_asker, source_language
from rag.backends.llm import ScriptedLLM
from rag.present.messages import message
from rag.settings import load_settings
from rag.types import Answer, Delta, Final, Passage

MUSEUM = "The museum welcomed 12,000 visitors in May."
BRIDGE = "The bridge opened in 1932."


def excerpt(pid: str, text: str, lang: str = "en") -> Excerpt:
    p = Passage(id=pid, document=f"{pid}.txt", language=lang, text=text, start=0, end=len(text), score=0.6)
    return Excerpt(p, (Span(0, len(text), text),))


EN = [excerpt("m", MUSEUM), excerpt("b", BRIDGE)]


@pytest.mark.parametrize("asker, langs, expected", [
    ("fr", ("en", "en"), "en"),
    ("vi", ("zh-Hans",), "zh-Hans"),
    ("fr", ("en", "vi"), None),  # mixed: no one language to read in
    ("en", ("en", "en"), None),  # the asker's own
    ("zh-Hans", ("zh-Hant", "zh-Hant"), None),  # Chinese either way: the script is fixed later
    ("fr", ("und",), None),  # not a language we answer in
])
def test_source_language(asker, langs, expected):
    assert source_language(asker, [excerpt(f"p{i}", "x", lang) for i, lang in enumerate(langs)]) == expected


@pytest.mark.parametrize("sentence, markers, expected", [
    ("Le musée a accueilli 12 000 visiteurs en mai.", "[1]", "Le musée a accueilli 12 000 visiteurs en mai [1]."),
    ("博物馆五月接待了12000名游客。", "[1]", "博物馆五月接待了12000名游客[1]。"),
    ("Cầu khánh thành năm 1932", "[2][1]", "Cầu khánh thành năm 1932 [2][1]"),
    ("Le pont a ouvert en 1932 .", "", "Le pont a ouvert en 1932."),
])
def test_markers_are_put_back_before_the_full_stop(sentence, markers, expected):
    assert _with_markers(sentence, markers) == expected


FR = {
    "The museum welcomed 12,000 visitors in May.": "Le musée a accueilli 12 000 visiteurs en mai.",
    "The bridge opened in 1932.": "Le pont a ouvert en 1932.",
}


def test_back_to_asker_translates_each_cited_sentence_and_keeps_its_markers():
    answer = Answer(question="How many?", text="The museum welcomed 12,000 visitors in May [1]. "
                    "The bridge opened in 1932 [2].", language="en")
    out = back_to_asker(answer, "fr", "Combien ?", lambda text, lang: FR[text], ("note",))
    assert out.text == "Le musée a accueilli 12 000 visiteurs en mai [1]. Le pont a ouvert en 1932 [2]."
    assert (out.language, out.question, out.notices, out.refused) == ("fr", "Combien ?", ("note",), False)


def test_a_translation_that_changes_a_number_is_refused():
    answer = Answer(question="?", text="The bridge opened in 1932 [1].", language="en")
    out = back_to_asker(answer, "fr", "Quand ?", lambda text, lang: "Le pont a ouvert en 1923.")
    assert out.refused and out.flags == ("ungrounded_number",) and out.citations == ()
    assert out.notices == (message("ungrounded_number", "fr"),) and out.language == "fr"


def test_a_refusal_in_the_source_language_is_told_in_the_askers():
    refused = Answer(question="?", text=message("refusal", "en"), language="en", refused=True,
                     notices=(message("echo", "en"),))
    out = back_to_asker(refused, "vi", "Bao nhiêu?", lambda text, lang: pytest.fail("nothing to translate"))
    assert out.refused and out.text == message("refusal", "vi") and out.notices == (message("echo", "vi"),)


def fake(answer: str):
    """A model that translates from a table and answers `answer` when asked in English."""
    def reply(messages):
        system = messages[0]["content"]
        if system.startswith("You are a translator"):
            text = messages[-1]["content"]
            return {"Combien de visiteurs le musée a-t-il accueillis en mai ?":
                    "How many visitors did the museum welcome in May?", **FR}.get(text, text)
        assert "Answer in English." in messages[-1]["content"], "asked in the passages' language"
        assert "How many visitors did the museum welcome in May?" in messages[-1]["content"]
        return answer
    return ScriptedLLM(fn=reply)


QUESTION = "Combien de visiteurs le musée a-t-il accueillis en mai ?"


def run(llm, on: bool, excerpts=EN):
    return list(stream_answer(QUESTION, "fr", [e.passage for e in excerpts], llm=llm,
                              settings=load_settings(min_score=0.3), excerpts=excerpts, source_language=on))


def test_on_the_model_reads_and_answers_in_the_passages_language():
    llm = fake("The museum welcomed 12,000 visitors in May [1].")
    events = run(llm, on=True)
    answer = events[-1].answer
    assert isinstance(events[-1], Final) and not answer.refused
    # (the French thousands separator is the narrow no-break space, from the translation's localisation)
    assert re.sub(r"\s", " ", answer.text) == "Le musée a accueilli 12 000 visiteurs en mai [1]."
    assert [e.text for e in events if isinstance(e, Delta)] == [answer.text]  # shown once translated
    (c,) = answer.citations
    assert (c.document, c.start, c.end, c.text) == ("m.txt", 0, len(MUSEUM), MUSEUM)
    # question translated, answered, the answer's sentence translated back
    assert [re.match(r"\w+", p[0]["content"]).group(0) for p in llm.prompts] == ["You", "You", "You"]
    assert len(llm.prompts) == 3


def test_a_reply_the_checks_refuse_in_the_source_language_stays_refused():
    events = run(fake("The museum welcomed 99,999 visitors in May [1]."), on=True)
    answer = events[-1].answer
    assert answer.refused and answer.flags == ("ungrounded_number",) and answer.language == "fr"
    assert answer.notices == (message("ungrounded_number", "fr"),)
    assert not [e for e in events if isinstance(e, Delta)]


def test_off_or_mixed_languages_the_model_is_asked_in_the_askers_language():
    for on, shown in ((False, EN), (True, [EN[0], excerpt("f", "Le pont a ouvert en 1932.", "fr")])):
        llm = ScriptedLLM(["Le musée a accueilli 12 000 visiteurs en mai [1]."])
        answer = run(llm, on=on, excerpts=shown)[-1].answer
        assert len(llm.prompts) == 1 and "Answer in French." in llm.prompts[0][-1]["content"]
        assert not answer.refused and re.sub(r"\s", " ", answer.text) == "Le musée a accueilli 12 000 visiteurs en mai [1]."
