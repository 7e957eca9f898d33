"""The parallel reference corpus (rag/retrieval/data/reference/parallel.jsonl) used for language centering."""
from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "rag" / "retrieval" / "data" / "reference" / "parallel.jsonl"
LANGS = ("en", "fr", "vi", "zh-Hans", "zh-Hant")
FORBIDDEN = (
    "fraud", "fraude", "police", "lừa đảo", "cảnh sát", "诈骗", "詐騙", "警方",
    "crime", "criminel", "tội phạm", "犯罪",
)
VI_LETTERS = set("ăâđêôơưĂÂĐÊÔƠƯ")
VI_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}  # grave, acute, tilde, hook above, dot below
FR_ACCENTS = re.compile(r"[àâçéèêëîïôûùüÿœæÀÂÇÉÈÊËÎÏÔÛÙÜŒÆ]")
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def records() -> list[dict]:
    lines = [line for line in REFERENCE.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def t2s():
    from opencc import OpenCC

    return OpenCC("t2s")


def test_count_ids_and_fields(records):
    assert len(records) == 120
    ids = [r["id"] for r in records]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"r\d{3}", i) for i in ids)
    for r in records:
        assert set(r) == {"id", "topic", *LANGS}, r["id"]
        for lang in LANGS:
            assert isinstance(r[lang], str) and r[lang].strip(), (r["id"], lang)


def test_topics_are_diverse(records):
    topics = Counter(r["topic"] for r in records)
    assert len(topics) >= 30
    assert max(topics.values()) <= 6


def test_passage_lengths(records):
    for r in records:
        for lang in ("en", "fr", "vi"):
            assert 250 <= len(r[lang]) <= 600, (r["id"], lang, len(r[lang]))
        for lang in ("zh-Hans", "zh-Hant"):
            assert len(CJK.findall(r[lang])) >= 60, (r["id"], lang)


def test_text_is_nfc(records):
    for r in records:
        for lang in LANGS:
            assert unicodedata.normalize("NFC", r[lang]) == r[lang], (r["id"], lang)


def test_traditional_differs_from_simplified(records):
    differ = sum(r["zh-Hant"] != r["zh-Hans"] for r in records)
    assert differ >= 0.9 * len(records)


def test_traditional_converts_back_to_simplified(records, t2s):
    same = sum(t2s.convert(r["zh-Hant"]) == r["zh-Hans"] for r in records)
    assert same >= 0.9 * len(records)


def test_vietnamese_has_diacritics(records):
    for r in records:
        text = r["vi"]
        decomposed = unicodedata.normalize("NFD", text)
        assert VI_LETTERS & set(text) or VI_TONES & set(decomposed), r["id"]
        # Real Vietnamese prose has many marked syllables, not just a borrowed name.
        marked = sum(ch in VI_TONES for ch in decomposed) + sum(ch in VI_LETTERS for ch in text)
        assert marked >= 20, (r["id"], marked)


def test_french_has_accents(records):
    accented = sum(bool(FR_ACCENTS.search(r["fr"])) for r in records)
    assert accented >= 0.9 * len(records)


def test_no_fraud_police_or_crime_vocabulary(records):
    for r in records:
        text = " ".join(str(v) for v in r.values()).lower()
        hits = [w for w in FORBIDDEN if w in text]
        assert not hits, (r["id"], hits)
