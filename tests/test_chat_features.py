"""The chat page's features without a browser: the generation queue, the document viewer,
translation, export and the library handlers, all over the fake backends."""
from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

import pytest

from rag.present.render import conversation_markdown, document_html
from rag.types import Chunk
from ui.chat import SKIP, chat_turn
from ui.export import export_conversation
from ui.gate import Gate
from ui.library import add_files, delete_document, library_rows, library_summary
from ui.viewer import open_source, source_choices, translate_source

VI_Q = "Myanmar đã trao trả bao nhiêu nghi phạm cho Trung Quốc?"


@pytest.fixture
def assistant(lib):
    return lib


def final_answer(assistant, question, history=(), gate=None):
    *_, last = chat_turn(assistant, question, list(history), gate)
    return last[3]


def test_gate_lets_one_in_and_tells_the_others_their_place():
    gate = Gate(limit=1)
    assert list(gate.enter()) == []  # free: in at once
    waiting = gate.enter(poll=0.01)
    assert next(waiting) == 1  # one running ahead
    third = gate.enter(poll=0.01)
    assert next(third) == 2
    waiting.close()  # the second user pressed Stop: the third moves up
    assert next(third) == 1
    gate.leave()
    assert list(third) == []


def test_a_queued_question_sees_its_sources_and_its_place_before_the_answer(assistant):
    gate = Gate(limit=1)
    list(gate.enter())  # someone else is generating
    outputs = []

    def run():
        for o in chat_turn(assistant, VI_Q, [], gate):
            outputs.append(o)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    try:
        _watch_queue(outputs)
    finally:
        gate.leave()
    t.join(20)
    assert outputs[-1][3] is not None and outputs[-1][3].citations
    assert not gate._waiting and gate._running == 0


def _watch_queue(outputs):
    deadline = time.time() + 20
    while time.time() < deadline and not any(o[0][-1]["content"].startswith("⏳") for o in outputs):
        time.sleep(0.05)
    queued = [o for o in outputs if o[0][-1]["content"].startswith("⏳")]
    assert queued, "the queued notice never showed"
    assert "1" in queued[0][0][-1]["content"] and "Nguồn" in queued[0][0][-1]["content"]  # Vietnamese asker
    # the sources panel was filled before the queue notice
    first_sources = next(i for i, o in enumerate(outputs) if o[2] is not SKIP and "điểm" in str(o[2]))  # the panel in the asker's language
    assert first_sources < outputs.index(queued[0])


def test_choices_open_the_whole_document_with_the_cited_span_marked(assistant):
    answer = final_answer(assistant, VI_Q)
    choices = source_choices(answer)
    assert choices and choices[0][1] == "c1"
    html = open_source(assistant, answer, "c1")
    c = answer.citations[0]
    assert html.count('id="cited"') == 1
    assert f"<mark id=\"cited\">" in html and c.document in html
    # the whole stored document is there, not just the passage
    assert len(html) > len(c.passage.text)


def test_document_html_escapes_marks_spans_and_shows_cleaned_gaps():
    chunks = [Chunk("d.txt", "en", "Hello <b>world</b>.", 0, 19, 0), Chunk("d.txt", "en", "Second part.", 40, 52, 1),
              Chunk("d.txt", "en", "Third.", 54, 60, 2)]
    out = document_html(chunks, [(6, 18), (40, 46)], title="d<.txt")
    assert out.count("[…]") == 1 and "part.\n\nThird." in out  # two newlines apart: a paragraph break
    assert "&lt;b&gt;world&lt;/b&gt;" in out and "<b>" not in out
    assert '<mark id="cited">&lt;b&gt;world&lt;/b&gt;</mark>' in out
    assert "<mark>Second</mark>" in out and "[…]" in out and "d&lt;.txt" in out


def test_translate_source_marks_the_translation_as_machine_made(assistant):
    # a Chinese reader's answer that cites a Vietnamese passage
    answer = dataclasses.replace(final_answer(assistant, VI_Q), language="zh-Hant")
    value = next(v for label, v in source_choices(answer) if "· vi" in label)
    out = translate_source(assistant, answer, value)
    assert "機器翻譯為繁體中文" in out  # said in the answer's language
    assert "(Traditional Chinese)" in out  # went through the configured (fake) LLM
    same = final_answer(assistant, VI_Q)
    vi_choice = next(v for label, v in source_choices(same) if "· vi" in label)
    assert "Nguồn này đã bằng tiếng Việt." in translate_source(assistant, same, vi_choice)


def test_export_writes_footnoted_markdown(assistant, tmp_path):
    a1 = final_answer(assistant, VI_Q)
    a2 = final_answer(assistant, "How many fraud dens did Operation First Light destroy?")
    md = conversation_markdown([a1, a2], when="2026-11-22 10:00")
    assert md.startswith("# Cuộc trò chuyện (2026-11-22 10:00)")  # the first answer's language
    assert f"## 1. {VI_Q}" in md and "[^1-1]" in md and "[^2-1]" in md
    c = a1.citations[0]
    assert f"[^1-1]: {c.document} (tiếng Việt, chars {c.start}-{c.end})" in md
    path = export_conversation([a1, a2], folder=tmp_path / "exports")
    assert open(path, encoding="utf-8").read() == md.replace("2026-11-22 10:00", md and path and
                                                             open(path, encoding="utf-8").read().split("(")[1].split(")")[0])
    assert export_conversation([]) is None


def test_exports_are_deleted_once_old(assistant, tmp_path):
    import os
    import time

    from ui.export import EXPORT_TTL_S, prune_exports

    folder = tmp_path / "exports"
    answer = final_answer(assistant, VI_Q)
    old = Path(export_conversation([answer], folder=folder))
    stale = time.time() - EXPORT_TTL_S - 60
    os.utime(old.parent, (stale, stale))
    new = Path(export_conversation([answer], folder=folder))  # an export deletes the stale ones first
    assert new.exists() and not old.exists() and not old.parent.exists()
    assert prune_exports(-1, folder) == 1 and not new.exists()  # at start: whatever is older than the TTL


def test_upload_and_delete_handlers_report_each_file(assistant, tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("Le Cambodge a expulsé 150 suspects vers la Corée du Sud.\n", encoding="utf-8")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"")
    msg = add_files(assistant, [str(good), str(bad)])
    assert "✓ good.txt: added" in msg and "✗ cannot read bad.txt: empty file" in msg
    assert "good.txt" in {d.document for d in assistant.documents()}
    assert delete_document(assistant, "good.txt") == "Deleted good.txt."
    assert delete_document(assistant, "good.txt") == "good.txt was not in the library."
    assert delete_document(assistant, "") == "Nothing deleted."
    assert add_files(assistant, []) == "Choose one or more files first."


def test_library_says_when_the_store_cannot_be_read():
    from rag.errors import BackendUnavailable

    class Broken:
        def documents(self):  # what Assistant.documents raises when Chroma is down
            raise BackendUnavailable("Chroma at http://localhost:9 is not reachable")

    [row] = library_rows(Broken())
    # Said without the store's URL: the page's reader is a client of the server; the log keeps it.
    assert row[0].startswith("⚠️") and "did not answer" in row[0] and "localhost:9" not in row[0]


def test_the_empty_chat_says_what_is_indexed_in_the_page_language(assistant, tmp_path):
    """No fixed example questions: the chat's empty state is computed from the library."""
    assert library_summary(assistant) == (
        "5 documents are indexed (French, English, Vietnamese, Traditional Chinese). "
        "Ask about them in French, English, Vietnamese or Chinese.")
    assert library_summary(assistant, "zh-Hans").startswith("已索引 5 个文档（法语、英语、越南语、繁体中文）。")
    assert library_summary(assistant, "vi").startswith("Đã lập chỉ mục 5 tài liệu (tiếng Pháp, tiếng Anh, ")
    for d in assistant.documents()[1:]:
        assistant.delete(d.document)
    assert library_summary(assistant, "fr").startswith("1 document est indexé (français). Posez vos questions")
    assistant.delete(assistant.documents()[0].document)
    assert library_summary(assistant, "fr") == "Aucun document n'est encore indexé : ajoutez-en dans l'onglet Documents."


def test_the_empty_chat_says_nothing_when_the_library_cannot_be_read():
    from rag.errors import BackendUnavailable

    class Broken:
        def documents(self):
            raise BackendUnavailable("Chroma at http://localhost:9 is not reachable")

    assert library_summary(Broken(), "vi") == ""  # the Documents tab says why
