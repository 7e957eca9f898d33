"""A library of one's own: every document keeps its identity (its path in the folder ingested), every
file found and not indexed is in the report with its reason, every passage says where in its
document it sits (page, location), and `document_text(name)[start:end]` is the passage's text for
every format. All files are built here (tests/format_files.py)."""
from __future__ import annotations

import json
import sqlite3
from contextlib import closing

import pytest

import rag
from rag import Assistant, ConfigError, UnreadableFile, load_settings
from rag.ingestion import manifest
from rag.ingestion.load import read_text
from rag.ingestion.locations import locations_in, span_label
from tests.format_files import make_docx, make_pdf
from tests.test_formats import BLOCKS, EN, FILES, FR, VI, ZH

# Small chunks, so that a document of a few paragraphs gives several passages in several places.
SMALL = dict(min_score=-1.0, chunk_size=100, chunk_max=200)


def _all_passages(a: Assistant) -> list:
    """Every stored chunk as a retrieved passage (what search and citations give)."""
    return a.search("Marseille 2141 中国 Việt Nam", k=500)


# --- where in the document, and the exact text offsets index into ------------------------------

@pytest.mark.parametrize("name", list(FILES))
def test_every_format_passage_has_its_location_and_exact_offsets(tmp_path, name):
    raw, text, sections = FILES[name]
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / name).write_bytes(raw)
    a = Assistant(load_settings(**SMALL))
    report = a.ingest([folder])
    assert report.added == (name,) and not report.skipped
    assert a.document_text(name) == text == rag.api.Assistant.document_text(a, name)
    source = read_text(folder / name)
    passages = _all_passages(a)
    assert {p.document for p in passages} == {name} and len(passages) == len(a.document(name))
    for p in passages:
        assert a.document_text(name)[p.start:p.end] == p.text
        # where it starts, and "slides 1–2" (or "pp. 1–2") for a passage over two
        inside = locations_in(source.locations, p.start, p.end)
        assert (p.page, p.location) == ((inside[0].page, span_label(inside)) if inside else (None, None))
    # Every labelled section that is long enough to start a passage is named by one.
    if sections:
        assert {p.location for p in passages} >= {sections[0][1]}
        assert all(p.location is not None for p in passages)


def test_pdf_and_pptx_passages_carry_their_page_and_a_citation_its_passages(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "deux.pdf").write_bytes(make_pdf([f"{FR}\n{EN}", f"{VI}\n{ZH}"]))
    a = Assistant(load_settings(**SMALL))
    a.ingest([folder])
    pages = {(p.page, p.location) for p in _all_passages(a)}
    assert pages == {(1, "p. 1"), (2, "p. 2")}
    answer = a.ask("Myanmar đã trao trả bao nhiêu nghi phạm?")
    assert answer.citations
    for c in answer.citations:
        assert (c.page, c.location) == (c.passage.page, c.passage.location) and c.page in (1, 2)
        assert a.document_text(c.document)[c.start:c.end] == c.text
        assert c.to_dict()["page"] == c.page and c.to_dict()["location"] == c.location


def test_passage_and_report_dicts_say_page_location_ignored_and_warnings(tmp_path):
    p = rag.Passage("d:0", "a.pdf", "fr", "x", 0, 1, 0.5, page=3, location="p. 3")
    assert p.to_dict()["page"] == 3 and p.to_dict()["location"] == "p. 3"
    assert rag.Passage("d:0", "a.md", "fr", "x", 0, 1, 0.5).to_dict()["page"] is None
    r = rag.IngestReport(ignored=(("x.png", "type .heic"),), warnings=(("a.pdf", "page 3 has no text"),))
    assert r.to_dict()["ignored"] == [{"path": "x.png", "reason": "type .heic"}]
    assert r.to_dict()["warnings"] == [{"document": "a.pdf", "warning": "page 3 has no text"}]


def test_document_text_of_an_unknown_name_is_document_not_found():
    with pytest.raises(rag.DocumentNotFound):
        Assistant(load_settings()).document_text("nothing.md")


def test_document_text_survives_the_file_moving_and_changing(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "rapport.docx").write_bytes(make_docx(BLOCKS))
    a = Assistant(load_settings(**SMALL))
    a.ingest([folder])
    before = a.document_text("rapport.docx")
    (folder / "rapport.docx").unlink()
    assert a.document_text("rapport.docx") == before  # extracted text kept in the database
    with closing(sqlite3.connect(a.settings.home / "rag.sqlite")) as db:
        assert db.execute("SELECT text FROM texts").fetchall() == [(before,)]
    assert a.delete("rapport.docx")
    with closing(sqlite3.connect(a.settings.home / "rag.sqlite")) as db:
        assert db.execute("SELECT count(*) FROM texts").fetchone() == (0,)  # and dropped with the document


def test_cli_document_prints_the_exact_text(tmp_path, capsys):
    from ui.cli import main

    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    text = "Première ligne.\r\nDeuxième ligne, sans fin de ligne"
    (folder / "sub" / "notes.txt").write_bytes(text.encode("utf-8"))
    Assistant(load_settings()).ingest([folder])
    assert main(["document", "sub/notes.txt"]) == 0
    assert capsys.readouterr().out == text
    assert main(["document", "sub/notes.txt", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"document": "sub/notes.txt", "length": len(text), "text": text}
    assert main(["document", "notes.txt"]) != 0


# --- identity -----------------------------------------------------------------------------------

def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_same_named_files_in_two_subfolders_are_two_documents(tmp_path):
    root = tmp_path / "library"
    _write(root / "a" / "notes.md", "The Lyon warehouse opened in March 2019 and ships parcels east.\n")
    _write(root / "b" / "notes.md", "The Lille office closed in 2021 after the move to Roubaix.\n")
    _write(root / "README.md", "How this library is organised: one folder per site.\n")
    a = Assistant(load_settings(min_score=-1.0))
    report = a.ingest([root])
    assert sorted(report.added) == ["README.md", "a/notes.md", "b/notes.md"] and not report.skipped
    assert "Lyon" in a.document_text("a/notes.md") and "Lille" in a.document_text("b/notes.md")
    assert sorted(d.document for d in a.documents()) == ["README.md", "a/notes.md", "b/notes.md"]
    # The same folder again: nothing changes; a file changed: that document is updated, the other kept.
    assert sorted(a.ingest([root]).unchanged) == ["README.md", "a/notes.md", "b/notes.md"]
    _write(root / "b" / "notes.md", "The Lille office reopened in 2024.\n")
    again = a.ingest([root])
    assert again.updated == ("b/notes.md",) and "reopened" in a.document_text("b/notes.md")
    assert "Lyon" in a.document_text("a/notes.md")


def test_a_same_named_file_from_another_folder_never_replaces_a_document(tmp_path):
    tmp_path = tmp_path / "lib"
    _write(tmp_path / "a" / "notes.md", "The Lyon warehouse opened in March 2019.\n")
    _write(tmp_path / "b" / "notes.md", "The Lille office closed in 2021.\n")
    a = Assistant(load_settings(min_score=-1.0))
    assert a.ingest([tmp_path / "a"]).added == ("notes.md",)
    report = a.ingest([tmp_path / "b"])
    assert report.added == report.updated == ()
    assert report.skipped == ((str(tmp_path / "b" / "notes.md"),
                               f"the name notes.md is taken by another file ({(tmp_path / 'a' / 'notes.md').resolve()}); "
                               "ingest their common folder to keep both"),)
    assert "Lyon" in a.document_text("notes.md")
    # Both folders in one run: the second of the name is skipped with its reason, as above.
    both = a.ingest([tmp_path / "a", tmp_path / "b"])
    assert both.unchanged == ("notes.md",)
    assert both.skipped[0][1].startswith("another file named notes.md was ingested in this run")
    # Their common folder keeps both, under their paths.
    common = a.ingest([tmp_path])
    assert sorted(common.added) == ["b/notes.md"] and common.duplicates == (
        (str(tmp_path / "a" / "notes.md"), "notes.md"),)


def test_the_data_directory_is_never_ingested_as_documents(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_HOME", str(tmp_path / "docs" / "index"))
    _write(tmp_path / "docs" / "notes.md", "The Lyon warehouse opened in March 2019.\n")
    a = Assistant(load_settings())
    assert a.ingest([tmp_path / "docs"]).added == ("notes.md",)
    assert a.ingest([tmp_path / "docs"]).unchanged == ("notes.md",)  # its kept text is not a document


def test_a_moved_file_updates_its_document(tmp_path):
    _write(tmp_path / "old" / "notes.md", "The Lyon warehouse opened in March 2019.\n")
    a = Assistant(load_settings(min_score=-1.0))
    a.ingest([tmp_path / "old"])
    (tmp_path / "old").rename(tmp_path / "new")
    _write(tmp_path / "new" / "notes.md", "The Lyon warehouse opened in April 2019.\n")
    report = a.ingest([tmp_path / "new"])
    assert report.updated == ("notes.md",) and "April" in a.document_text("notes.md")


def test_the_upload_and_the_ingest_count_the_size_limit_in_mib(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_MAX_FILE_MB", "1")
    a = Assistant(load_settings())
    under = tmp_path / "under.txt"  # over 1 MB (decimal), under 1 MiB: taken by both
    head = b"The Lyon warehouse opened in March 2019.\n\n"
    under.write_bytes(head + b" " * (1_000_016 - len(head)))  # one short paragraph: quick to embed
    over = tmp_path / "over.txt"  # 1 MiB and one byte: refused by both
    over.write_bytes(b"x" * (2**20 + 1))
    assert a.add_file(under).added == ("under.txt",)
    with pytest.raises(UnreadableFile, match=r"1\.0 MiB is over the limit of 1 MiB \(RAG_MAX_FILE_MB\)"):
        a.add_file(over)
    report = a.ingest([over])
    assert report.skipped == ((str(over), "file is 1048577 bytes (1.0 MiB), over the limit of 1048576 bytes "
                                          "(1.0 MiB) (RAG_MAX_FILE_MB=1)"),)


@pytest.mark.parametrize(("value", "error"), [
    ("txt,doc", "no reader for 'doc'"),
    ("rtf", "no reader for 'rtf'"),
    ("txt,md,docx,odt,epub,pptx,xlsx,csv,pdf,html", None),
])
def test_upload_types_accept_only_types_with_a_reader(value, error):
    if error is None:
        assert load_settings(upload_types=value).upload_types == value
    else:
        with pytest.raises(ConfigError, match=rf"RAG_UPLOAD_TYPES: .*{error}; known types: txt, text, md"):
            load_settings(upload_types=value)


# --- nothing silent -----------------------------------------------------------------------------

def test_every_file_found_and_not_indexed_is_in_the_report_with_its_reason(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_MAX_FILE_MB", "0.01")
    root = tmp_path / "library"
    _write(root / "good.md", "The Lyon warehouse opened in March 2019 and ships parcels east.\n")
    _write(root / "copy" / "good.md", "The Lyon warehouse opened in March 2019 and ships parcels east.\n")
    _write(root / "menu.md", "Share on Facebook\n\nTweet\n")
    (root / "photo.heic").write_bytes(b"\x89PNG\r\n\x1a\n")
    (root / "big.txt").write_bytes(b"Lyon " * 4000)
    (root / "broken.docx").write_bytes(b"PK\x03\x04" + b"\0" * 40)
    (root / "scan.pdf").write_bytes(make_pdf([EN, "", FR]))
    report = Assistant(load_settings(min_score=-1.0)).ingest([root])
    assert sorted(report.added) == ["copy/good.md", "scan.pdf"]  # in path order, copy/ comes first
    reasons = {path.rsplit("/", 1)[-1]: why for path, why in report.skipped}
    rows = [
        ("big.txt", "file is 20000 bytes (0.0 MiB), over the limit of 10485 bytes (0.0 MiB) (RAG_MAX_FILE_MB=0.01)"),
        ("broken.docx", "a truncated or damaged archive"),
        ("menu.md", "no text left after cleaning (nothing to index)"),
    ]
    assert sorted(reasons) == [name for name, _ in rows]
    for name, why in rows:
        assert reasons[name].startswith(why), (name, reasons[name])
    assert report.duplicates == ((str(root / "good.md"), "copy/good.md"),)
    assert report.ignored == ((str(root / "photo.heic"), report.ignored[0][1]),)
    assert report.ignored[0][1].startswith("type .heic is not allowed (RAG_UPLOAD_TYPES: ")
    assert report.warnings == (("scan.pdf", "page 2 has no text: blank (not indexed)"),)


def test_cli_ingest_prints_warnings_ignored_and_skipped(tmp_path, capsys):
    from ui.cli import main

    root = tmp_path / "library"
    _write(root / "good.md", "The Lyon warehouse opened in March 2019 and ships parcels east.\n")
    (root / "photo.heic").write_bytes(b"\x89PNG\r\n\x1a\n")
    (root / "scan.pdf").write_bytes(make_pdf([EN, ""]))
    assert main(["ingest", str(root)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "warning scan.pdf: page 2 has no text: blank (not indexed)" in out
    assert any(line.startswith(f"ignored {root / 'photo.heic'}: type .heic is not allowed") for line in out)


# --- an index made by the previous version ------------------------------------------------------

def test_an_index_of_the_previous_version_is_migrated_with_a_notice(tmp_path, monkeypatch):
    root = tmp_path / "library"
    _write(root / "sub" / "notes.md", "The Lyon warehouse opened in March 2019 and ships parcels east.\n")
    _write(root / "plan.md", "The plan for next year is a second warehouse near Marseille.\n")
    _write(tmp_path / "elsewhere" / "other.md", "The Lille office closed in 2021 after the move.\n")
    a = Assistant(load_settings(min_score=-1.0))
    # The previous version: documents named by their file name alone, no pages, layout chunk-v1.
    monkeypatch.setattr(manifest, "VERSION", "chunk-v1")
    a.ingest([root / "sub" / "notes.md", root / "plan.md", tmp_path / "elsewhere" / "other.md"])
    monkeypatch.undo()
    assert sorted(d.document for d in a.documents()) == ["notes.md", "other.md", "plan.md"]

    report = a.ingest([root])
    # The same file moves to its new name (the stored path says it is the same file), rebuilt.
    assert sorted(d.document for d in a.documents()) == ["other.md", "plan.md", "sub/notes.md"]
    assert report.added == ("sub/notes.md",) and report.repaired == ("plan.md",)
    assert not report.duplicates and not report.skipped
    assert "notes.md is now sub/notes.md: documents are named by their path in the folder ingested" in report.notices
    assert "plan.md: stored copy was made by an earlier version (no pages or locations); rebuilt" in report.notices
    # The document this run did not meet is named, never silently mixed.
    assert ("1 document(s) were indexed by an earlier version (named by file name alone, no pages): "
            "ingest their folders again to update them: other.md") in report.notices
    assert a.ingest([tmp_path / "elsewhere"]).repaired == ("other.md",)
    assert not any("earlier version" in n for n in a.ingest([root]).notices)
