"""Anchors (rag/anchors.py): countries and dates read alike in every language, and the ranking they
give the retriever."""
from __future__ import annotations

import math

import pytest

from rag.text.anchors import bonuses, dates, framing_numbers, of_passage, of_question


@pytest.mark.parametrize("text, expected", [
    ("on September 6?", {"09-06"}),
    ("on Sept. 6th", {"09-06"}),
    ("le 6 septembre", {"09-06"}),
    ("le 1er mai", {"05-01"}),
    ("the 6th of September", {"09-06"}),
    ("Ngày 6/9, cơ quan", {"09-06"}),  # day first
    ("Cuộc họp ngày 14/11", {"11-14"}),
    ("ngày 6 tháng 9", {"09-06"}),
    ("9月6日,緬甸", {"09-06"}),
    ("九月六日", {"09-06"}),
    ("十一月", {"11"}),
    ("截至2022年11月", {"Y2022", "11"}),
    ("En novembre, les organes", {"11"}),
    ("tháng 11 năm 2022", {"11", "Y2022"}),
    # Not dates: a month-like word alone, numbers that are no years, a fraction-like ratio with a year.
    ("May I ask?", set()),
    ("2.141 suspects, 1,2019 and 20190", set()),
    ("13/25", set()),
    ("", set()),
])
def test_dates(text, expected):
    assert dates(text) == expected


def test_question_anchors_are_strict_passage_anchors_lenient():
    assert of_question("How many suspects were arrested on Batam island in Indonesia?") == {"ID"}
    # Demonyms count in passages only, and a day also gives its month.
    assert of_question("la police chinoise") == frozenset()
    assert {"CN", "09-06", "09"} <= of_passage("La police chinoise, le 6 septembre.")


def test_bonuses_weigh_rare_anchors_more():
    asked = of_question("How many suspects did Myanmar hand over to China on September 6?")
    assert asked == {"MM", "CN", "09-06"}
    candidates = {
        "zh": "9月6日,緬甸相關地方執法部門集中向我方移交涉詐犯罪嫌疑人1207名。中國警方",
        "vi": "Myanmar đã trao trả hơn 5.500 nghi phạm cho Trung Quốc.",
        "fr": "La police chinoise a démantelé des réseaux.",
        "en": "Chinese police worked with Myanmar.",
    }
    b = bonuses(asked, candidates)
    # China is in every candidate: it weighs nothing. Myanmar is in 3 of 4, September 6 in 1 of 4.
    assert b["zh"] == pytest.approx(1.0)
    assert b["vi"] == b["en"] == pytest.approx(math.log(4 / 3) / (math.log(4 / 3) + math.log(4)))
    assert b.get("fr", 0.0) == 0.0  # nothing but China: no bonus


@pytest.mark.parametrize("question, candidates", [
    ("How many suspects were arrested?", {"a": "Indonesia, 6 septembre"}),  # nothing asked
    ("How many suspects were arrested in Indonesia?", {"a": "Les suspects.", "b": "Chine"}),  # nobody holds it
    ("What did China do?", {"a": "China", "b": "la Chine"}),  # everybody holds it
])
def test_no_bonus(question, candidates):
    assert bonuses(of_question(question), candidates) == {}


@pytest.mark.parametrize("question, sources, expected", [
    # The question's year and month, each spoken of by some source (a month as a word, a day's month).
    ("截至2022年11月，中国公安机关破获了多少起案件？", ["391 000 cas en 2022", "En novembre, 391.000 cas"], {2022, 11}),
    ("截至2022年11月，中国公安机关破获了多少起案件？", ["391 000 cas en 2022", "le 14 novembre"], {2022, 11}),
    # A year no source speaks of stays ungrounded: the mark of an unanswerable question.
    ("How many suspects did Thailand arrest in 2021?", ["391 000 cas en 2022"], set()),
    ("Who handed over suspects on September 6?", ["9月6日，缅甸移交1207名嫌疑人"], {9, 6}),
    ("Who handed over suspects on September 6?", ["le 5 septembre"], set()),
    ("How many suspects?", ["en 2022"], set()),
])
def test_framing_numbers(question, sources, expected):
    assert framing_numbers(question, sources) == {float(n) for n in expected}
