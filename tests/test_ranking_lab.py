"""bench/ranking_lab.py: the pieces that decide (literal tokens, the held-out split, recall), no index."""
from __future__ import annotations

import pytest

from bench.ranking_lab import formula, literals, recall, split


@pytest.mark.parametrize("text, expected", [
    ("How many points did the Denver Broncos score in 2015?", {"denver", "broncos", "2015"}),
    ("Les Broncos de Denver ont marqué 24 points.", {"broncos", "denver", "24"}),  # "Les": a common word
    ("丹佛野马队在2015年得了24分。", {"2015", "24"}),
    ("Có 2.141 nghi phạm ở Campuchia.", {"2141", "campuchia"}),
    ("What is the B-52 for?", {"52"}),  # the digits of a name
])
def test_literals_are_digits_and_latin_names(text, expected):
    assert literals(text) == expected


def cand(i, chunk, best, literal=0.0):
    return {"id": i, "chunk": chunk, "sentences": [best], "floor": 0.0, "keyword": 0.0, "anchor": 0.0,
            "literal": literal}


ROWS = [
    {"group": "g1", "gold": ["a"], "candidates": [cand("a", 0.5, 0.6), cand("b", 0.5, 0.7)]},
    {"group": "g2", "gold": ["c"], "candidates": [cand("c", 0.5, 0.5, literal=3.0), cand("d", 0.5, 0.55)]},
]


def test_recall_by_formula():
    assert recall(ROWS, formula(wk=0))["R@1"] == 0.0
    assert recall(ROWS, formula(wk=0))["R@2"] == 1.0
    assert recall(ROWS, formula(wk=0, wl=0.05))["R@1"] == 0.5  # the shared literal lifts c above d


def test_split_keeps_a_group_on_one_side_and_is_seeded():
    rows = [{"group": f"g{i // 3}", "id": i} for i in range(30)]
    a, b = split(rows, seed=3)
    assert {r["group"] for r in a}.isdisjoint({r["group"] for r in b}) and len(a) + len(b) == 30
    assert split(rows, seed=3) == (a, b) and split(rows, seed=4) != (a, b)
