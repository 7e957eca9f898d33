"""Countries named in a text, whatever the language: the check that an answer's country is its source's.

The 1.5B model borrows a figure from an unrelated sentence and puts the question's country on it
("Thailand arrested 391,000 suspects in 2021 [2]", from a sentence about China). The number check
cannot see this, since the figure is in the source. Names come from CLDR through Babel (offline,
bundled with the package) in the five locales we answer in.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Iterable

from rag.text.language import to_script
from rag.text.tokenize import fold as unaccent

_LOCALES = ("en", "fr", "vi", "zh_Hans", "zh_Hant")
_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"}  # unions and pseudo-regions
# Usual short forms that CLDR's main names leave out; read in sources only (see `mentioned`).
_ALSO = {"US": ("Mỹ", "USA", "America"), "GB": ("UK", "Britain")}
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_CJK = re.compile(r"[\u3400-\u9fff]")


@lru_cache(maxsize=1)
def _names() -> tuple[dict[tuple[str, ...], str], dict[str, str]]:
    """(word sequence -> country code, CJK name in Simplified script -> country code, longest first)."""
    from babel import Locale

    words: dict[tuple[str, ...], str] = {}
    cjk: dict[str, str] = {}
    for loc in _LOCALES:
        for code, name in Locale.parse(loc).territories.items():
            if len(code) != 2 or not code.isalpha() or code in _NOT_COUNTRIES:
                continue
            # "Myanmar (Burma)": both forms
            for part in re.split(r"\s*[()（）]\s*", unicodedata.normalize("NFC", name)):
                part = part.strip(" ,")
                if _CJK.search(part):
                    if len(part) >= 2:
                        cjk[to_script(part, "zh-Hans")] = code
                elif len("".join(toks := tuple(_WORD.findall(part)))) >= 3:  # no two-letter "Ý"
                    words[toks] = code
    return words, dict(sorted(cjk.items(), key=lambda kv: -len(kv[0])))


def named(text: str) -> set[str]:
    """Country codes whose name (in any of the five locales) is written in `text`, as whole words."""
    words, cjk = _names()
    text = unicodedata.normalize("NFC", text)
    toks = _WORD.findall(text)
    found = set()
    if _CJK.search(text):
        han = to_script(text, "zh-Hans")  # 印度尼西亞 is 印度尼西亚
        for name, code in cjk.items():  # longest first, each match blanked: 印度尼西亚 holds no 印度
            if name in han:
                found.add(code)
                han = han.replace(name, "\x00")
    for n in {len(k) for k in words}:
        found.update(words[w] for i in range(len(toks) - n + 1) if (w := tuple(toks[i : i + n])) in words)
    return found


def _fold(s: str) -> str:
    return unaccent(s.lower())  # the keyword index's accent folding


@lru_cache(maxsize=1)
def _stems() -> dict[str, tuple[tuple[str, str], ...]]:
    """First four letters -> (code, folded name) of one-word names, for demonyms."""
    out: dict[str, list] = {}
    for toks, code in _names()[0].items():
        if len(toks) == 1 and len(toks[0]) >= 4:
            out.setdefault(_fold(toks[0])[:4], []).append((code, _fold(toks[0])))
    return {k: tuple(v) for k, v in out.items()}


def mentioned(texts: Iterable[str]) -> set[str]:
    """Countries a source speaks of: `named`, plus usual short forms ("Mỹ") and demonyms
    ("la police chinoise", "Spanish police": a word sharing all but the last three letters of a
    one-word name, four at least). Lenient on purpose: a miss here refuses a right answer."""
    found: set[str] = set()
    stems = _stems()
    for text in texts:
        found |= named(text)
        toks = _WORD.findall(unicodedata.normalize("NFC", text))
        found.update(code for code, forms in _ALSO.items() if any(f in toks for f in forms))
        for tok in toks:
            f = _fold(tok)
            for code, name in stems.get(f[:4], ()):
                common = next((i for i, (a, b) in enumerate(zip(f, name)) if a != b), min(len(f), len(name)))
                if common >= max(4, len(name) - 3):
                    found.add(code)
    return found


def unsupported(question: str, answer: str, sources: Iterable[str]) -> set[str]:
    """Countries the question and the answer both name that the cited sources never speak of."""
    asked = named(question) & named(answer)
    return asked - mentioned(sources) if asked else set()
