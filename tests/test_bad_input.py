"""Bad input, case by case, through the Python API, the CLI and the web chat's turn function.

Every case checks the message the person sees and that what was already indexed is still there
(documents and their chunk counts, before and after). Fake backends (see conftest).
"""
from __future__ import annotations

import codecs
import random
import shutil
import tracemalloc
from pathlib import Path

import pytest

from rag import Assistant, load_settings
from ui.cli import main
from rag.errors import ConfigError, EmptyQuestion, PathNotFound, QuestionWithoutWords
from rag.backends.llm import ScriptedLLM
from tests.conftest import SEEDS
from ui.chat import chat_turn

# Two small seeds are enough to have something to lose.
BASE = ["003_912a6ae6278a5b97.txt", "004_0a58046803119029.txt"]
LONG = "How many suspects did Cambodia arrest? " * 2600  # 101,400 characters
UNSUPPORTED = {
    "Arabic": "كم عدد المشتبه بهم الذين اعتقلتهم كمبوديا؟",
    "Thai": "กัมพูชาจับกุมผู้ต้องสงสัยกี่คน",
    "German": "Wie viele Verdächtige hat Kambodscha festgenommen?",
}
NO_WORDS = ["🔥🔥🤔", "??? !!!", "【】…"]


@pytest.fixture
def base(tmp_path) -> Path:
    d = tmp_path / "base"
    d.mkdir()
    for name in BASE:
        shutil.copy(SEEDS / name, d / name)
    return d


@pytest.fixture
def indexed(base):
    """An Assistant over the two base seeds (min_score off, so the fake LLM is always asked)."""
    a = Assistant(load_settings(min_score=-1.0), llm=ScriptedLLM())
    report = a.ingest([base])
    assert sorted(report.added) == BASE
    return a


def snapshot(a: Assistant) -> dict[str, int]:
    """Document -> chunk count, read back from the store itself."""
    return {doc: len(metas) for doc, metas in a.store.documents().items()}


def fresh() -> Assistant:
    return Assistant(load_settings())


def cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- questions: API ---------------------------------------------------------------------------

@pytest.mark.parametrize("question", ["", "   ", "\n\t\u3000"])
def test_api_empty_question(indexed, question):
    before = snapshot(indexed)
    with pytest.raises(EmptyQuestion, match="the question is empty"):
        indexed.ask(question)
    assert snapshot(indexed) == before


@pytest.mark.parametrize("question", NO_WORDS)
def test_api_question_without_words_is_refused_clearly(indexed, question):
    before = snapshot(indexed)
    with pytest.raises(QuestionWithoutWords, match="the question has no words"):
        indexed.ask(question)
    with pytest.raises(QuestionWithoutWords):
        indexed.search(question)
    assert snapshot(indexed) == before


def test_api_100k_question_is_truncated_with_a_notice(indexed):
    answer = indexed.ask(LONG)
    assert len(LONG) > 100_000
    assert "Your question was too long and was shortened to 2000 characters." in answer.notices
    prompt = indexed.llm.prompts[-1][-1]["content"]
    asked = prompt.split("Question: ", 1)[1].split("\nAnswer in", 1)[0]
    assert len(asked) == 2000  # the model saw the first 2000 characters, not 100,000


@pytest.mark.parametrize("language", sorted(UNSUPPORTED))
def test_api_unsupported_language_is_answered_in_english_and_says_so(indexed, language):
    before = snapshot(indexed)
    answer = indexed.ask(UNSUPPORTED[language])
    assert answer.language == "en"
    assert f"Questions in {language} are not supported (French, English, Vietnamese and Chinese are): " \
           "the answer is in English." in answer.notices
    assert indexed.llm.prompts[-1][-1]["content"].endswith("Answer in English.")
    assert snapshot(indexed) == before


def test_api_supported_languages_get_no_such_notice(indexed):
    for q in ["Combien de suspects ?", "Campuchia đã bắt giữ bao nhiêu nghi phạm?", "柬埔寨逮捕了多少人？"]:
        assert not [n for n in indexed.ask(q).notices if "not supported" in n]


def test_forced_language_needs_no_notice(base):
    a = Assistant(load_settings(min_score=-1.0, language="fr"), llm=ScriptedLLM())
    a.ingest([base])
    answer = a.ask(UNSUPPORTED["Thai"])
    assert answer.language == "fr" and not [n for n in answer.notices if "not supported" in n]


# --- questions: CLI ---------------------------------------------------------------------------

@pytest.fixture
def cli_indexed(capsys, base, monkeypatch):
    monkeypatch.setenv("RAG_MIN_SCORE", "-1")
    assert cli(capsys, "ingest", str(base))[0] == 0
    return fresh


def test_cli_empty_and_wordless_questions(capsys, cli_indexed):
    before = snapshot(cli_indexed())
    assert cli(capsys, "ask", " \t ") == (2, "", "error: the question is empty: type a question\n")
    assert cli(capsys, "ask", "🔥🔥🤔") == (2, "", "error: the question has no words (only symbols or emoji): "
                                                  "type a question in French, English, Vietnamese or Chinese\n")
    assert cli(capsys, "search", "???") [0] == 2
    assert snapshot(cli_indexed()) == before


def test_cli_100k_question(capsys, cli_indexed):
    code, out, err = cli(capsys, "ask", LONG)
    assert code == 0 and err == ""
    assert "\nnote: Your question was too long and was shortened to 2000 characters.\n" in out


def test_cli_unsupported_language(capsys, cli_indexed):
    code, out, _ = cli(capsys, "ask", UNSUPPORTED["Arabic"], "--json")
    assert code == 0
    import json

    answer = json.loads(out)
    assert answer["language"] == "en"
    assert answer["notices"] == ["Questions in Arabic are not supported (French, English, Vietnamese and "
                                 "Chinese are): the answer is in English."]


# --- questions: the web chat (only element [0], the history, is relied on) ---------------------

def last_history(assistant, message, history=()):
    outputs = list(chat_turn(assistant, message, list(history)))  # an exception would escape here
    return outputs[-1][0]


@pytest.mark.parametrize("message", ["", "   "])
def test_ui_empty_question_adds_nothing(indexed, message):
    assert last_history(indexed, message) == []


def test_ui_wordless_question_gets_a_readable_message(indexed):
    history = last_history(indexed, "🔥🔥🤔")
    assert history[-1]["role"] == "assistant"
    assert "the question has no words" in history[-1]["content"]


def test_ui_100k_question(indexed):
    history = last_history(indexed, LONG)
    assert "shortened to 2000 characters" in history[-1]["content"]


def test_ui_unsupported_language(indexed):
    history = last_history(indexed, UNSUPPORTED["Thai"])
    assert "Questions in Thai are not supported" in history[-1]["content"]


# --- files ------------------------------------------------------------------------------------

FR = "Le Cambodge a arrêté 2 141 suspects ; l’été, café, crème brûlée.\n"
ZH_HANS = "柬埔寨警方逮捕了两千多名诈骗嫌疑人，缅甸移交了五千五百名。\n"
ZH_HANT = "柬埔寨警方逮捕了兩千多名詐騙嫌疑人，緬甸移交了五千五百名。\n"

ENCODED = [  # (file name, bytes, the text it must read as)
    ("gb18030.txt", (ZH_HANS * 3).encode("gb18030"), ZH_HANS * 3),
    ("big5.txt", (ZH_HANT * 3).encode("big5"), ZH_HANT * 3),
    ("cp1252.txt", (FR * 3).encode("cp1252"), FR * 3),
    ("utf16.txt", (FR * 3).encode("utf-16"), FR * 3),  # with a BOM
]


def stored_text(a: Assistant, name: str) -> str:
    return " ".join(c.text for c in a.document(name))  # the stored chunks in reading order


@pytest.mark.parametrize("name,raw,text", ENCODED, ids=[e[0] for e in ENCODED])
def test_api_legacy_encodings_are_decoded_by_content(indexed, tmp_path, name, raw, text):
    before = snapshot(indexed)
    f = tmp_path / name
    f.write_bytes(raw)
    report = indexed.ingest([f])
    assert report.added == (name,) and report.skipped == ()
    # every sentence of the original text is stored, character for character
    stored = stored_text(indexed, name)
    for line in text.splitlines():
        assert line.strip() in stored
    assert snapshot(indexed) == {**before, name: snapshot(indexed)[name]}


def _binary() -> bytes:
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + random.Random(0).randbytes(3000)


BAD_FILES = [  # (file name, bytes, reason)
    ("empty.txt", b"", "empty file"),
    ("bom-only.txt", codecs.BOM_UTF8, "empty file"),
    ("image.txt", _binary(), "binary file (contains NUL bytes)"),
]


@pytest.mark.parametrize("name,raw,reason", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_api_unreadable_files_are_skipped_with_the_reason(indexed, tmp_path, name, raw, reason):
    before = snapshot(indexed)
    f = tmp_path / name
    f.write_bytes(raw)
    report = indexed.ingest([f])
    assert report.skipped == ((str(f), reason),) and report.added == ()
    assert snapshot(indexed) == before


@pytest.mark.parametrize("name,raw,reason", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_cli_unreadable_files_exit_1_naming_file_and_reason(capsys, cli_indexed, tmp_path, name, raw, reason):
    before = snapshot(cli_indexed())
    f = tmp_path / name
    f.write_bytes(raw)
    code, out, err = cli(capsys, "ingest", str(f))
    assert code == 1 and err == f"skipped {f}: {reason}\n"
    assert snapshot(cli_indexed()) == before


@pytest.mark.parametrize("name,raw,text", ENCODED, ids=[e[0] for e in ENCODED])
def test_cli_legacy_encodings(capsys, cli_indexed, tmp_path, name, raw, text):
    f = tmp_path / name
    f.write_bytes(raw)
    code, out, err = cli(capsys, "ingest", str(f))
    assert code == 0 and "skipped" not in err  # stderr holds the progress bar
    assert out.startswith("added 1, updated 0, unchanged 0")
    assert f"\nnote: {name}: decoded as " in out
    assert text.splitlines()[0].strip() in stored_text(cli_indexed(), name)


def write_100mb(path: Path) -> int:
    line = ("Une ligne de texte ordinaire, répétée pour faire un très gros fichier. " * 10 + "\n").encode()
    block = line * (2**20 // len(line) + 1)
    with path.open("wb") as f:
        for _ in range(100):
            f.write(block[: 2**20])
    return path.stat().st_size


HUGE_REASON = ("file is 104857600 bytes (100.0 MiB), over the limit of 52428800 bytes (50.0 MiB) "
               "(RAG_MAX_FILE_MB=50)")


def test_api_100mb_file_is_refused_by_size_without_being_read(indexed, tmp_path):
    f = tmp_path / "huge.txt"
    assert write_100mb(f) == 100 * 2**20
    before = snapshot(indexed)
    tracemalloc.start()
    try:
        report = indexed.ingest([f])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.skipped == ((str(f), HUGE_REASON),)
    # Reading the file would cost at least 100 MB; the whole ingest call allocated far less.
    print(f"peak traced allocation while refusing a 100 MB file: {peak / 2**20:.2f} MB")
    assert peak < 8 * 2**20, f"peak {peak / 2**20:.1f} MB"
    assert snapshot(indexed) == before


def test_cli_100mb_file(capsys, cli_indexed, tmp_path):
    f = tmp_path / "huge.txt"
    write_100mb(f)
    before = snapshot(cli_indexed())
    code, out, err = cli(capsys, "ingest", str(f))
    assert code == 1 and err == f"skipped {f}: {HUGE_REASON}\n"
    assert snapshot(cli_indexed()) == before


def test_missing_path_api_and_cli(capsys, indexed, tmp_path):
    missing = tmp_path / "nope" / "gone.txt"
    before = snapshot(indexed)
    with pytest.raises(PathNotFound, match=f"no such file or directory: {missing}"):
        indexed.ingest([missing])
    assert snapshot(indexed) == before
    assert cli(capsys, "ingest", str(missing)) == (2, "", f"error: no such file or directory: {missing}\n")


@pytest.fixture
def mixed(tmp_path) -> Path:
    """A directory of good and bad files, one level of subdirectory."""
    d = tmp_path / "mixed"
    (d / "sub").mkdir(parents=True)
    shutil.copy(SEEDS / "000_e2aec77d374aef68.txt", d / "good.txt")
    (d / "sub" / "notes.md").write_text("# Notes\n\nCambodia arrested 2,141 suspects in the campaign.\n",
                                        encoding="utf-8")
    (d / "sub" / "big5.txt").write_bytes((ZH_HANT * 3).encode("big5"))
    (d / "empty.txt").write_bytes(b"")
    (d / "image.txt").write_bytes(_binary())
    (d / "photo.heic").write_bytes(_binary())  # not a text type: ignored, named in a notice
    (d / ".hidden.txt").write_text("hidden files are not walked\n", encoding="utf-8")
    return d


def test_api_mixed_directory_ingests_good_names_bad(indexed, mixed):
    before = snapshot(indexed)
    report = indexed.ingest([mixed])
    # Named by their path in the folder given.
    assert sorted(report.added) == ["good.txt", "sub/big5.txt", "sub/notes.md"]
    assert sorted(report.skipped) == [(str(mixed / "empty.txt"), "empty file"),
                                      (str(mixed / "image.txt"), "binary file (contains NUL bytes)")]
    assert f"ignored 1 file(s) of unsupported types: {mixed / 'photo.heic'}" in report.notices
    assert [p for p, _ in report.ignored] == [str(mixed / "photo.heic")]
    assert report.ignored[0][1].startswith("type .heic is not allowed (RAG_UPLOAD_TYPES: ")
    after = snapshot(indexed)
    assert {k: after[k] for k in before} == before and set(after) == set(before) | set(report.added)


def test_cli_mixed_directory_exit_1(capsys, cli_indexed, mixed):
    before = snapshot(cli_indexed())
    code, out, err = cli(capsys, "ingest", str(mixed))
    assert code == 1  # some file could not be read; the others were ingested (README: exit codes)
    assert out.startswith("added 3, updated 0, unchanged 0, removed 0, repaired 0;")
    assert [line for line in err.splitlines() if line.startswith("skipped")] == [f"skipped {mixed / 'empty.txt'}: empty file",
                                f"skipped {mixed / 'image.txt'}: binary file (contains NUL bytes)"]
    after = snapshot(cli_indexed())
    assert {k: after[k] for k in before} == before and len(after) == len(before) + 3


# --- upload types -----------------------------------------------------------------------------

def test_explicit_file_of_a_type_not_allowed(capsys, indexed, tmp_path):
    f = tmp_path / "table.rtf"
    f.write_text("{\\rtf1 a b}\n", encoding="utf-8")
    before = snapshot(indexed)
    report = indexed.ingest([f])
    reason = ("type .rtf is not allowed (RAG_UPLOAD_TYPES: csv, docx, epub, htm, html, jpeg, jpg, markdown, md, "
              "odt, pdf, png, pptx, text, tif, tiff, txt, webp, xlsx)")
    assert report.skipped == ((str(f), reason),)
    assert snapshot(indexed) == before
    assert cli(capsys, "ingest", str(f))[:3:2] == (1, f"skipped {f}: {reason}\n")


def test_upload_types_setting_narrows_what_is_read(base, tmp_path):
    md = tmp_path / "notes.md"
    md.write_text("Cambodia arrested 2,141 suspects.\n", encoding="utf-8")
    noext = tmp_path / "README"
    noext.write_text("Plain text without an extension.\n", encoding="utf-8")
    a = Assistant(load_settings(upload_types=" .TXT, "))
    report = a.ingest([base, md, noext])
    assert sorted(report.added) == BASE
    assert report.skipped == ((str(md), "type .md is not allowed (RAG_UPLOAD_TYPES: txt)"),
                              (str(noext), "a file without an extension is not allowed (RAG_UPLOAD_TYPES: txt)"))


@pytest.mark.parametrize("value", [" , ", "txt,*.md"])
def test_bad_upload_types_value_names_the_variable(value):
    with pytest.raises(ConfigError, match="RAG_UPLOAD_TYPES"):
        load_settings(upload_types=value)


# --- the same content under two names -----------------------------------------------------------

def test_duplicate_content_is_stored_once_and_reported(indexed, base, tmp_path):
    copy = tmp_path / "copy-of-003.txt"
    shutil.copy(base / BASE[0], copy)
    before = snapshot(indexed)
    report = indexed.ingest([base, copy])
    assert report.duplicates == ((str(copy), BASE[0]),) and report.added == ()
    assert sorted(report.unchanged) == BASE
    assert snapshot(indexed) == before  # nothing lost, nothing stored twice

    # within one run: the first name (path order) is kept
    d = tmp_path / "twins"
    d.mkdir()
    (d / "a.txt").write_text(FR * 2, encoding="utf-8")
    (d / "b.txt").write_text(FR * 2, encoding="utf-8")
    report = indexed.ingest([d])
    assert report.added == ("a.txt",) and report.duplicates == ((str(d / "b.txt"), "a.txt"),)
    assert set(snapshot(indexed)) == set(before) | {"a.txt"}


def test_duplicate_of_a_document_that_changes_in_the_same_run_is_kept(indexed, tmp_path):
    d = tmp_path / "moving"
    d.mkdir()
    (d / "a.txt").write_text(FR * 2, encoding="utf-8")
    indexed.ingest([d])
    # a.txt gets new text and b.txt takes its old text: b must be stored, or the old text is lost
    (d / "a.txt").write_text(ZH_HANS * 2, encoding="utf-8")
    (d / "b.txt").write_text(FR * 2, encoding="utf-8")
    report = indexed.ingest([d])
    assert report.updated == ("a.txt",) and report.added == ("b.txt",) and report.duplicates == ()
    assert "2 141 suspects" in stored_text(indexed, "b.txt")


def test_cli_duplicate_is_named_and_exit_0(capsys, cli_indexed, base, tmp_path):
    copy = tmp_path / "again.txt"
    shutil.copy(base / BASE[1], copy)
    code, out, err = cli(capsys, "ingest", str(copy))
    assert code == 0 and "skipped" not in err
    assert f"duplicate {copy}: same content as {BASE[1]}, already indexed; not stored again\n" in out
    assert sorted(snapshot(cli_indexed())) == BASE
