"""Patterns shared by the stages that read a model's reply: its sentences and its citation markers.

One home for each, so the reply parser, the prompt's quoting of documents, the number check and the
fake LLM agree on what a sentence and a marker are.
"""
from __future__ import annotations

import re

# A sentence ends at . ! ? before a space or the end (so "5.500" is not split), or at 。！？.
SENTENCE = re.compile(r".+?(?:[.!?]+(?=\s|$)|[。！？]+|$)", re.S)

# A citation marker in any shape a model writes one: [1], [1, 2], [1-3], [1 and 2], [^1], 【1】,
# ［1］, [Source 1], [nguồn 1], [来源1]. Group 1: the numbers with their separators.
MARKER = re.compile(
    r"[\[【［]\s*\^?(?:(?:sources?|refs?|nguồn|来源|來源|出处|出處)\s*)?"
    r"(\d{1,4}(?:\s*(?:[,，;；、]|-|–|and|et|và|和)\s*\^?\d{1,4})*)\s*[\]】］]",
    re.I,
)

# A marker as a parsed answer writes it, and as the prompt numbers its sources: [n]. Group 1: n.
CITED = re.compile(r"\[(\d+)\]")
