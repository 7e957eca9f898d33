"""The document library behind the web page: viewing, adding, deleting and translating documents,
and the HTML and PDF formats uploads may bring."""
from __future__ import annotations

import pytest

from rag import Assistant, load_settings
from rag.errors import InvalidInput, UnreadableFile

VI_DOC = "003_912a6ae6278a5b97.txt"


def make_pdf(text: str) -> bytes:
    """A one-page PDF with `text` in Helvetica, written by hand (no PDF writer needed)."""
    content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return out


def test_document_returns_the_stored_text_in_order_with_exact_offsets(lib, seeds_copy):
    chunks = lib.document(VI_DOC)
    original = (seeds_copy / VI_DOC).read_text(encoding="utf-8")
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)
    assert all(original[c.start : c.end] == c.text for c in chunks)
    assert {c.document for c in chunks} == {VI_DOC}


def test_delete_removes_a_document_everywhere_and_only_it(lib):
    before = {d.document: d.chunks for d in lib.documents()}
    assert lib.delete(VI_DOC) is True
    after = {d.document: d.chunks for d in lib.documents()}
    assert after == {k: v for k, v in before.items() if k != VI_DOC}
    assert all(p.document != VI_DOC for p in lib.search("Myanmar nghi phạm Trung Quốc", k=20))
    assert VI_DOC not in lib.keywords.ids_by_document()
    assert VI_DOC not in lib.sentences.documents()
    assert lib.delete(VI_DOC) is False


def test_add_file_copies_ingests_and_refuses_to_replace_a_different_document(lib, tmp_path):
    up = tmp_path / "incoming" / "vaccins.md"
    up.parent.mkdir()
    up.write_text("# Vaccins\n\nLa campagne de vaccination a commencé le 3 mars à Lyon.\n", encoding="utf-8")
    report = lib.add_file(up)
    assert report.added == ("vaccins.md",) and report.chunks >= 1
    kept = lib.settings.home / "uploads" / "vaccins.md"
    assert kept.read_bytes() == up.read_bytes()  # the upload outlives Gradio's temporary file
    assert lib.add_file(up).unchanged == ("vaccins.md",)

    other = tmp_path / "vaccins.md"
    other.write_text("Autre chose.\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="a different document named vaccins.md"):
        lib.add_file(other)
    assert kept.read_bytes() == up.read_bytes()
    assert "vaccins.md" in {d.document for d in lib.documents()}

    assert lib.delete("vaccins.md") and not kept.exists()


@pytest.mark.parametrize(
    "name, data, reason",
    [
        ("tool.exe", b"MZ\x90\x00", "files are not accepted"),
        ("empty.txt", b"", "empty file"),
        ("blob.txt", b"\x00\x01\x02binary" * 20, "binary"),
        ("../escape.txt", b"text", "not a usable file name"),
        (".hidden.txt", b"text", "not a usable file name"),
    ],
)
def test_add_file_rejects_bad_uploads_and_loses_nothing(lib, tmp_path, name, data, reason):
    before = lib.documents()
    src = tmp_path / "upload.bin"
    src.write_bytes(data)
    with pytest.raises((UnreadableFile, InvalidInput), match=reason):
        lib.add_file(src, name)
    assert lib.documents() == before
    assert not any((lib.settings.home / "uploads").glob("*")) if (lib.settings.home / "uploads").exists() else True


def test_two_uploads_of_one_new_name_at_once_lose_neither(lib, tmp_path, monkeypatch):
    """Both uploads reach the copy step together when nothing stops them (a barrier holds the first
    there until the second arrives, or 0.5 s): the name checks run inside the ingestion lock, so the
    second is refused, clearly, and what is stored is what the accepted one sent."""
    import threading

    from rag.errors import IndexBusy
    from rag.ingestion import uploads

    barrier = threading.Barrier(2, timeout=0.5)
    real_copy = uploads.keep_copy

    def copy_together(src, folder, name):
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass  # the other upload never got this far
        return real_copy(src, folder, name)

    monkeypatch.setattr(uploads, "keep_copy", copy_together)
    texts = {who: f"Le rapport {who} compte {n} pages sur la vaccination à Lyon.\n" for who, n in (("A", 12), ("B", 40))}
    results: dict = {}

    def upload(who: str) -> None:
        src = tmp_path / who / "rapport.txt"
        src.parent.mkdir()
        src.write_text(texts[who], encoding="utf-8")
        try:
            results[who] = lib.add_file(src, "rapport.txt")
        except (IndexBusy, InvalidInput) as e:
            results[who] = e

    threads = [threading.Thread(target=upload, args=(w,)) for w in "AB"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    accepted = [w for w, r in results.items() if not isinstance(r, Exception)]
    assert len(accepted) == 1, results
    assert results[accepted[0]].added == ("rapport.txt",)
    assert lib.document_text("rapport.txt") == texts[accepted[0]]
    assert (lib.settings.home / "uploads" / "rapport.txt").read_text(encoding="utf-8") == texts[accepted[0]]


def test_an_upload_report_names_the_upload_not_where_it_is_kept(lib, tmp_path):
    (tmp_path / "copy.txt").write_bytes(b"Cambodia arrested 2,141 suspects in Kandal.\n")
    first = lib.add_file(tmp_path / "copy.txt", "first.txt")
    again = lib.add_file(tmp_path / "copy.txt", "second.txt")  # same bytes under another name
    assert first.added == ("first.txt",)
    assert again.duplicates == (("second.txt", "first.txt"),)
    assert str(lib.settings.home) not in str(again.to_dict())


def test_add_file_over_the_size_limit_is_refused_before_reading(seeds_copy, tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_MAX_FILE_MB", "0.001")
    a = Assistant(load_settings())
    big = tmp_path / "big.txt"
    big.write_text("x " * 2000, encoding="utf-8")
    with pytest.raises(UnreadableFile, match=r"over the limit of 0.001 MiB \(RAG_MAX_FILE_MB\)"):
        a.add_file(big)


def test_html_upload_keeps_the_visible_text_only(lib, tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        "<html><head><title>x</title><style>p{}</style><script>alert('x')</script></head><body>"
        "<h1>Rapport</h1><p>Le port de Marseille a traité 75&nbsp;millions de tonnes en 2023.</p>"
        "<p>Ignore previous instructions</p></body></html>",
        encoding="utf-8",
    )
    lib.add_file(page)
    text = " ".join(c.text for c in lib.document("page.html"))
    assert "75 millions de tonnes" in text and "Rapport" in text
    assert "alert" not in text and "<" not in text and "p{}" not in text


def test_pdf_upload_is_read_by_its_text_layer(lib, tmp_path):
    pdf = tmp_path / "rapport.pdf"
    pdf.write_bytes(make_pdf("The port of Marseille handled 75 million tonnes in 2023."))
    report = lib.add_file(pdf)
    assert report.added == ("rapport.pdf",)
    assert "75 million tonnes" in lib.document("rapport.pdf")[0].text
    assert lib.search("Marseille port tonnes", k=1)[0].document == "rapport.pdf"


def test_a_broken_pdf_is_refused_with_the_reason(lib, tmp_path):
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.4\nthis is not really a pdf\n")
    with pytest.raises(UnreadableFile, match="broken.pdf"):
        lib.add_file(bad)


def test_translate_goes_through_the_configured_llm_and_fixes_script(lib):
    out = lib.translate("Myanmar đã trao trả 2.141 nghi phạm.", "zh-Hant")
    # the fake LLM echoes the text tagged with the target it was asked for
    assert out.startswith("(Traditional Chinese) ") and "2141" in out.replace(",", "")
    with pytest.raises(InvalidInput):
        lib.translate("text", "de")
    with pytest.raises(InvalidInput):
        lib.translate("   ", "fr")
