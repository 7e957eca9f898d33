"""Countries named in questions, answers and sources, in every language we answer in (rag/places.py)."""
from __future__ import annotations

import pytest

from rag.answering.checks import finish
from rag.answering.excerpts import Excerpt
from rag.text.places import mentioned, named, unsupported
from rag.types import Passage


@pytest.mark.parametrize("text, codes", [
    ("How many fraud suspects did Thailand arrest in 2021?", {"TH"}),
    ("La Thaïlande a arrêté des suspects.", {"TH"}),
    ("泰国在2021年逮捕了多少名诈骗嫌疑人？", {"TH"}),
    ("泰國在2021年逮捕了多少名詐騙嫌疑人？", {"TH"}),
    ("Trung Quốc cùng Campuchia, Lào, Myanmar, Thái Lan và Việt Nam", {"CN", "KH", "LA", "MM", "TH", "VN"}),
    ("the Burma border", {"MM"}),  # CLDR's "Myanmar (Burma)": both forms
    # Traditional text against CLDR's Simplified name, and the longest name wins: no India in it.
    ("盤踞在印度尼西亞巴淡島的窩點", {"ID"}),
    ("印度和印尼", {"IN", "ID"}),
    # Whole words only, and no demonyms or short forms in the strict reading of questions and answers.
    ("a machine in Chinese police hands", set()),
    ("ý kiến của người dân", set()),
    ("tại Mỹ", set()),
])
def test_named(text, codes):
    assert named(text) == codes


@pytest.mark.parametrize("text, code", [
    ("La police chinoise s'est associée à la police espagnole.", "CN"),
    ("La police chinoise s'est associée à la police espagnole.", "ES"),
    ("Chinese police", "CN"),
    ("la police indonésienne", "ID"),
    ("tốc độ 3600 vòng/phút tại Mỹ", "US"),
    ("Cảnh sát Trung Quốc", "CN"),
])
def test_sources_are_read_leniently(text, code):
    assert code in mentioned([text])


@pytest.mark.parametrize("question, answer, sources, missing", [
    # The question's country put on a figure from a sentence about China: caught.
    ("How many fraud suspects did Thailand arrest in 2021?", "Thailand arrested 391,000 fraud suspects in 2021 [2].",
     ["En novembre, les organes chinois de sécurité publique avaient résolu 391.000 cas de fraude."], {"TH"}),
    ("泰国在2021年逮捕了多少名诈骗嫌疑人？", "泰国在2021年逮捕了391000名诈骗嫌疑人[2]。",
     ["Les organes chinois ont résolu 391 000 cas de fraude."], {"TH"}),
    # Its source speaks of the country, in another language or as an adjective: fine.
    ("In 2019, with which country's police did China launch Operation Great Wall?",
     "China launched Operation Great Wall with the Spanish police in 2019 [1].",
     ["La police chinoise ... Opération Grande Muraille lancée avec la police espagnole en 2019."], set()),
    ("Campuchia đã bắt giữ bao nhiêu nghi phạm?", "Campuchia đã bắt giữ 2.141 nghi phạm [1].",
     ["柬埔寨逮捕了2141名嫌疑人。"], set()),
    # A country only the answer names is not the question's: left to the other checks.
    ("How many suspects were arrested?", "Thailand arrested 391,000 suspects [1].", ["Les organes chinois..."], set()),
])
def test_unsupported(question, answer, sources, missing):
    assert unsupported(question, answer, sources) == missing


def _context(text: str) -> list[Excerpt]:
    return [Excerpt(Passage(id="p", document="d.txt", language="fr", text=text, start=0, end=len(text), score=0.5))]


SOURCE = "En novembre, les organes chinois de sécurité publique avaient résolu 391.000 cas de fraude."


def test_an_answer_about_a_country_its_source_never_names_is_refused_with_the_flag():
    ctx = _context(SOURCE)
    answer = finish("How many fraud suspects did Thailand arrest?", "en",
                    "Thailand arrested 391,000 fraud suspects [1].", ctx, [ctx[0].passage])
    assert answer.refused and answer.flags == ("ungrounded_place",)
    assert "country" in answer.notices[-1]


def test_with_refusal_off_the_answer_is_shown_flagged():
    ctx = _context(SOURCE)
    answer = finish("How many fraud suspects did Thailand arrest?", "en",
                    "Thailand arrested 391,000 fraud suspects [1].", ctx, [ctx[0].passage], refuse_ungrounded=False)
    assert not answer.refused and answer.flags == ("ungrounded_place",)
    assert answer.citations[0].document == "d.txt"
