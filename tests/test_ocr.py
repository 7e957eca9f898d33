"""Scanned PDFs, photos and image files read by OCR (Tesseract), and the rule for which PDF pages
need it. Pages are made by bench/scans.py (text drawn in a system font, then a scanner's noise, blur
and rotation, or a phone photo's perspective and shade) so the printed text is known.

The tests that run Tesseract are marked slow (a page takes 1-3 s) and share one ingestion; they are
skipped, with the reason, where Tesseract or its models are not installed (`make browser-deps`)."""
from __future__ import annotations

import io
import re

import pytest

from bench.scans import NOTE, TEXTS, page, pdf_of, recognised
from rag.errors import UnreadableFile
from rag.ingestion import ocr
from rag.ingestion.load import read_text
from rag.ingestion.scans import is_real_text
from tests.format_files import make_pdf

needs_tesseract = pytest.mark.skipif(ocr.missing() is not None, reason=f"{ocr.missing()}")

FR_LINE = "Le loyer mensuel est fixé à 1 250 euros."


# --- which PDF pages need OCR -------------------------------------------------------------------

@pytest.mark.parametrize(("text", "real"), [
    ("", False),
    ("   \n ", False),
    (FR_LINE, True),
    ("臺北市立圖書館於二〇二一年三月十五日公告。", True),
    ("Hợp đồng thuê nhà tại số 27 phố Hàng Bạc", True),
    ("2021 | 1 250 | 3,5 % | 12/06", True),  # a table of figures is text
    ("!\"#$%&'()*+,-./ !\"#$ %&'()", False),  # glyph ids read as ASCII punctuation
    ("\ue000\ue001\ue002\ue003 \ue004\ue005", False),  # private-use codes
    ("Loyer\x01\x02\x03\x04\x05\x06 mensuel", False),  # control codes among letters
    ("a\ufffd\ufffd\ufffd\ufffd", False),
    ("—", False),  # a lone dash: nothing to read
])
def test_a_text_layer_is_real_text_by_the_stated_rule(text, real):
    assert is_real_text(text) is real


# --- without Tesseract: never silence ------------------------------------------------------------

@pytest.fixture
def no_tesseract(monkeypatch, tmp_path):
    """No tesseract on PATH, as on a machine where it was never installed (fc-match stays: the
    test pages are drawn with system fonts)."""
    import shutil

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "fc-match").symlink_to(shutil.which("fc-match"))
    monkeypatch.setenv("PATH", str(bin_dir))


def _scan_pdf(*pages) -> bytes:
    return pdf_of([page(lang, "clean").png for lang in pages])


def test_a_scanned_page_without_tesseract_is_a_warning_naming_what_to_install(no_tesseract, tmp_path):
    path = tmp_path / "mixed.pdf"
    text_pdf = make_pdf([FR_LINE, ""])
    path.write_bytes(text_pdf)
    # a blank page is said to be blank, Tesseract or not
    assert read_text(path).warnings == ("page 2 has no text: blank (not indexed)",)
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(make_pdf([FR_LINE]))))
    writer.append(PdfReader(io.BytesIO(_scan_pdf("en"))))
    out = io.BytesIO()
    writer.write(out)
    path.write_bytes(out.getvalue())
    src = read_text(path)
    assert src.text == FR_LINE
    assert src.warnings == (
        "page 2 has no text layer (scanned) and could not be read: OCR needs Tesseract: apt-get install "
        "tesseract-ocr tesseract-ocr-fra tesseract-ocr-vie tesseract-ocr-chi-tra tesseract-ocr-chi-sim "
        "(or `make browser-deps`) (not indexed)",)


def test_a_scan_or_an_image_without_tesseract_is_refused_saying_what_to_install(no_tesseract, tmp_path):
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(_scan_pdf("fr", "en"))
    with pytest.raises(UnreadableFile, match=r"no text on its 2 pages: a scanned document\? OCR needs Tesseract: "
                                             r"apt-get install tesseract-ocr tesseract-ocr-fra"):
        read_text(scan)
    photo = tmp_path / "note.jpg"
    from PIL import Image

    buf = io.BytesIO()
    Image.open(io.BytesIO(page("fr", "photo", text=NOTE).png)).save(buf, format="JPEG")
    photo.write_bytes(buf.getvalue())
    with pytest.raises(UnreadableFile, match=r"no text on the image: a scanned document\? OCR needs Tesseract"):
        read_text(photo)


def test_an_image_file_that_is_not_an_image_is_refused_with_the_reason(tmp_path):
    bad = tmp_path / "photo.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(UnreadableFile, match=r"not a readable image \("):
        read_text(bad)
    text = tmp_path / "notes.jpg"
    text.write_text("not a picture", encoding="utf-8")
    with pytest.raises(UnreadableFile, match=r"not a readable image \(damaged, or not PNG, JPEG, TIFF or WebP\)$"):
        read_text(text)


def test_a_blank_image_is_refused_as_blank(tmp_path):
    from PIL import Image

    path = tmp_path / "white.png"
    Image.new("L", (300, 200), 255).save(path)
    with pytest.raises(UnreadableFile, match=r"no text on the image: blank"):
        read_text(path)


def test_images_are_allowed_types_by_default():
    from rag import load_settings

    assert {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp"} <= load_settings().allowed_suffixes


# --- read by OCR: one ingestion shared by the slow tests ----------------------------------------

@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Scans in the four languages and a photographed note, as files of each kind a folder holds:
    a two-page scanned PDF (French, then English), a Vietnamese PNG, a two-page Chinese TIFF (the
    second page a photo) and the note as a JPEG."""
    from PIL import Image

    root = tmp_path_factory.mktemp("scans")
    made = {"fr": page("fr", "scan", seed=1), "en": page("en", "scan", seed=2), "vi": page("vi", "scan", seed=3),
            "zh-Hant": page("zh-Hant", "scan", seed=4), "zh-photo": page("zh-Hant", "photo", seed=5),
            "note": page("fr", "photo", seed=6, text=NOTE)}
    (root / "contrat.pdf").write_bytes(pdf_of([made["fr"].png, made["en"].png]))
    (root / "hop-dong.png").write_bytes(made["vi"].png)
    frames = [Image.open(io.BytesIO(made[k].png)) for k in ("zh-Hant", "zh-photo")]
    frames[0].save(root / "公告.tiff", save_all=True, append_images=frames[1:], compression="tiff_lzw")
    Image.open(io.BytesIO(made["note"].png)).convert("RGB").save(root / "note.jpg", quality=85)
    return root, made


@pytest.fixture(scope="module")
def scanned(corpus, tmp_path_factory):
    """An Assistant (fake embedder; Chroma, which outlives each test's memory store) that ingested the corpus; its scripted model
    answers with a sentence printed on page 2 of contrat.pdf, cited [1]."""
    import os

    from rag import Assistant, load_settings
    from rag import settings as settings_module
    from rag.backends.llm import ScriptedLLM

    root, made = corpus
    saved = dict(os.environ)
    os.environ.update(RAG_HOME=str(tmp_path_factory.mktemp("home")), RAG_EMBED_BACKEND="fake",
                      RAG_LLM_BACKEND="fake", RAG_STORE_BACKEND="chroma")
    settings_module.get_settings.cache_clear()
    try:
        llm = ScriptedLLM(fn=lambda messages: "They found the roof sound but the north wall damp [1].")
        assistant = Assistant(load_settings(min_score=-1.0), llm=llm)
        report = assistant.ingest([root])
    finally:
        os.environ.clear()
        os.environ.update(saved)
        settings_module.get_settings.cache_clear()
    return assistant, report, made


@pytest.mark.slow
@pytest.mark.chroma
@needs_tesseract
def test_every_scan_and_the_photo_is_indexed_without_warnings(scanned):
    _, report, _ = scanned
    assert sorted(report.added) == ["contrat.pdf", "hop-dong.png", "note.jpg", "公告.tiff"]
    assert report.skipped == () and report.warnings == ()


@pytest.mark.slow
@pytest.mark.chroma
@needs_tesseract
@pytest.mark.parametrize(("document", "printed", "least"), [
    ("contrat.pdf", ("fr", "en"), 0.95),
    ("hop-dong.png", ("vi",), 0.95),
    ("note.jpg", ("note",), 0.95),
    ("公告.tiff", ("zh-Hant", "zh-photo"), 0.90),
])
def test_the_stored_text_holds_the_printed_characters(scanned, document, printed, least):
    assistant, _, made = scanned
    stored = assistant.document_text(document)
    found = recognised("".join(made[k].text for k in printed), stored)
    assert found >= least, (found, stored)
    # `rag document` gives the same text, chunk by chunk
    chunks = assistant.document(document)
    assert all(stored[c.start:c.end] == c.text for c in chunks)


@pytest.mark.slow
@pytest.mark.chroma
@needs_tesseract
def test_each_page_keeps_its_ocr_confidence(scanned):
    assistant, _, _ = scanned
    for document in ("contrat.pdf", "hop-dong.png", "note.jpg", "公告.tiff"):
        metas = [h.metadata for h in assistant.store.get_document(document)]
        confidences = [m.get("ocr_confidence") for m in metas]
        assert all(c is not None and ocr.LOW_CONFIDENCE <= c <= 100 for c in confidences), (document, confidences)


@pytest.mark.slow
@pytest.mark.chroma
@needs_tesseract
def test_a_phrase_on_page_2_is_found_there_and_cited_p_2(scanned):
    assistant, _, _ = scanned
    hits = assistant.search("north wall damp new gutters within ninety days", k=3)
    top = hits[0]
    assert top.document == "contrat.pdf"
    text = assistant.document_text("contrat.pdf")
    at = text.index("north wall")
    assert top.start <= at < top.end
    assert (top.page, top.location) == (2, "p. 2")
    assert top.place_of(at, at + 10) == (2, "p. 2")
    answer = assistant.ask("What did the engineers find about the north wall?")
    assert not answer.refused, answer
    cited = answer.citations[0]
    assert cited.document == "contrat.pdf" and "north wall" in cited.text
    assert (cited.page, cited.location) == (2, "p. 2")
    from rag.present.render import answer_text

    assert re.search(r"\[1\] contrat\.pdf, p\. 2 \(", answer_text(answer))


@pytest.mark.slow
@needs_tesseract
def test_a_page_turned_sideways_is_read_upright(tmp_path):
    from PIL import Image

    img = Image.open(io.BytesIO(page("en", "scan", seed=7).png)).rotate(90, expand=True, fillcolor=255)
    read = ocr.read_image(img)
    assert recognised(TEXTS["en"], read.text) >= 0.95, read.text


@pytest.mark.slow
@needs_tesseract
def test_a_low_confidence_page_is_warned_about(tmp_path, monkeypatch):
    from PIL import Image, ImageFilter

    # A scan so blurred that letters run together: Tesseract reads little, and is unsure of it.
    img = Image.open(io.BytesIO(page("en", "clean").png)).resize((600, 160)).filter(ImageFilter.GaussianBlur(2.2))
    path = tmp_path / "blurred.png"
    img.save(path)
    src = read_text(path)
    assert src.locations[0].confidence < ocr.LOW_CONFIDENCE
    assert src.warnings == (f"page 1 was read by OCR with low confidence ({src.locations[0].confidence:.0f}/100): "
                            "its text may be wrong",)
