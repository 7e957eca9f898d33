"""Anchors: what a question names that reads the same in every language (countries, calendar dates).

Cross-lingual retrieval leans on meaning, and the small embedder blurs specifics: asked in English
"How many suspects were arrested on Batam island in Indonesia?", it ranks a French passage about
arrests above the Chinese one that says 印度尼西亞 and 88名. Anchors are language-free keys read
from a question and from a passage: a country code (CLDR names in five locales, through
`rag.text.places`) and a date ("September 6", "6 septembre", "ngày 6/9", "9月6日" are all `09-06`; a
month alone, "novembre" or "11月", is `11`; a year, "2019" or "2019年", is `Y2019`). The retriever
ranks a candidate higher for each of the question's anchors it holds, the rarer ones among the
candidates weighing more (docs/retrieval.md).
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from rag.text.numbers import zh_numeral
from rag.text.places import mentioned, named

_MONTHS = {
    # en (full and usual abbreviations), fr, in month order
    m: i
    for i, names in enumerate(
        [
            "january jan janvier",
            "february feb février fevrier",
            "march mar mars",
            "april apr avril",
            "may mai",
            "june jun juin",
            "july jul juillet",
            "august aug août aout",
            "september sep sept septembre",
            "october oct octobre",
            "november nov novembre",
            "december dec décembre decembre",
        ],
        1,
    )
    for m in names.split()
}
_MONTH_WORD = "|".join(sorted(map(re.escape, _MONTHS), key=len, reverse=True))
_ZH_NUM = r"[0-9]{1,2}|[一二三四五六七八九十]{1,3}"

_DATE_PATTERNS = (
    # "September 6", "Sept. 6th"  (en: month first)
    (re.compile(rf"\b({_MONTH_WORD})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b", re.I), "md"),
    # "6 septembre", "1er mai", "6th of September"
    (re.compile(rf"\b(\d{{1,2}})(?:er|st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_WORD})\b", re.I), "dm"),
    # "ngày 6 tháng 9", "6 tháng 9"
    (re.compile(r"\b(\d{1,2})\s+tháng\s+(\d{1,2})\b", re.I), "dm"),
    # "9月6日", "9月6号", "九月六日"
    (re.compile(rf"({_ZH_NUM})\s*月\s*({_ZH_NUM})\s*[日号號]"), "md"),
    # "ngày 6/9", "14/11" (day first, as in Vietnamese and French; not a fraction or a year "2/2022")
    (re.compile(r"(?<![\d/.])(\d{1,2})/(\d{1,2})(?![\d/])"), "dm"),
)
_MONTH_ONLY = (
    re.compile(rf"\b({_MONTH_WORD})\b", re.I),
    re.compile(r"\btháng\s+(\d{1,2})\b", re.I),
    re.compile(rf"({_ZH_NUM})\s*月"),
)
# Abbreviations that are everyday words when written alone ("may", "mar", "jan" as a name...).
_AMBIGUOUS_ALONE = {"may", "mai", "mar", "jan", "sep", "dec", "oct", "nov", "aug", "apr", "jun", "jul", "feb", "mars"}


def _number(text: str) -> int:
    """Digits, or a Chinese numeral ("六" 6, "十二" 12, "三十一" 31); 0 for neither."""
    if text.isdigit():
        return int(text)
    return zh_numeral(text) or 0


def _month(token: str) -> int:
    return _MONTHS.get(token.lower(), 0) or _number(token)


_YEAR = re.compile(r"(?<![\d.,])(1[6-9]\d\d|20\d\d)(?![\d.,]\d|\d)")


def dates(text: str) -> set[str]:
    """Calendar anchors of `text`: "MM-DD" for a day of a month, "MM" for a month named alone,
    "Y2019" for a year ("2019", "2019年")."""
    text = unicodedata.normalize("NFKC", text)
    found: set[str] = {f"Y{m.group(1)}" for m in _YEAR.finditer(text)}
    covered: list[tuple[int, int]] = []
    for pattern, order in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            a, b = m.group(1), m.group(2)
            month, day = (_month(a), _number(b)) if order == "md" else (_month(b), _number(a))
            if 1 <= month <= 12 and 1 <= day <= 31:
                found.add(f"{month:02d}-{day:02d}")
                covered.append(m.span())
    for pattern in _MONTH_ONLY:
        for m in pattern.finditer(text):
            if any(s <= m.start() < e for s, e in covered):
                continue
            word = m.group(1)
            if word.lower() in _AMBIGUOUS_ALONE:
                continue
            month = _month(word)
            if 1 <= month <= 12:
                found.add(f"{month:02d}")
    return found


def of_question(text: str) -> frozenset[str]:
    """What the question names: countries written out (strict) and dates."""
    return frozenset({*named(text), *dates(text)})


@lru_cache(maxsize=4096)
def of_passage(text: str) -> frozenset[str]:
    """What a passage speaks of: countries, leniently (demonyms, short forms), and dates; a day also
    gives its month, so "en novembre" in a question finds "le 14 novembre"."""
    days = dates(text)
    return frozenset({*mentioned([text]), *days, *(d[:2] for d in days)})


def framing_numbers(question: str, sources: Sequence[str]) -> frozenset[float]:
    """The numbers of the question's own dates that some source speaks of, in any language: asked
    "截至2022年11月...?", an answer that repeats "2022年11月" is framed by the question, not sourced,
    and a French source saying "en 2022" and "en novembre" grounds it. A date no source speaks of
    ("Thailand's arrests in 2021") is left to the number check: it is the usual mark of an
    unanswerable question."""
    asked = dates(question)
    if not asked:
        return frozenset()
    held = asked & frozenset().union(*map(of_passage, sources))
    return frozenset(float(n) for key in held for n in key.lstrip("Y").split("-"))


def bonuses(question: frozenset[str], candidates: dict[str, str]) -> dict[str, float]:
    """Each candidate's (id -> text) share of the question's anchors, each anchor weighted by how
    rare it is among the candidates (log n / holders): "China" in every passage of a corpus about
    Chinese police tells nothing, "September 6" in one of them tells a lot. 0 to 1."""
    held = {i: question & of_passage(t) for i, t in candidates.items()}
    n = len(held)
    weight = {}
    for a in question:
        holders = sum(a in h for h in held.values())
        if holders:
            weight[a] = math.log(n / holders)
    total = sum(weight.values())
    if total <= 0:
        return {}
    return {i: sum(weight.get(a, 0.0) for a in h) / total for i, h in held.items() if h}
