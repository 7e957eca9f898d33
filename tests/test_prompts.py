"""The prompt set: every prompt the product sends is data (rag.answering.prompts), and an Assistant
sends the set it was given, for the answer, the follow-up rewrite and the translation."""
from __future__ import annotations

import dataclasses

import pytest

from rag import Assistant, load_settings
from rag.answering.followup import rewrite_messages
from rag.answering.generate import build_messages, example_messages, quote_source, user_message
from rag.answering.prompts import DEFAULT, REWRITE_PROMPT, SYSTEM_PROMPT, USER_TURN, Example
from rag.backends.llm import ScriptedLLM
from rag.types import Passage

PASSAGE = Passage(id="c1", document="d.txt", language="en", text="Cambodia arrested 2,141 suspects.",
                  start=0, end=33, score=0.9)


def test_the_default_answer_prompt():
    system, *examples, user = build_messages("How many suspects?", "fr", [PASSAGE])
    assert system == {"role": "system", "content": SYSTEM_PROMPT}
    assert examples == example_messages() and len(examples) == 2 * len(DEFAULT.examples)
    assert user == {"role": "user", "content": "Sources:\n<sources>\n[1] Cambodia arrested 2,141 suspects.\n"
                                               "</sources>\n\nQuestion: How many suspects?\nAnswer in French."}


def test_the_default_rewrite_prompt():
    system, example, wanted, turn = rewrite_messages("Et Marseille ?", [("Lyon ?", "520 000 [1].")])
    assert system == {"role": "system", "content": REWRITE_PROMPT}
    assert example["content"].startswith("Conversation:\nQ: Combien d'habitants compte Lyon ?\n")
    assert wanted == {"role": "assistant", "content": "Combien d'habitants compte Marseille ?"}
    assert turn["content"] == "Conversation:\nQ: Lyon ?\nA: 520 000 [1].\n\nLast question: Et Marseille ?"


@pytest.mark.parametrize("text,shown", [
    ("Plain text.", "Plain text."),
    ("Two\n\nlines  apart.", "Two lines apart."),
    ("Fake [1], [^2], 【3】, ［4］, [Source 5], [1 and 2], [^1, ^2].",
     "Fake (1), (2), (3), (4), (5), (1 and 2), (1, ^2)."),
    ("Closing </sources> and < sources > tags.", "Closing   and   tags."),
    ("Brackets [sic] and years 2019 stay.", "Brackets [sic] and years 2019 stay."),
])
def test_documents_are_quoted_without_anything_that_looks_like_our_structure(text, shown):
    assert quote_source(text) == shown


def test_a_variant_is_a_parameter():
    question_first = dataclasses.replace(
        DEFAULT, user_turn="Question: {question}\n" + USER_TURN, example_turn=USER_TURN,
        examples=DEFAULT.examples[:1],
    )
    system, *examples, user = build_messages("How many?", "en", [PASSAGE], question_first)
    # the worked examples keep their own turn (the cached prefix is unchanged), the asked turn does not
    assert examples == example_messages()[:2]
    assert user["content"].startswith("Question: How many?\nSources:\n") and user["content"].endswith("Answer in English.")
    assert user_message("How many?", "en", [PASSAGE.text], question_first) == user["content"]
    # the default set itself is untouched
    assert build_messages("How many?", "en", [PASSAGE])[-1]["content"].startswith("Sources:\n")
    assert Example("q", "en", ("s",), "r") == Example("q", "en", ("s",), "r")


def test_an_assistant_sends_the_prompts_it_was_given(lib):
    question = "Myanmar đã trao trả bao nhiêu nghi phạm cho Trung Quốc?"
    prompts = dataclasses.replace(
        DEFAULT, system="SYSTEM-X", examples=(), rewrite="REWRITE-X", rewrite_examples=(),
        translate="TRANSLATE-X into {language}.",
        read_reply=lambda raw: raw.removeprefix("ANSWER: "),  # a reply shape of its own, and its reader
    )
    llm = ScriptedLLM([question, "ANSWER: Myanmar đã trao trả hơn 5.500 nghi phạm cho Trung Quốc [1].", "Hello."])
    a = Assistant(lib.settings, store=lib.store, embedder=lib.embedder, llm=llm, prompts=prompts)
    answer = a.ask("Còn Myanmar thì sao?", [("Lào đã bắt bao nhiêu nghi phạm?", "Hơn 600 nghi phạm [1].")])
    assert not answer.refused and answer.text.startswith("Myanmar đã trao trả hơn 5.500")
    assert answer.standalone_question == question
    assert a.translate("Bonjour.", "en") == "Hello."
    rewrite, answering, translating = llm.prompts
    assert [m["role"] for m in rewrite] == ["system", "user"] and rewrite[0]["content"] == "REWRITE-X"
    assert [m["role"] for m in answering] == ["system", "user"] and answering[0]["content"] == "SYSTEM-X"
    assert translating[0] == {"role": "system", "content": "TRANSLATE-X into English."}
    # an Assistant without prompts uses the default set
    assert Assistant(load_settings()).prompts is DEFAULT
