"""Numbers as written in fr/en/vi/zh text, normalised so a claim can be checked against a source.

"2.141" (vi), "2,141" (en), "2 141" (fr) and "2141" all give "2141". A group like "2.141" is also
a valid English decimal, so every reading is kept: matching asks whether any reading is shared.

- readings / numbers_in / all_found: one token's readings as strings (keyword tokens, citations).
- quantities: numbers with their scale word ("1,82 milliard", "18.2亿", "6 triệu") as float values.
- spelled / zh_numeral: small numbers written in words ("neuf", "chín", "九"), Chinese numerals.
- unsupported_numbers: the numbers of a claim that no source holds.
- localize: an answer's digit groupings rewritten in the convention of its language.
"""
from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from rag.text.patterns import MARKER

# A written number: digits with optional thousands groups (. , space, NBSP, narrow NBSP) and an
# optional decimal part. Its values are `readings`' business. (The keyword tokenizer and the answer
# evaluation find numbers with it too.)
NUMBER = re.compile(r"(?<![\d.,])\d{1,3}(?:[.,\u00a0\u202f ]\d{3})+(?:[.,]\d+)?(?![\d])|(?<![\d])\d+(?:[.,]\d+)?(?![\d])")


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
    return [readings(m.group(0)) for m in NUMBER.finditer(text)]


def all_found(claim: str, source: str) -> bool:
    """True when every number of `claim` has a reading that also occurs in `source` (in digits, or
    as a small number spelled out: see `spelled`)."""
    have: set[str] = set().union(*numbers_in(source)) if source else set()
    if source:
        have |= {str(int(v)) for v in spelled(source)}
    return all(r & have for r in numbers_in(claim))


# --- small numbers spelled out ------------------------------------------------------------------
#
# Sources write small counts in words ("neuf pays", "chín quốc gia", "九个国家", "two-man crew")
# where an answer in another language writes digits. These are read on the source side, to ground
# an answer's "9"; a claim's own words are not checked, so "one of the" or "un accord" in an answer
# is never a 1 (Chinese numerals that count something are: see _ZH_COUNTED). Vietnamese "năm"
# (five, and year) is left out: it is "year" in nearly every Vietnamese source and would ground any 5.
_WORD_VALUES = {
    **dict(zip("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
               "fifteen sixteen seventeen eighteen nineteen twenty".split(), range(21))),
    **dict(zip("thirty forty fifty sixty seventy eighty ninety".split(), range(30, 100, 10))),
    **dict(zip("zéro un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze "
               "seize".split(), range(17))),
    "une": 1, "vingt": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60,
    **dict(zip("một hai ba bốn _ sáu bảy tám chín mười".split(), range(1, 11))),
}
_WORD = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _WORD_VALUES), key=len, reverse=True)) + r")\b", re.I)
_ZH_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
             "八": 8, "九": 9}
_ZH_UNIT = {"十": 10, "百": 100, "千": 1000}
_ZH_CHARS = "".join(_ZH_DIGIT) + "".join(_ZH_UNIT)  # what a numeral is written with
_ZH_NUMERAL = re.compile(f"[{_ZH_CHARS}]+")


def zh_numeral(run: str) -> int | None:
    """"九" 9, "十二" 12, "二十" 20, "三百零五" 305; None for what is not one numeral ("一二",
    "百百", "十百")."""
    total, digit, last_unit = 0, None, 10_000
    for ch in run:
        if ch in _ZH_DIGIT:
            if digit is not None and digit != 0:
                return None  # "一二": not one number
            digit = _ZH_DIGIT[ch]
        else:
            unit = _ZH_UNIT[ch]
            if unit >= last_unit:
                return None  # units only go down: "百百", "十百"
            total += (1 if digit is None else digit) * unit
            digit, last_unit = None, unit
    return total + (digit or 0)


# In a claim, a Chinese numeral is read only where it counts something ("十年徒刑", "三名嫌疑人"):
# "一" (also "a", "the same"), ordinals ("第三名") and numerals before 万/亿 (read with their scale
# elsewhere) are not.
_ZH_COUNTED = re.compile(f"(?<![第{_ZH_CHARS}])([{_ZH_CHARS}]+)(?=[年个個名位人次起家项項种種天岁歲倍件条條])")


def _counted_zh(text: str) -> list[tuple[re.Match, float]]:
    out = []
    for m in _ZH_COUNTED.finditer(text):
        value = zh_numeral(m.group(1))
        if value is not None and value >= 2:
            out.append((m, float(value)))
    return out


def spelled(text: str) -> set[float]:
    """The values of the small numbers written in words in `text` (en/fr/vi words, Chinese numerals)."""
    text = unicodedata.normalize("NFC", text)
    out = {float(_WORD_VALUES[m.group(1).lower()]) for m in _WORD.finditer(text)}
    for m in _ZH_NUMERAL.finditer(text):
        value = zh_numeral(m.group(0))
        if value is not None:
            out.add(float(value))
    return out


# --- quantities: numbers with their scale words, compared across languages -------------------------
#
# "1,82 milliard" (fr), "1.82 billion" (en), "1,82 tỷ" (vi) and "18.2亿" (zh) are one quantity,
# 1.82e9. `quantities` finds each written number with the scale word that follows it and gives every
# plausible value, as `readings` does: "2.141" is {2141, 2.141}. Values are computed with Decimal,
# so 18.2 × 10^8 is exactly 1820000000.0; comparisons still allow a relative tolerance (_REL_TOL).
# A percent sign or word is kept in `raw` but does not change the value: "5,7 %" is 5.7.

_REL_TOL = 1e-6  # relative tolerance when comparing values

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
_LETTER = rf"[^\W\d_{_HAN}]"  # a letter that is not an ideograph (as in rag.text.tokenize)
_SPACES = "\u00a0\u202f "
_D = Decimal

# Scale words after a number. Latin words are matched case-insensitively and only as whole words
# ("3 millionaires" is 3); the French "billion" is 10^12, the English one 10^9: both are kept.
_LATIN_SCALES: dict[str, tuple[int, ...]] = {
    # en
    "thousand": (10**3,), "thousands": (10**3,), "million": (10**6,), "millions": (10**6,),
    "billion": (10**9, 10**12), "billions": (10**9, 10**12), "trillion": (10**12, 10**18),
    "trillions": (10**12, 10**18),
    # fr (million(s), billion(s) as above)
    "mille": (10**3,), "millier": (10**3,), "milliers": (10**3,), "milliard": (10**9,),
    "milliards": (10**9,),
    # vi
    "nghìn": (10**3,), "ngàn": (10**3,), "vạn": (10**4,), "triệu": (10**6,), "tỷ": (10**9,),
    "tỉ": (10**9,), "nghìn tỷ": (10**12,), "ngàn tỷ": (10**12,), "nghìn tỉ": (10**12,),
    "ngàn tỉ": (10**12,),
}
# Case-sensitive abbreviations ("1,8 Md€", "$2bn"); "M", "k", "mn" are too ambiguous (metres, minutes).
_ABBREV_SCALES: dict[str, tuple[int, ...]] = {"Md": (10**9,), "Mds": (10**9,), "Mrd": (10**9,), "bn": (10**9,)}
# Chinese multipliers written after digits ("3.5万", "18.2亿", "1亿2000万"); numbers written in
# characters (八十, 百分之八十) are not read.
_ZH_SCALES: dict[str, tuple[int, ...]] = {
    "千": (10**3,), "万": (10**4,), "萬": (10**4,), "十万": (10**5,), "十萬": (10**5,),
    "百万": (10**6,), "百萬": (10**6,), "千万": (10**7,), "千萬": (10**7,), "亿": (10**8,),
    "億": (10**8,), "十亿": (10**9,), "十億": (10**9,), "百亿": (10**10,), "百億": (10**10,),
    "千亿": (10**11,), "千億": (10**11,), "万亿": (10**12,), "萬億": (10**12,),
}
_SCALES = {**{k: tuple(map(_D, v)) for k, v in _LATIN_SCALES.items()},
           **{k: tuple(map(_D, v)) for k, v in _ABBREV_SCALES.items()},
           **{k: tuple(map(_D, v)) for k, v in _ZH_SCALES.items()}}
# A scale word that starts another word: "3 triệu chứng" (3 symptoms), "tỷ lệ" (rate), "5千克" (5 kg).
_NOT_SCALE = re.compile(r"(?:tỷ|tỉ)\s+lệ|triệu\s+chứng|千[克米瓦卡焦帕赫兆]")


def _variants(word: str) -> set[str]:
    """NFC and NFD spellings (Vietnamese text is often decomposed), any whitespace inside."""
    return {re.escape(unicodedata.normalize(form, word)).replace(r"\ ", r"\s+") for form in ("NFC", "NFD")}


def _alternation(words) -> str:
    return "|".join(sorted({v for w in words for v in _variants(w)}, key=len, reverse=True))


_SCALE_PATTERN = (
    rf"(?i:{_alternation(_LATIN_SCALES)})(?!{_LETTER})"
    rf"|(?:{_alternation(_ABBREV_SCALES)})(?!{_LETTER})"
    rf"|{_alternation(_ZH_SCALES)}"
)
_PERCENT_PATTERN = (
    rf"[{_SPACES}]?[%％]|[{_SPACES}](?i:percent|per\s+cent|pour\s*cent|{_alternation(['phần trăm'])})(?!{_LETTER})"
)
# A number not glued to a preceding letter ("mp3", "H100") nor continuing a longer one ("v1.2.3"),
# then an optional scale word, then an optional percent.
_QTY = re.compile(
    rf"(?P<pre>百分之)?(?<!{_LETTER})(?<!\d[.,])(?P<num>{NUMBER.pattern})"
    rf"(?:(?:[{_SPACES}]|-)?(?P<scale>{_SCALE_PATTERN}))?"
    rf"(?P<pct>{_PERCENT_PATTERN})?"
)
# The next link of a Chinese chain: "1亿" then "2000万" (then "5000").
_ZH_LINK = re.compile(rf"(?P<num>\d+(?:\.\d+)?)(?![\d.,])(?P<scale>{_alternation(_ZH_SCALES)})?")
# Between the two ends of a range whose scale word is written once: "2-3 triệu", "2 à 3 millions".
_RANGE = re.compile(
    rf"\s*(?:[-–—~～]|(?i:to|à|đến|tới|or|ou|hoặc|and|et|{_alternation(['và'])})|至|到|或)\s*"
)


@dataclass(frozen=True)
class Quantity:
    """One written quantity: text[start:end] == raw; values: every plausible value, scale applied."""

    start: int
    end: int
    raw: str
    values: frozenset[float]


@dataclass(frozen=True)
class _Part:
    start: int  # the digits only
    end: int
    factors: tuple[Decimal, ...]  # (1,) without a scale word


@dataclass
class _Hit:
    start: int
    end: int
    parts: list[_Part]
    range_factors: tuple[Decimal, ...] = ()  # "2" in "2-3 triệu" may also be 2 triệu


_ONE = (_D(1),)


def _scale_factors(text: str, m: re.Match) -> tuple[Decimal, ...] | None:
    word = m.group("scale")
    if not word:
        return None
    if _NOT_SCALE.match(unicodedata.normalize("NFC", text[m.start("scale"):m.start("scale") + 16])):
        return None  # "3 triệu chứng": the word goes on
    key = re.sub(r"\s+", " ", unicodedata.normalize("NFC", word))
    return _SCALES.get(key) or _SCALES.get(key.lower())


def _scan(text: str) -> list[_Hit]:
    hits: list[_Hit] = []
    pos = 0
    while (m := _QTY.search(text, pos)) is not None:
        factors = _scale_factors(text, m)
        end = m.end() if factors is not None or not m.group("scale") else m.end("num")
        parts = [_Part(m.start("num"), m.end("num"), factors or _ONE)]
        if factors is not None and m.group("scale") in _ZH_SCALES and not m.group("pct"):
            end = _zh_chain(text, end, parts)
        hits.append(_Hit(m.start(), end, parts))
        pos = end
    for a, b in zip(hits, hits[1:]):  # a range with one scale word: "2-3 triệu", "2 à 3 millions"
        if len(a.parts) == 1 and a.parts[0].factors == _ONE and b.parts[0].factors != _ONE \
                and _RANGE.fullmatch(text, a.end, b.start):
            a.range_factors = b.parts[0].factors
    return hits


def _zh_chain(text: str, end: int, parts: list[_Part]) -> int:
    """Extend a Chinese quantity with smaller units: "1亿" + "2000万", "3万" + "5000"; the new end."""
    while (link := _ZH_LINK.match(text, end)) is not None:
        above = min(parts[-1].factors)
        if link.group("scale"):
            unit = _SCALES[link.group("scale")]
            if max(unit) >= above or _NOT_SCALE.match(text, link.start("scale")):
                break  # "3万5万" is two numbers, "5千克" five kilograms
        else:  # trailing digits fill the places below the unit: 3万5000 (not 3万5), 3千500
            digits = link.group("num")
            if "." in digits or len(digits) != len(str(int(above))) - 1:
                break
            unit = _ONE
        parts.append(_Part(link.start("num"), link.end("num"), unit))
        end = link.end()
        if unit == _ONE:
            break
    return end


def _ascii(digits: str) -> str:
    """"２.５" -> "2.5": any Unicode decimal digit as ASCII."""
    return "".join(str(unicodedata.digit(c)) if c.isdigit() else c for c in digits)


def _token_values(token: str, mark: str | None = None) -> set[Decimal]:
    """The readings of one number token as Decimals; `mark`, when known, settles "2.141" / "2,141"."""
    if mark is not None:
        cands = _interpret(token)
        if len(cands) == 2:  # ambiguous: grouped thousands, or a decimal written with `mark`
            grouped, decimal = cands
            return {_value(decimal if decimal.mark == mark else grouped)}
    return {_D(_ascii(r)) for r in readings(token)}


def _hit_values(text: str, hit: _Hit, mark: str | None = None) -> frozenset[float]:
    sums = {_D(0)}
    for p in hit.parts:
        vals = _token_values(text[p.start:p.end], mark)
        sums = {s + v * f for s in sums for v in vals for f in p.factors}
    sums |= {s * f for s in sums for f in hit.range_factors}
    return frozenset(float(s) for s in sums)


def quantities(text: str) -> list[Quantity]:
    """Every number written in `text` with its scale word, in order; values hold every reading."""
    return [Quantity(h.start, h.end, text[h.start:h.end], _hit_values(text, h)) for h in _scan(text)]


class _Values:
    """A sorted bag of floats, searched with the relative tolerance."""

    def __init__(self, values) -> None:
        self._v = sorted(values)

    def has(self, x: float) -> bool:
        tol = abs(x) * _REL_TOL + 1e-12
        i = bisect.bisect_left(self._v, x - tol)
        return i < len(self._v) and self._v[i] <= x + tol


def _mask_citations(text: str) -> str:
    """Citation markers blanked (same length, so offsets still hold): their digits are no numbers."""
    return MARKER.sub(lambda m: "\x00" * len(m.group()), text)


def unsupported_numbers(claim: str, sources: Sequence[str], grounded: Iterable[float] = ()) -> list[str]:
    """The raw quantities of `claim` (citation markers aside) none of whose values is in any source
    (in digits or spelled out) or among `grounded` (values known to be sourced otherwise)."""
    if isinstance(sources, str):
        sources = (sources,)
    have = _Values([*(v for s in sources for q in quantities(s) for v in q.values),
                    *(v for s in sources for v in spelled(s)), *grounded])
    masked = _mask_citations(claim)
    found = [(q.start, claim[q.start:q.end], q.values) for q in quantities(masked)]
    found += [(m.start(), m.group(0), {v}) for m, v in _counted_zh(masked)]
    found.sort(key=lambda f: f[0])
    return [raw for _, raw, values in found if not any(have.has(v) for v in values)]


# --- localize: digit groupings a reader of the answer's language reads right -------------------------
#
# Target conventions (thousands separator, decimal mark):
#   en "2,141"  "5.7"
#   fr "2 141"  "5,7"   the separator is U+00A0 NO-BREAK SPACE, always (also replacing a plain space
#                       or U+202F): every font and terminal has it, and NUMBER reads it.
#   vi "2.141"  "5,7"
#   zh "2141"   "5.7"   plain digits, whatever the size ("391000", "12345678"): a comma grouping is
#                       also read right by Chinese readers, but plain digits are unambiguous and
#                       "." or space groupings are misread (2.141名 reads as 2.141 people).
# A number the answer wrote without separators ("2141", a year) is never touched.

_CONVENTIONS = {"en": (",", "."), "fr": ("\u00a0", ","), "vi": (".", ","), "zh": ("", ".")}
_SEP_SPLIT = re.compile(rf"([.,{_SPACES}])")


@dataclass(frozen=True)
class _Reading:
    groups: tuple[str, ...]  # digits of the integer part, as written
    sep: str | None  # thousands separator class: "." "," " " (any space), None when not grouped
    frac: str | None  # digits after the decimal mark
    mark: str | None  # the decimal mark


def _interpret(token: str) -> list[_Reading]:
    """The structures `token` may have: one, or [grouped, decimal] when "2.141" could be either."""
    pieces = _SEP_SPLIT.split(token)
    groups, seps = pieces[0::2], [" " if s in _SPACES else s for s in pieces[1::2]]
    if not seps:
        return [_Reading(tuple(groups), None, None, None)]

    def grouping(gs: list[str], ss: list[str]) -> bool:
        return (len(set(ss)) == 1 and 1 <= len(gs[0]) <= 3 and gs[0][0] != "0"
                and all(len(g) == 3 for g in gs[1:]))

    out = []
    if grouping(groups, seps):
        out.append(_Reading(tuple(groups), seps[0], None, None))
    if seps[-1] in ".,":
        head, hseps = groups[:-1], seps[:-1]
        if not hseps:
            out.append(_Reading(tuple(head), None, groups[-1], seps[-1]))
        elif grouping(head, hseps) and hseps[0] != seps[-1]:
            out.append(_Reading(tuple(head), hseps[0], groups[-1], seps[-1]))
    return out


def _value(r: _Reading) -> Decimal:
    return _D(_ascii("".join(r.groups) + (f".{r.frac}" if r.frac is not None else "")))


def _format(r: _Reading, convention: str) -> str:
    sep, mark = _CONVENTIONS[convention]
    digits = "".join(r.groups)
    if r.sep is not None and sep:
        head = len(digits) % 3 or 3
        digits = sep.join([digits[:head]] + [digits[i:i + 3] for i in range(head, len(digits), 3)])
    return digits if r.frac is None else f"{digits}{mark}{r.frac}"


_VI_LETTER = re.compile(r"[ơưđ\u1ea0-\u1ef9]", re.I)
_HAN_CHAR = re.compile(f"[{_HAN}]")
_EN_WORDS = frozenset("the of and to in was were is are from with by for that this up down".split())
_FR_WORDS = frozenset("le la les des du de et est sont dans pour sur une un par au aux été ont a qui".split())


def _decimal_mark(text: str) -> str | None:
    """The decimal mark `text` uses, "." or ",", when it shows: from its unambiguous numbers
    ("5,7", "1.234.567", "1,234.5"), else from its language (vi, fr: ","; en, zh: ".")."""
    votes = {".": 0, ",": 0}
    for hit in _scan(text):
        for p in hit.parts:
            cands = _interpret(text[p.start:p.end])
            if len(cands) == 1:
                r = cands[0]
                if r.mark is not None:
                    votes[r.mark] += 1
                elif r.sep in (".", ","):
                    votes["," if r.sep == "." else "."] += 1
    if bool(votes["."]) != bool(votes[","]):
        return "." if votes["."] else ","
    text = unicodedata.normalize("NFC", text)
    if _VI_LETTER.search(text):
        return ","
    letters = len(re.findall(r"[^\W\d_]", text))
    han = len(_HAN_CHAR.findall(text))
    if han and han * 2 >= letters:
        return "."
    words = re.findall(r"[^\W\d_]+", text.lower())
    en = sum(w in _EN_WORDS for w in words)
    fr = sum(w in _FR_WORDS for w in words)
    return None if en == fr else ("." if en > fr else ",")


def _target(language: str) -> str | None:
    primary = language.strip().lower().replace("_", "-").split("-")[0]
    return primary if primary in _CONVENTIONS else None


def localize(text: str, language: str, sources: Sequence[str] = ()) -> str:
    """Rewrite the digit groupings of an answer in `language`'s convention (see above).

    A token whose structure is clear by itself is rewritten: "1.234.567", "2 141", "1.234,5", "5,7"
    (a decimal: the part after the mark is not 3 digits). "2.141" and "2,141" are either 2141 or
    2.141: rewritten only when `sources` hold one of those values (scale word applied, "2.141
    million" is 2.141e6 or 2.141e9); the grouped reading wins when both occur. Each source is read
    in its own convention when it shows one (a Vietnamese "2.141" is 2141). Citation markers, plain
    digits (years) and digits glued to a letter ("mp3") are left as they are.
    """
    convention = _target(language)
    if convention is None or not text:
        return text
    if isinstance(sources, str):
        sources = (sources,)
    evidence = _Values(
        v for s in sources for mark in (_decimal_mark(s),) for h in _scan(s) for v in _hit_values(s, h, mark)
    )
    out: list[str] = []
    last = 0
    for hit in _scan(_mask_citations(text)):
        for p in hit.parts:
            token = text[p.start:p.end]
            cands = _interpret(token)
            if len(cands) == 2:
                grouped, decimal = cands
                if any(evidence.has(float(_value(grouped) * f)) for f in p.factors):
                    cands = [grouped]
                elif any(evidence.has(float(_value(decimal) * f)) for f in p.factors):
                    cands = [decimal]
            if len(cands) != 1 or (cands[0].sep is None and cands[0].mark is None):
                continue  # still ambiguous, a plain integer, or no known structure
            new = _format(cands[0], convention)
            if new != token:
                out += [text[last:p.start], new]
                last = p.end
    out.append(text[last:])
    return "".join(out)
