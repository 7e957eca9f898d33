"""Keyword tokens: the same content gives shared tokens across scripts, spellings and inflections."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from rag.text import tokenize
from rag.text.tokenize import tokens

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "traditional, simplified",
    [
        ("緬甸向中方移交了多少名涉詐犯罪嫌疑人", "缅甸向中方移交了多少名涉诈犯罪嫌疑人"),
        ("電信網絡詐騙犯罪", "电信网络诈骗犯罪"),
        ("公安機關破獲了多少起案件？", "公安机关破获了多少起案件？"),
    ],
)
@pytest.mark.parametrize("language", ["zh-Hant", "zh-Hans", None])
def test_traditional_and_simplified_give_the_same_tokens(traditional, simplified, language):
    assert tokens(traditional, language) == tokens(simplified, language)
    assert tokens(traditional, "zh-Hant") == tokens(simplified, "zh-Hans")


def test_chinese_words_and_bigrams():
    got = tokens("缅甸向中方移交了多少名涉诈犯罪嫌疑人", "zh-Hans")
    assert {"缅甸", "移交", "犯罪", "嫌疑人"} <= set(got)  # jieba's words
    assert {"嫌疑", "疑人", "涉诈"} <= set(got)  # bigrams inside and across words
    # function characters and question words go, alone and in bigrams
    assert not {"了", "的", "多少", "交了", "了多"} & set(got)
    # a two-character word is not counted twice by its bigram
    assert got.count("移交") == 1


@pytest.mark.parametrize(
    "text, language, expected",
    [
        ("2 141 suspects ont été arrêtés", "fr", {"2141"}),
        ("2\u202f141 suspects", "fr", {"2141"}),
        ("2141 suspects", "fr", {"2141"}),
        ("2,141 suspects were arrested", "en", {"2141", "2.141"}),
        ("2.141 nghi phạm bị bắt", "vi", {"2141", "2.141"}),
        ("抓获2141名犯罪嫌疑人", "zh-Hans", {"2141"}),
        ("une hausse de 5,7 %", "fr", {"5.7"}),
        ("a rise of 5.7%", "en", {"5.7"}),
        ("tăng 5,7%", "vi", {"5.7"}),
        ("增长5.7%", "zh-Hans", {"5.7"}),
        ("1 770 personnes", "fr", {"1770"}),
        ("移交1207名", "zh-Hant", {"1207"}),
        ("1207名", None, {"1207"}),
    ],
)
def test_numbers_normalise_in_every_language(text, language, expected):
    numbers = {t for t in tokens(text, language) if t[0].isdigit()}
    assert numbers == expected


def test_a_digit_glued_to_a_letter_stays_in_the_word():
    assert tokens("mp3 h5n1", "en") == ["mp3", "h5n1"]


@pytest.mark.parametrize(
    "a, b, language",
    [
        ("arrêtés", "arrêté", "fr"),
        ("opérations", "opération", "fr"),
        ("arretes", "arrêtés", "fr"),  # typed without accents
        ("arrested", "arrests", "en"),
        ("investigations", "investigation", "en"),
    ],
)
def test_inflections_share_a_stem(a, b, language):
    assert set(tokens(a, language)) & set(tokens(b, language))


def test_stemmed_words_keep_their_plain_form_for_other_languages():
    # "Panthers" in a Vietnamese passage is the syllable "panthers": the English passage has it too
    assert set(tokens("The Panthers", "en")) == {"panther", "panthers"}
    assert "panthers" in tokens("Đội Panthers", "vi")


@pytest.mark.parametrize(
    "text, language, expected",
    [
        ("l'opération", "fr", ["oper", "operation"]),
        ("d'INTERPOL", "fr", ["interpol"]),
        ("l\u2019enquête", "fr", ["enquet", "enquete"]),  # typographic apostrophe
        ("qu'Interpol", "fr", ["interpol"]),
        ("Carolina's", "en", ["carolina"]),
        ("don't", "en", ["don"]),
    ],
)
def test_apostrophes(text, language, expected):
    assert tokens(text, language) == expected


@pytest.mark.parametrize(
    "text, language, dropped",
    [
        ("Combien de suspects le Cambodge a-t-il arrêtés ?", "fr", {"combien", "de", "le", "il", "a", "t"}),
        ("How many suspects did the police arrest?", "en", {"how", "many", "did", "the"}),
        ("What is the share of fraud?", None, {"what", "is", "the", "of"}),
        ("nghi phạm của các nước", "vi", {"của", "các"}),
        ("公安机关的案件", "zh-Hans", {"的"}),
    ],
)
def test_stop_words_dropped(text, language, dropped):
    got = set(tokens(text, language))
    assert got and not got & dropped


def test_vietnamese_syllables_and_bigrams():
    got = tokens("Myanmar đã trao trả nghi phạm cho Trung Quốc", "vi")
    assert {"nghi", "phạm", "nghi_phạm", "trung_quốc", "trao_trả", "myanmar"} <= set(got)
    assert "đã" not in got and "cho" not in got  # stop syllables are not unigrams...
    assert "phạm_cho" in got  # ...but pair with a content syllable
    assert "bao_nhiêu" not in tokens("bao nhiêu nghi phạm", "vi")  # two stop syllables: no bigram


def test_vietnamese_keeps_diacritics_and_unifies_tone_placement():
    assert tokens("ma", "vi") != tokens("má", "vi")
    assert tokens("hòa bình", "vi") == tokens("hoà bình", "vi")
    assert tokens("thủy lợi", "vi") == tokens("thuỷ lợi", "vi")
    assert tokens("của", "vi") == tokens("của", "vi") == []  # "ua" keeps its tone where it is


def test_vietnamese_bigrams_do_not_cross_punctuation_or_numbers():
    assert "nghi_phạm" not in tokens("nghi. Phạm", "vi")
    assert "nghi_phạm" not in tokens("nghi 12 phạm", "vi")


def test_undeclared_vietnamese_is_recognised():
    assert "nghi_phạm" in tokens("Myanmar đã trao trả nghi phạm", None)
    assert "nghi_phạm" not in tokens("Myanmar đã trao trả nghi phạm", "en")


def test_mixed_scripts():
    got = tokens("Myanmar 移交 1207 nghi phạm", None)
    assert {"myanmar", "移交", "1207", "nghi", "phạm", "nghi_phạm"} <= set(got)


@pytest.mark.parametrize("text", ["", "   ", "?!… «»", "的了是"])
def test_nothing_to_search(text):
    assert tokens(text, None) == []


def test_jieba_cache_stays_out_of_home_and_checkout():
    tokens("缅甸", "zh-Hans")
    cache_dir = Path(tokenize._jieba().tmp_dir).resolve()
    assert cache_dir.is_relative_to(Path(tempfile.gettempdir()).resolve())
    assert not cache_dir.is_relative_to(ROOT)
    assert not cache_dir.is_relative_to(Path.home().resolve())
