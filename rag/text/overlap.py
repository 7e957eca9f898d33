"""How much of a text another one copies: word bigrams (character bigrams inside CJK runs).

Bigrams are shared mostly by copies, not by chance; the answer checks use them to tell a sentence
quoted from a source, or a question merely restated, from a new claim.
"""
from __future__ import annotations

import re

from rag.text.language import to_script


def bigrams(text: str) -> set[str]:
    """Word bigrams (character bigrams inside CJK runs)."""
    grams: set[str] = set()
    prev = None
    if re.search(r"[\u3400-\u9fff]", text):
        text = to_script(text, "zh-Hans")  # a Simplified answer quoting a Traditional source still matches
    for w in re.findall(r"\w+", text.lower()):
        if re.search(r"[\u3000-\u9fff]", w):
            grams.update(w[i : i + 2] for i in range(len(w) - 1))
            prev = None
            continue
        if prev is not None:
            grams.add(f"{prev} {w}")
        prev = w
    return grams


def containment(text: str, grams: set[str]) -> float:
    """The share of `text`'s bigrams found in `grams` (0.0 for a text without any)."""
    mine = bigrams(text)
    return len(mine & grams) / len(mine) if mine else 0.0
