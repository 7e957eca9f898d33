"""Document formats: every format's text (paragraphs, tables as rows, notes after the body, no
comments/headers/footers), where each part sits (page, slide, chapter, heading, sheet), and a clear
refusal for every kind of bad file. All files are built here (tests/format_files.py)."""
from __future__ import annotations

import struct
import time
import zipfile
from pathlib import Path

import pytest

from rag.errors import UnreadableFile
from rag.ingestion import archives
from rag.ingestion.load import read_text
from rag.ingestion.locations import Location, TextBuilder, location_at
from rag.ingestion.tables import MAX_ROWS, table_text
from tests.format_files import (docx_parts, epub_parts, make_docx, make_epub, make_odt, make_pdf, make_pptx,
                                make_xlsx, odt_parts, zip_bytes)

FR = "Le ministère a annoncé l’arrestation de 2 000 suspects à Marseille."
EN = "The port of Marseille handled 75 million tonnes in 2023."
VI = "Myanmar đã trao trả 2.141 nghi phạm cho Trung Quốc."
ZH = "中国警方加强国际执法合作，打击电信网络诈骗。"
TABLE = [["Pays", "Nombre"], ["Việt Nam", "2141"], ["中国", "39"]]
TABLE_TEXT = "Pays | Nombre\nViệt Nam | 2141\n中国 | 39"
NOTE = "Source : rapport annuel, p. 12."
COMMENT = "RELIRE CE PASSAGE"
HEADER = "EN-TÊTE CONFIDENTIEL"
FOOTER = "PIED DE PAGE 1/3"
BLOCKS = [("h", "Résumé"), ("p", FR), ("p", EN), ("table", TABLE), ("h", "Tiếng Việt"), ("p", VI), ("h", "中文"), ("p", ZH)]
WORD_SECTIONS = [
    (None, "Résumé", f"Résumé\n\n{FR}\n\n{EN}\n\n{TABLE_TEXT}"),
    (None, "Tiếng Việt", f"Tiếng Việt\n\n{VI}"),
    (None, "中文", f"中文\n\n{ZH}"),
    (None, "notes", NOTE),
]


def _files() -> dict[str, tuple[bytes, str, list[tuple[int | None, str | None, str]]]]:
    """name -> (bytes, the whole extracted text, [(page, label, text[start:end]) per location])."""
    word_text = "\n\n".join(s for _, _, s in WORD_SECTIONS)
    notes = dict(footnote=NOTE, comment=COMMENT, header=HEADER)
    slides = [
        {"title": "Résumé", "body": [FR, EN], "notes": "Dire : " + NOTE},
        {"title": "Tiếng Việt", "body": [VI]},
        {"title": "中文", "table": TABLE},
    ]
    pdf_pages = [f"{FR}\n{EN}", VI, "", ZH]
    return {
        "rapport.docx": (make_docx(BLOCKS, **notes, footer=FOOTER), word_text, WORD_SECTIONS),
        "rapport.odt": (make_odt(BLOCKS, **notes), word_text, WORD_SECTIONS),
        "rapport.pptx": (make_pptx(slides), "\n\n".join([
            f"Résumé\n\n{FR}\n{EN}", f"Tiếng Việt\n\n{VI}", f"中文\n\n{TABLE_TEXT}", "Dire : " + NOTE]), [
            (1, "slide 1", f"Résumé\n\n{FR}\n{EN}"),
            (2, "slide 2", f"Tiếng Việt\n\n{VI}"),
            (3, "slide 3", f"中文\n\n{TABLE_TEXT}"),
            (1, "slide 1, notes", "Dire : " + NOTE),
        ]),
        "livre.epub": (make_epub([("Résumé", FR), ("Tiếng Việt", VI), ("中文", ZH)], footnote=NOTE),
                       f"Résumé\n\n{FR}\n\nTiếng Việt\n\n{VI}\n\n中文\n\n{ZH}\n\n{NOTE}", [
            (None, "Résumé", f"Résumé\n\n{FR}"),
            (None, "Tiếng Việt", f"Tiếng Việt\n\n{VI}"),
            (None, "中文", f"中文\n\n{ZH}"),
            (None, "notes", NOTE),
        ]),
        "livre2.epub": (make_epub([("Résumé", FR), ("中文", ZH)], nav=False), f"Résumé\n\n{FR}\n\n中文\n\n{ZH}", [
            (None, "Résumé", f"Résumé\n\n{FR}"),
            (None, "中文", f"中文\n\n{ZH}"),
        ]),
        "chiffres.xlsx": (make_xlsx({"Arrestations": [["Pays", "Nombre"], ["Việt Nam", 2141.0], [None, None], ["中国", 39]],
                                     "English": [[EN]]}),
                          f"{TABLE_TEXT}\n\n{EN}", [
            (None, "Arrestations", TABLE_TEXT),
            (None, "English", EN),
        ]),
        "chiffres.csv": ("Pays;Nombre\r\nViệt Nam;2141\r\n\r\n中国;39\r\n".encode(), TABLE_TEXT, []),
        "rapport.pdf": (make_pdf(pdf_pages), f"{FR}\n{EN}\n\n{VI}\n\n{ZH}", [
            (1, "p. 1", f"{FR}\n{EN}"),
            (2, "p. 2", VI),
            (4, "p. 4", ZH),
        ]),
    }


FILES = _files()


@pytest.mark.parametrize("name", list(FILES))
def test_each_format_gives_its_text_and_where_each_part_sits(tmp_path, name):
    raw, text, sections = FILES[name]
    path = tmp_path / name
    path.write_bytes(raw)
    src = read_text(path)
    assert src.text == text
    assert [(loc.page, loc.label, src.text[loc.start:loc.end]) for loc in src.locations] == sections
    assert src.encoding.endswith(path.suffix[1:])


@pytest.mark.parametrize("name", ["rapport.docx", "rapport.odt", "rapport.pptx", "livre.epub"])
def test_notes_come_after_the_body_and_comments_headers_footers_nowhere(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(FILES[name][0])
    src = read_text(path)
    body_end = max(src.text.index(s) + len(s) for s in (FR, VI))
    assert src.text.index(NOTE) > body_end
    note = location_at(src.locations, src.text.index(NOTE))
    assert note is not None and "notes" in note.label
    for other in (COMMENT, HEADER, FOOTER):
        assert other not in src.text


def test_a_blank_pdf_page_is_reported_never_indexed_as_empty(tmp_path):
    path = tmp_path / "scan.pdf"
    path.write_bytes(make_pdf([FR, "", "", VI, "", ZH]))
    src = read_text(path)
    assert src.warnings == ("pages 2-3, 5 have no text: blank (not indexed)",)
    assert [loc.page for loc in src.locations] == [1, 4, 6]
    path.write_bytes(make_pdf([FR, ""]))
    assert read_text(path).warnings == ("page 2 has no text: blank (not indexed)",)


def test_a_pdf_of_blank_pages_is_refused_as_blank(tmp_path):
    path = tmp_path / "scan.pdf"
    path.write_bytes(make_pdf(["", ""]))
    with pytest.raises(UnreadableFile, match=r"no text on its 2 pages: blank"):
        read_text(path)


def test_a_pdf_encrypted_only_against_copying_is_read_and_one_with_a_password_refused(tmp_path):
    from pypdf import PdfReader, PdfWriter

    def encrypted(user_password: str) -> bytes:
        writer = PdfWriter(clone_from=PdfReader(__import__("io").BytesIO(make_pdf([EN]))))
        writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
        out = __import__("io").BytesIO()
        writer.write(out)
        return out.getvalue()

    path = tmp_path / "r.pdf"
    path.write_bytes(encrypted(""))
    assert read_text(path).text == EN
    path.write_bytes(encrypted("secret"))
    with pytest.raises(UnreadableFile, match="password-protected"):
        read_text(path)
    # a security handler other than the standard one (certificates): named as such
    path.write_bytes(encrypted("").replace(b"/Filter /Standard", b"/Filter /Adobe.PubSec"))
    with pytest.raises(UnreadableFile, match=r"encrypted in a way that cannot be opened here \(an unsupported "):
        read_text(path)


@pytest.mark.parametrize(("given", "plain"), [
    ("Une ligne\r\nune autre\rune troisième", "Une ligne\nune autre\nune troisième"),
    ("un exem\x02ple, un mot\x02composé", "un exem-\nple, un mot-\ncomposé"),  # get_text_bounded's mark
    ("un exem\ufffeple", "un exem-\nple"),  # get_text_range's
    ("a\x00b", "ab"),
    ("中文\r\n", "中文\n"),
])
def test_pdfium_text_is_made_plain(given, plain):
    from rag.ingestion.pdf import plain as made_plain

    assert made_plain(given) == plain


def test_a_pdf_page_keeps_its_lines_its_line_end_hyphens_and_its_text_outside_the_crop_box(tmp_path):
    from pypdf import PdfReader, PdfWriter

    page = f"{FR}\nUn exem-\nple coupé.\n{ZH}"
    path = tmp_path / "lignes.pdf"
    path.write_bytes(make_pdf([page, EN]))
    assert read_text(path).text == f"{page}\n\n{EN}"
    writer = PdfWriter(clone_from=PdfReader(__import__("io").BytesIO(make_pdf([page]))))
    writer.pages[0].cropbox.upper_right = (595, 790)  # the first line (at y 800) is outside it
    out = __import__("io").BytesIO()
    writer.write(out)
    path.write_bytes(out.getvalue())
    assert read_text(path).text == page


def test_pdfium_is_entered_by_one_thread_at_a_time():
    import threading

    from rag.ingestion import pdf
    from rag.ingestion.formats import read_pdf

    read: list[str] = []
    reader = threading.Thread(target=lambda: read.append(read_pdf(make_pdf([EN, ""]), "a.pdf").text))
    with pdf.LOCK:
        reader.start()
        reader.join(0.5)
        assert reader.is_alive() and not read  # it waits while another thread is inside PDFium
    reader.join(30)
    assert read == [EN]


# --- bad files ----------------------------------------------------------------------------------

def _bomb() -> bytes:
    parts = docx_parts([("p", EN)])
    parts["word/media/image1.png"] = "\0" * (64 * 2**20)  # inflates about 1000 times
    return zip_bytes(parts)


def _lying_size() -> bytes:
    """A docx whose document.xml says it is 100 bytes and inflates to megabytes."""
    parts = docx_parts([("p", EN * 50_000)])
    raw = bytearray(zip_bytes(parts))
    z = zipfile.ZipFile(__import__("io").BytesIO(bytes(raw)))
    info = z.getinfo("word/document.xml")
    struct.pack_into("<I", raw, info.header_offset + 22, 100)  # local header: uncompressed size
    central = raw.index(b"PK\x01\x02")
    while True:  # the central directory entry of document.xml
        name_len = struct.unpack_from("<H", raw, central + 28)[0]
        if raw[central + 46: central + 46 + name_len] == b"word/document.xml":
            break
        central = raw.index(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", raw, central + 24, 100)
    return bytes(raw)


def _encrypted_entries(raw: bytes) -> bytes:
    """The same zip with the "encrypted" flag set on every entry (zipfile cannot write encrypted zips)."""
    raw = bytearray(raw)
    at = raw.index(b"PK\x01\x02")
    while at != -1:
        struct.pack_into("<H", raw, at + 8, struct.unpack_from("<H", raw, at + 8)[0] | 1)
        at = raw.find(b"PK\x01\x02", at + 4)
    return bytes(raw)


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504
ENCRYPTED_OFFICE = OLE + "EncryptedPackage".encode("utf-16-le") + b"\0" * 100
DOCX = make_docx(BLOCKS)


def _corrupt(parts: dict, name: str, stored_first: str | None = None) -> bytes:
    parts = dict(parts)
    parts[name] = parts[name][: len(parts[name]) // 2]  # cut in the middle of an element
    return zip_bytes(parts, stored_first=stored_first)


def _corrupt_pptx() -> bytes:
    z = zipfile.ZipFile(__import__("io").BytesIO(make_pptx([{"title": FR}])))
    parts = {n: z.read(n) for n in z.namelist()}
    return _corrupt(parts, "ppt/slides/slide1.xml")


BAD = [
    ("bomb.docx", _bomb, r"looks like a zip bomb: word/media/image1.png inflates \d+ times"),
    ("lying-size.docx", _lying_size, r"a damaged archive \(Bad CRC-32"),
    ("truncated.docx", lambda: DOCX[: len(DOCX) // 2], r"a truncated or damaged archive"),
    ("truncated.epub", lambda: make_epub([("Résumé", FR)])[:300], r"a truncated or damaged archive"),
    ("locked.docx", lambda: ENCRYPTED_OFFICE, r"password-protected \(an encrypted Office file\)"),
    ("locked.xlsx", lambda: ENCRYPTED_OFFICE, r"password-protected"),
    ("locked-entries.docx", lambda: _encrypted_entries(DOCX), r"the archive is encrypted \(.* needs a password\)"),
    ("locked.odt", lambda: make_odt(BLOCKS, encrypted=True), r"password-protected \(an encrypted OpenDocument file\)"),
    ("drm.epub", lambda: make_epub([("Résumé", FR)], encryption="http://www.w3.org/2001/04/xmlenc#aes128-cbc"),
     r"encrypted \(DRM\)"),
    ("old.doc.docx", lambda: OLE, r"not a \.docx file: it holds an old binary Office file"),
    ("pdf.docx", lambda: make_pdf([EN]), r"not a \.docx file: it holds a PDF \(is the extension wrong\?\)"),
    ("text.docx", lambda: FR.encode(), r"not a \.docx file: it holds plain text"),
    ("docx.pdf", lambda: DOCX, r"not a \.pdf file: it holds a zip archive"),
    ("pdf.txt", lambda: make_pdf([EN]), r"not a \.txt file: it holds a PDF"),
    ("docx.md", lambda: DOCX, r"not a \.md file: it holds a zip archive"),
    ("sheet.odt", lambda: make_odt(BLOCKS, mimetype="application/vnd.oasis.opendocument.spreadsheet"),
     r"not a \.odt file: it is application/vnd\.oasis\.opendocument\.spreadsheet"),
    ("xlsx.docx", lambda: make_xlsx({"S": [[EN]]}), r"a damaged Word document"),
    ("bad-xml.docx", lambda: _corrupt(docx_parts(BLOCKS), "word/document.xml"), r"a damaged Word document \(XMLSyntaxError"),
    ("bad-xml.odt", lambda: _corrupt(odt_parts(BLOCKS), "content.xml", "mimetype"), r"a damaged OpenDocument file \(XMLSyntaxError"),
    ("bad-xml.pptx", _corrupt_pptx, r"a damaged PowerPoint file"),
    ("bad-xml.epub", lambda: _corrupt(epub_parts([("Résumé", FR)]), "OEBPS/content.opf", "mimetype"),
     r"a damaged EPUB book \(XMLSyntaxError"),
    ("no-text.docx", lambda: make_docx([("p", "  ")]), r"the document has no text"),
    ("empty-sheet.xlsx", lambda: make_xlsx({"S": [[None]]}), r"the workbook has no values"),
]


@pytest.mark.parametrize(("name", "build", "reason"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_file_is_refused_with_its_reason(tmp_path, name, build, reason):
    path = tmp_path / name
    path.write_bytes(build())
    with pytest.raises(UnreadableFile, match=reason) as e:
        read_text(path)
    assert name in str(e.value)


def test_the_zip_checks_cap_the_declared_total_and_ratio_before_extracting():
    raw = zip_bytes({f"part{i}.xml": "x" * 2000 for i in range(10)})
    archives.open_zip(raw, "a.zip").close()
    with pytest.raises(UnreadableFile, match="inflate to over"):
        archives.open_zip(raw, "a.zip", max_bytes=10_000)
    with pytest.raises(UnreadableFile, match="inflates 1?\\d\\d times"):
        archives.open_zip(raw, "a.zip", max_ratio=5, ratio_floor=1000)


def test_font_obfuscation_is_not_drm(tmp_path):
    path = tmp_path / "fonts.epub"
    path.write_bytes(make_epub([("Résumé", FR)], encryption="http://www.idpf.org/2008/embedding"))
    assert FR in read_text(path).text


def test_an_entity_bomb_in_an_xml_part_is_not_expanded(tmp_path):
    bomb = ('<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">'
            + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8)) + "]>")
    parts = docx_parts([("p", "&i;")])
    parts["word/document.xml"] = bomb + parts["word/document.xml"].replace("&amp;i;", "&i;")
    path = tmp_path / "laughs.docx"
    path.write_bytes(zip_bytes(parts))
    started = time.perf_counter()
    try:
        text = read_text(path).text
    except UnreadableFile:
        text = ""
    assert len(text) < 1000 and time.perf_counter() - started < 5


# --- enormous tables ----------------------------------------------------------------------------

def test_an_enormous_table_is_cut_with_a_warning(tmp_path):
    rows = [["Pays", "Nombre"]] + [[f"Việt Nam {i}", str(i)] for i in range(MAX_ROWS + 50)]
    path = tmp_path / "big.docx"
    path.write_bytes(make_docx([("p", FR), ("table", rows)]))
    src = read_text(path)
    assert src.warnings == (f"table 1 is too large: only the first {MAX_ROWS} rows are indexed",)
    assert src.text.count("\n") == 2 + MAX_ROWS - 1
    csv = tmp_path / "big.csv"
    csv.write_text("\n".join(",".join(r) for r in rows), encoding="utf-8")
    assert read_text(csv).warnings == (f"the table is too large: only the first {MAX_ROWS} rows are indexed",)


def test_a_repeated_odt_row_does_not_unroll_a_million_times(tmp_path):
    parts = odt_parts([("table", [["x"]])])
    parts["content.xml"] = parts["content.xml"].replace(
        "<table:table-row>", '<table:table-row table:number-rows-repeated="1000000">')
    path = tmp_path / "rows.odt"
    path.write_bytes(zip_bytes(parts, stored_first="mimetype"))
    started = time.perf_counter()
    src = read_text(path)
    assert src.text.count("x") == MAX_ROWS and time.perf_counter() - started < 10
    assert src.warnings == (f"table 1 is too large: only the first {MAX_ROWS} rows are indexed",)


@pytest.mark.parametrize(
    ("rows", "kwargs", "text", "warning"),
    [
        ([["a", "b"], ["c", None, None]], {}, "a | b\nc", None),
        ([["a\nb", " c "], [None, ""], ["", "d"]], {}, "a b | c\n | d", None),
        ([["1"], ["2"], ["3"]], {"max_rows": 2}, "1\n2", "T is too large: only the first 2 rows are indexed"),
        ([["1", "2", "3"]], {"max_columns": 2}, "1 | 2", "T is too large: only the first 2 columns are indexed"),
        ([["1", "2", "3"], ["4"], ["5"]], {"max_rows": 2, "max_columns": 2}, "1 | 2\n4",
         "T is too large: only the first 2 rows and the first 2 columns are indexed"),
    ],
)
def test_table_text(rows, kwargs, text, warning):
    out = table_text(rows, "T", **kwargs)
    assert (out.text, out.warning) == (text, warning)


# --- locations ----------------------------------------------------------------------------------

LOCS = (Location(0, 10, 1, "p. 1"), Location(12, 20, 2, "p. 2"), Location(30, 40, None, "notes"))


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (0, 5, LOCS[0]),
        (9, 15, LOCS[0]),  # the one holding its start, even if it runs on
        (10, 15, LOCS[1]),  # starts on the blank line between pages: the page it runs into
        (12, 20, LOCS[1]),
        (20, 25, None),  # between sections, running into none
        (25, 35, LOCS[2]),
        (39, 40, LOCS[2]),
        (40, 45, None),
    ],
)
def test_location_at(start, end, expected):
    assert location_at(LOCS, start, end) == expected


def test_location_at_without_locations_is_none():
    assert location_at((), 0, 10) is None


def test_text_builder_drops_sections_without_text_and_strips_paragraphs():
    b = TextBuilder()
    b.section(1, "p. 1")
    b.paragraph("  un  ")
    b.section(2, "p. 2")
    b.paragraph("   ")
    b.section(3, "p. 3")
    b.paragraph("trois")
    b.paragraph("quatre")
    out = b.build()
    assert out.text == "un\n\ntrois\n\nquatre"
    assert out.locations == (Location(0, 2, 1, "p. 1"), Location(4, 17, 3, "p. 3"))


def test_plain_text_has_no_locations(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(FR, encoding="utf-8")
    src = read_text(path)
    assert (src.locations, src.warnings) == ((), ())


def test_loading_a_format_library_happens_on_first_use_only():
    import subprocess
    import sys

    code = ("import sys, rag.ingestion.load; "
            "print(sorted(m for m in ('docx', 'pptx', 'odf', 'openpyxl', 'lxml', 'pypdfium2') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert out.stdout.strip() == "[]", out.stderr
