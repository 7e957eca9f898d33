"""What the reader sees around an answer is in the answer's language, and the page's own words in
the browser's: the tables are complete, their placeholders agree, and locales map as they should."""
from __future__ import annotations

import dataclasses
import re
import string

import pytest

from rag.present import messages
from rag.present.messages import language_label, message
from rag.present.render import answer_text, conversation_markdown, flag_text, sources_markdown
from rag.types import Answer, Passage
from ui import labels
from ui.library import add_files, delete_document, library_headers

LANGS = ("en", "fr", "vi", "zh-Hans", "zh-Hant")
HAN = re.compile(r"[\u4e00-\u9fff]")


def fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


@pytest.mark.parametrize("key", [k for k, row in messages._TEXTS.items() if len(row) > 1])
def test_every_message_has_all_five_languages_with_the_same_placeholders(key):
    row = messages._TEXTS[key]
    assert set(row) == set(LANGS)
    assert all(row[lang].strip() for lang in LANGS)
    assert len({frozenset(fields(row[lang])) for lang in LANGS}) == 1


@pytest.mark.parametrize("key", list(labels._TEXTS))
def test_every_page_label_has_all_five_languages_with_the_same_placeholders(key):
    row = labels._TEXTS[key]
    assert set(row) == set(LANGS) and all(row[lang].strip() for lang in LANGS)
    assert len({frozenset(fields(t)) for t in row.values()}) == 1
    en, fr, vi, hans, hant = (row[lang] for lang in LANGS)
    # Not left in English by mistake: French and Vietnamese differ from it somewhere in the table
    # (a few words are the same in French), and both Chinese texts are written in Chinese.
    if key not in {"tab_documents", "sources_empty", "exported", "list_separator"}:
        assert HAN.search(hans) and HAN.search(hant), key


def test_the_french_and_vietnamese_tables_are_not_the_english_one():
    for lang in ("fr", "vi"):
        same = [k for k, row in labels._TEXTS.items() if row[lang] == row["en"]]
        assert len(same) <= 5, same


def test_both_catalogs_have_one_shape_and_the_one_language_list():
    """The page's words and the answer's words are tables of the same shape, read the same way, in
    the languages `rag` answers in (one list)."""
    from rag import SUPPORTED_LANGUAGES
    from rag.present.catalog import reader_language, text

    assert tuple(LANGS) == SUPPORTED_LANGUAGES == labels.LANGUAGES
    for catalog in (labels._TEXTS, messages._TEXTS):
        assert all(isinstance(entry, dict) and "en" in entry for entry in catalog.values())
    assert labels.say("ask", "vi") == text(labels._TEXTS, "ask", "vi") == "Hỏi"
    assert message("sources", "vi") == text(messages._TEXTS, "sources", "vi") == "Nguồn"
    # a reader we do not write for: any other Chinese reads Simplified, the rest English
    assert [reader_language(x) for x in ("zh-TW", "zh", "de", "fr")] == ["zh-Hans", "zh-Hans", "en", "fr"]
    assert labels.say("ask", "zh-SG") == "提问" and labels.say("ask", "ja") == "Ask"


@pytest.mark.parametrize("header, expected", [
    ("vi-VN,vi;q=0.9,en;q=0.8", "vi"),
    ("fr-CA", "fr"),
    ("fr", "fr"),
    ("zh-TW,zh;q=0.9", "zh-Hant"),
    ("zh-HK", "zh-Hant"),
    ("zh-Hant-TW", "zh-Hant"),
    ("zh-CN", "zh-Hans"),
    ("zh-SG", "zh-Hans"),
    ("zh", "zh-Hans"),
    ("de-DE,fr;q=0.5", "fr"),  # the first language the page speaks
    ("de-DE,ja;q=0.5", "en"),
    ("", "en"),
    (None, "en"),
    ("*", "en"),
    (";q=0.5,,vi", "vi"),
])
def test_page_language_from_accept_language(header, expected):
    assert labels.language_of_header(header) == expected


def test_browser_locales_read_the_right_table():
    t = labels.translations(types=".txt, .md")
    assert t["zh-TW"]["ask"] == t["zh-HK"]["ask"] == "提問"
    assert t["zh-CN"]["ask"] == t["zh"]["ask"] == "提问"
    assert t["vi"]["upload"] == "Thêm tài liệu (.txt, .md)"
    assert t["fr"]["confirm_delete"] == "Supprimer {name} de la bibliothèque ?"  # filled in the browser


@pytest.mark.parametrize("code, reader, expected", [
    ("vi", "fr", "vietnamien"),
    ("zh-Hant", "vi", "tiếng Trung phồn thể"),
    ("en", "zh-Hans", "英语"),
    ("fr", "zh-Hant", "法語"),
    ("vi", "en", "Vietnamese"),
    ("ja", "fr", "Japanese"),  # outside the corpus's languages: the English name
    ("vi", "de", "Vietnamese"),  # a reader we do not write for: English
])
def test_language_names_for_each_reader(code, reader, expected):
    assert language_label(code, reader) == expected


def passage(lang="vi", text="Campuchia đã bắt giữ 2.141 nghi phạm.", score=0.61) -> Passage:
    return Passage(id="p1", document="003.txt", language=lang, text=text, start=0, end=len(text), score=score)


def test_the_sources_panel_speaks_the_answers_language():
    panel = sources_markdown([passage()], cited={1: [(0, 10)]}, language="fr")
    assert panel.startswith("**Sources**") and "· vietnamien ·" in panel and "score 0.610 ✓ cité" in panel
    zh = sources_markdown([passage()], language="zh-Hant", related=True)
    assert zh.startswith("**可能相關（未引用）**") and "越南語" in zh and "相似度 0.610" in zh
    assert sources_markdown([], language="vi") == "**Nguồn**\n\n_Không tìm thấy đoạn văn nào._"


def test_flags_and_the_rewritten_question_are_said_in_the_answers_language():
    a = Answer(question="他们抓了多少人？", text="柬埔寨逮捕了2141名嫌疑人[1]。", language="zh-Hans",
               flags=("ungrounded_number",), standalone_question="柬埔寨逮捕了多少名嫌疑人？")
    out = answer_text(a)
    assert "(理解为：柬埔寨逮捕了多少名嫌疑人？)" in out
    assert "⚠ 此回答中的一个数字没有出现在所引用的段落中" in out
    md = conversation_markdown([a])
    assert md.startswith("# 对话") and "> ⚠️ 此回答中的一个数字" in md and "_理解为：" in md
    assert flag_text("ungrounded_place", "fr").startswith("un pays nommé")
    assert flag_text("some_new_flag", "vi") == "some_new_flag"


def test_the_documents_tab_replies_in_the_page_language(lib, tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("Le Cambodge a expulsé 150 suspects vers la Corée du Sud.\n", encoding="utf-8")
    bad = tmp_path / "bad.exe"
    bad.write_bytes(b"MZ")
    out = add_files(lib, [str(good), str(bad)], language="vi")
    assert "✓ good.txt: đã thêm (" in out
    assert "✗ Không thêm được: cannot read bad.exe: .exe files are not accepted" in out  # the detail as raised
    assert add_files(lib, [], language="zh-Hant") == "請先選擇一個或多個檔案。"
    assert delete_document(lib, "good.txt", "fr") == "good.txt a été supprimé."
    assert delete_document(lib, "good.txt", "fr") == "good.txt n'était pas dans la bibliothèque."
    assert delete_document(lib, "", "zh-Hans") == "未删除任何内容。"
    assert library_headers("vi") == ["tài liệu", "ngôn ngữ", "số đoạn", "lập chỉ mục lúc (UTC)"]


def test_an_answer_in_a_language_we_do_not_write_falls_back_to_english():
    a = dataclasses.replace(Answer(question="q", text="t", language="en"), language="de", flags=("ungrounded_number",))
    assert "a number in this answer" in answer_text(a)
    assert message("sources", "ja") == "Sources"
