"""Numbers as written in fr/en/vi/zh text, normalised so a claim can be checked against a source.

"2.141" (vi), "2,141" (en), "2 141" (fr) and "2141" all give "2141". A group like "2.141" is also
a valid English decimal, so every reading is kept: matching asks whether any reading is shared.
"""
from __future__ import annotations

import re

# digits with optional thousands groups (. , space, NBSP, narrow NBSP) and an optional decimal part
_NUMBER = re.compile(r"(?<![\d.,])\d{1,3}(?:[.,\u00a0\u202f ]\d{3})+(?:[.,]\d+)?(?![\d])|(?<![\d])\d+(?:[.,]\d+)?(?![\d])")


def readings(token: str) -> set[str]:
    """Every plausible value of one written number, as canonical strings."""
    out = set()
    compact = re.sub(r"[\u00a0\u202f ]", "", token)
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", compact):
        out.add(compact.replace(".", "").replace(",", ""))  # thousands separators
    if re.fullmatch(r"\d+[.,]\d+", compact):
        whole, frac = re.split(r"[.,]", compact)
        out.add(f"{int(whole)}.{frac.rstrip('0')}".rstrip("."))  # a decimal
    if re.fullmatch(r"\d+", compact):
        out.add(str(int(compact)))
    if not out:  # e.g. 1.234,5 : thousands '.' then decimal ','
        m = re.fullmatch(r"(\d{1,3}(?:[.,]\d{3})+)([.,])(\d+)", compact)
        if m:
            out.add(f"{re.sub(r'[.,]', '', m.group(1))}.{m.group(3).rstrip('0')}".rstrip("."))
    return out


def numbers_in(text: str) -> list[set[str]]:
    """The readings of each number written in `text`, in order."""
    return [readings(m.group(0)) for m in _NUMBER.finditer(text)]


def all_found(claim: str, source: str) -> bool:
    """True when every number of `claim` has a reading that also occurs in `source`."""
    have: set[str] = set().union(*numbers_in(source)) if source else set()
    return all(r & have for r in numbers_in(claim))
