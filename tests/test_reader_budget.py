"""Every reader bounds what it makes of a file: repeat counts capped, a part listed twice read once,
tables and the whole text cut at the document's budget (RAG_MAX_DOCUMENT_CHARS) with a warning.
And the worker that runs them refuses a file past its time or memory budget, with the reason."""
from __future__ import annotations

import os
import resource
import time

import pytest

from rag import Assistant, load_settings
from rag.errors import UnreadableFile
from rag.ingestion.load import read_text
from rag.ingestion.locations import over_budget
from rag.ingestion.worker import Limits, Worker
from tests.format_files import make_docx, make_epub, make_odt, make_pdf, make_pptx, make_xlsx
from tests.hostile_files import epub_repeated_spine, odt_repeated_table, odt_space_bomb, pptx_duplicate_slides

LIMIT = 20_000
PARAGRAPH = "Une phrase qui compte quarante caractères. " * 5


def read(tmp_path, name: str, raw: bytes, limit: int = LIMIT):
    path = tmp_path / name
    path.write_bytes(raw)
    start = time.perf_counter()
    source = read_text(path, max_chars=limit)
    return source, time.perf_counter() - start


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_odt_space_bomb_is_read_as_a_few_spaces(tmp_path):
    before = peak_rss_mib()
    source, seconds = read(tmp_path, "bomb.odt", odt_space_bomb(), limit=5_000_000)
    assert source.text.startswith("Bonjour") and source.text.endswith("x")
    assert len(source.text) < 200 and seconds < 2
    assert peak_rss_mib() - before < 100  # 500 million spaces would be 500 MiB at least


def test_many_space_bombs_stop_at_the_budget(tmp_path):
    source, seconds = read(tmp_path, "bombs.odt", odt_space_bomb(count=10_000_000, elements=5_000))
    assert len(source.text) <= LIMIT and over_budget(LIMIT) in source.warnings
    assert seconds < 2


def test_odt_table_repeated_a_billion_times_stops_at_the_budget(tmp_path):
    source, seconds = read(tmp_path, "table.odt", odt_repeated_table())
    assert 0 < len(source.text) <= LIMIT and seconds < 2
    assert over_budget(LIMIT) in source.warnings


def test_epub_chapter_listed_thousands_of_times_is_read_once(tmp_path):
    source, seconds = read(tmp_path, "spine.epub", epub_repeated_spine(times=5_000, paragraph="Un chapitre. " * 100),
                           limit=5_000_000)
    assert source.text.count("Un chapitre.") == 100 and seconds < 5
    assert source.warnings == ()


def test_pptx_slide_listed_thousands_of_times_is_read_once(tmp_path):
    source, _ = read(tmp_path, "deck.pptx", pptx_duplicate_slides(times=2_000), limit=5_000_000)
    assert source.text.count("Titre") == 1
    assert [loc.label for loc in source.locations] == ["slide 1"]


# One file per reader, each well over the budget: cut at it, with the warning; the text kept is the start.
LONG = {
    "long.txt": (PARAGRAPH + "\n\n").encode() * 200,
    "long.md": ("# Titre\n\n" + (PARAGRAPH + "\n\n") * 200).encode(),
    "long.html": ("<html><body>" + f"<p>{PARAGRAPH}</p>" * 200 + "</body></html>").encode(),
    "long.csv": ("a,b\n" + f"{PARAGRAPH},x\n" * 200).encode(),
}


@pytest.fixture(scope="module")
def long_files() -> dict[str, bytes]:
    return {
        **LONG,
        "long.docx": make_docx([("p", PARAGRAPH)] * 200),
        "long.odt": make_odt([("p", PARAGRAPH)] * 200),
        "long.epub": make_epub([(f"Chapitre {i}", PARAGRAPH * 10) for i in range(20)]),
        "long.pptx": make_pptx([{"title": f"Titre {i}", "body": [PARAGRAPH] * 5} for i in range(20)]),
        "long.xlsx": make_xlsx({"Feuille": [[PARAGRAPH, PARAGRAPH] for _ in range(200)]}),
        "long.pdf": make_pdf([PARAGRAPH * 3] * 40),
        "table.docx": make_docx([("table", [[PARAGRAPH] * 5] * 200)]),
    }


@pytest.mark.parametrize("name", ["long.txt", "long.md", "long.html", "long.csv", "long.docx", "long.odt", "long.epub",
                                  "long.pptx", "long.xlsx", "long.pdf", "table.docx"])
def test_every_reader_cuts_at_the_budget_and_says_so(tmp_path, long_files, name):
    full, _ = read(tmp_path, "full-" + name, long_files[name], limit=5_000_000)
    assert len(full.text) > LIMIT and not any("RAG_MAX_DOCUMENT_CHARS" in w for w in full.warnings)
    cut, _ = read(tmp_path, name, long_files[name])
    assert LIMIT - 1000 < len(cut.text) <= LIMIT
    assert full.text.startswith(cut.text.rstrip())
    assert over_budget(LIMIT) in cut.warnings


def test_budget_reaches_the_index_through_the_setting(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "long.txt").write_bytes(LONG["long.txt"])
    a = Assistant(load_settings(max_document_chars=5_000))
    report = a.ingest([docs])
    assert report.added == ("long.txt",)
    assert report.warnings == (("long.txt", over_budget(5_000)),)
    assert len(a.document_text("long.txt")) <= 5_000


# --- the worker's budgets --------------------------------------------------------------------------

def call(w: Worker, path, limits: Limits):
    return w.call("read", (str(path), None, path.name, 5_000_000), deadline=time.monotonic() + limits.timeout_s,
                  limits=limits, where=str(path))


def test_a_file_past_its_time_budget_is_refused_and_the_worker_replaced(tmp_path):
    slow = tmp_path / "slow.txt"
    slow.write_text("a. " * 300_000)  # about a second to chunk: far past 0.2 s
    fast = tmp_path / "fast.txt"
    fast.write_text("Un texte court.")
    w = Worker(1024)
    limits = Limits(0.2, 1024)
    try:
        source = call(w, slow, Limits(60, 1024))  # reading it is quick; chunking it is not
        pid = w._process.pid
        start = time.monotonic()
        with pytest.raises(UnreadableFile) as e:
            w.call("prepare", (source.sha256, 600, 900), deadline=time.monotonic() + 0.2, limits=limits,
                   where=str(slow))
        assert time.monotonic() - start < 2  # killed at its deadline, not waited for
        assert e.value.reason == "reading it took longer than the budget of 0.2 s (RAG_PARSE_TIMEOUT_S); refused"
        assert not w.alive
        assert call(w, fast, Limits(60, 1024)).text == "Un texte court."  # a fresh worker
        assert w._process.pid != pid
    finally:
        w.close()


def test_a_file_past_its_memory_budget_is_refused(tmp_path):
    big = tmp_path / "big.txt"
    # UTF-16: decoded at once, 150 MiB of bytes and as much of text, past the 512 MiB the worker has
    # (about 270 MiB of which its interpreter and the language model take).
    big.write_bytes(b"\xff\xfe" + "中文".encode("utf-16-le") * (150 * 2**18))
    w = Worker(512)
    try:
        with pytest.raises(UnreadableFile) as e:
            call(w, big, Limits(60, 512))
        assert e.value.reason == ("reading it needs more memory than the budget of 512 MiB (RAG_PARSE_MEMORY_MB); "
                                  "refused")
        small = tmp_path / "small.txt"
        small.write_text("Encore un texte.")
        assert call(w, small, Limits(60, 512)).text == "Encore un texte."
    finally:
        w.close()


def test_unreadable_files_keep_their_reason_through_the_worker(tmp_path):
    bad = tmp_path / "bad.docx"
    bad.write_bytes(b"not a zip at all")
    w = Worker(1024)
    try:
        with pytest.raises(UnreadableFile) as e:
            call(w, bad, Limits(60, 1024))
        assert e.value.path == str(bad) and "not a .docx file: it holds plain text" in e.value.reason
    finally:
        w.close()


def test_ingestion_refuses_a_file_past_its_time_budget_and_indexes_the_others(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ok.txt").write_text("Un texte court, lu dans les temps.")
    (docs / "slow.txt").write_text("a. " * 300_000)
    a = Assistant(load_settings(parse_timeout_s=0.3))
    report = a.ingest([docs])
    assert report.added == ("ok.txt",)
    assert [(os.path.basename(p), r) for p, r in report.skipped] == [
        ("slow.txt", "reading it took longer than the budget of 0.3 s (RAG_PARSE_TIMEOUT_S); refused")]
