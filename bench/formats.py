"""How fast each document format loads (rag/ingestion/load.py read_text): text extraction only,
not cleaning, chunking or embedding.

Builds one file of a realistic size per format from the bundled articles (fr/en/vi/zh text): a
50-page .docx and .odt with a heading every 2 pages and a table every 10, a 30-slide .pptx with
speaker notes, a 20-chapter .epub, a 200-page .pdf, a 10,000-row .xlsx and .csv. Prints, per
format: file size, pages (or slides, chapters, rows), characters extracted, the median load time
over --runs, and MB and pages per second. Run by hand: `python bench/formats.py [--runs N]`.
"""
from __future__ import annotations

import argparse
import io
import itertools
import platform
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.ingestion.load import read_text  # noqa: E402

PAGE_CHARS = 3000  # about one printed page


def paragraphs() -> itertools.cycle:
    """The seed articles' paragraphs, round and round."""
    paras = []
    for f in sorted((ROOT / "seeds").glob("*.txt")):
        paras += [p.strip() for p in f.read_text(encoding="utf-8").split("\n") if len(p.strip()) > 40]
    return itertools.cycle(paras)


def page_of(source: itertools.cycle) -> list[str]:
    out, n = [], 0
    while n < PAGE_CHARS:
        p = next(source)
        out.append(p)
        n += len(p)
    return out


def build_docx(pages: int) -> bytes:
    from docx import Document

    src, doc = paragraphs(), Document()
    for i in range(pages):
        if i % 2 == 0:
            doc.add_heading(f"Chapitre {i // 2 + 1}", 1)
        for p in page_of(src):
            doc.add_paragraph(p)
        if i % 10 == 9:
            table = doc.add_table(rows=20, cols=4)
            for r, row in enumerate(table.rows):
                for c, cell in enumerate(row.cells):
                    cell.text = f"{r * c} nghi phạm"
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def build_odt(pages: int) -> bytes:
    src, body = paragraphs(), []
    for i in range(pages):
        if i % 2 == 0:
            body.append(f'<text:h text:outline-level="1">Chapitre {i // 2 + 1}</text:h>')
        body += [f"<text:p>{escape(p)}</text:p>" for p in page_of(src)]
        if i % 10 == 9:
            rows = "".join("<table:table-row>" + "".join(f"<table:table-cell><text:p>{r * c}</text:p></table:table-cell>"
                                                         for c in range(4)) + "</table:table-row>" for r in range(20))
            body.append(f"<table:table>{rows}</table:table>")
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"')
    return _zip({
        "mimetype": "application/vnd.oasis.opendocument.text",
        "content.xml": f"<office:document-content {ns}><office:body><office:text>{''.join(body)}"
                       "</office:text></office:body></office:document-content>",
    })


def build_pptx(slides: int) -> bytes:
    from pptx import Presentation

    src, deck = paragraphs(), Presentation()
    for i in range(slides):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = f"Diapositive {i + 1}"
        frame = slide.placeholders[1].text_frame
        frame.text = next(src)[:200]
        for _ in range(4):
            frame.add_paragraph().text = next(src)[:200]
        slide.notes_slide.notes_text_frame.text = next(src)
    buf = io.BytesIO()
    deck.save(buf)
    return buf.getvalue()


def build_epub(chapters: int) -> bytes:
    src = paragraphs()
    parts = {"mimetype": "application/epub+zip",
             "META-INF/container.xml": '<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
                                       '<rootfiles><rootfile full-path="content.opf"/></rootfiles></container>'}
    manifest, spine, links = [], [], []
    for i in range(1, chapters + 1):
        text = "".join(f"<p>{escape(p)}</p>" for _ in range(5) for p in page_of(src))  # about 5 pages
        parts[f"c{i}.xhtml"] = f'<html xmlns="http://www.w3.org/1999/xhtml"><body><h1>Chương {i}</h1>{text}</body></html>'
        manifest.append(f'<item id="c{i}" href="c{i}.xhtml" media-type="application/xhtml+xml"/>')
        spine.append(f'<itemref idref="c{i}"/>')
        links.append(f'<li><a href="c{i}.xhtml">Chương {i}</a></li>')
    parts["nav.xhtml"] = ('<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops"><body>'
                          f'<nav epub:type="toc"><ol>{"".join(links)}</ol></nav></body></html>')
    manifest.append('<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>')
    parts["content.opf"] = ('<package xmlns="http://www.idpf.org/2007/opf" version="3.0"><manifest>'
                            f'{"".join(manifest)}</manifest><spine>{"".join(spine)}</spine></package>')
    return _zip(parts)


def build_pdf(pages: int) -> bytes:
    """Text pages with a ToUnicode map over a non-embedded font (any script extracts)."""
    src = paragraphs()
    texts = ["\n".join(page_of(src)) for _ in range(pages)]
    chars = sorted({c for t in texts for c in t if c != "\n"})
    cid = {c: i + 1 for i, c in enumerate(chars)}
    objs = {1: b"<< /Type /Catalog /Pages 2 0 R >>",
            2: f"<< /Type /Pages /Kids [{' '.join(f'{6 + 2 * i} 0 R' for i in range(pages))}] /Count {pages} >>".encode(),
            3: b"<< /Type /Font /Subtype /Type0 /BaseFont /B /Encoding /Identity-H /DescendantFonts [4 0 R] /ToUnicode 5 0 R >>",
            4: b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /B /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) "
               b"/Supplement 0 >> /DW 500 >>"}
    blocks = [chars[i:i + 100] for i in range(0, len(chars), 100)]
    cmap = ("/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /B def "
            "1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
            + "".join(f"{len(b)} beginbfchar\n" + "".join(f"<{cid[c]:04X}> <{c.encode('utf-16-be').hex()}>\n" for c in b)
                      + "endbfchar\n" for b in blocks)
            + "endcmap CMapName currentdict /CMap defineresource pop end end").encode()
    objs[5] = b"<< /Length %d >>\nstream\n" % len(cmap) + cmap + b"\nendstream"
    for i, t in enumerate(texts):
        ops = ("BT /F1 9 Tf 11 TL 30 810 Td " + " ".join(
            "<" + "".join(f"{cid[c]:04X}" for c in line) + "> Tj T*" for line in t.split("\n")) + " ET").encode()
        objs[6 + 2 * i] = (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {7 + 2 * i} 0 R "
                           "/Resources << /Font << /F1 3 0 R >> >> >>").encode()
        objs[7 + 2 * i] = b"<< /Length %d >>\nstream\n" % len(ops) + ops + b"\nendstream"
    out, offsets = b"%PDF-1.4\n", []
    for k in range(1, len(objs) + 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % k + objs[k] + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)


def build_rows(n: int) -> list[list[object]]:
    src = paragraphs()
    return [[i, f"Ville {i % 97}", round(i * 1.37, 2), next(src)[:80]] for i in range(n)]


def build_xlsx(rows: int) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    for row in build_rows(rows):
        book.active.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def build_csv(rows: int) -> bytes:
    return "\n".join(";".join(str(c).replace(";", ",") for c in r) for r in build_rows(rows)).encode()


def _zip(parts: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data, compress_type=zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED)
    return buf.getvalue()


FILES = [  # name, builder, size argument, what a unit is
    ("report.docx", build_docx, 50, "pages"),
    ("report.odt", build_odt, 50, "pages"),
    ("deck.pptx", build_pptx, 30, "slides"),
    ("book.epub", build_epub, 20, "chapters"),
    ("report.pdf", build_pdf, 200, "pages"),
    ("table.xlsx", build_xlsx, 10_000, "rows"),
    ("table.csv", build_csv, 10_000, "rows"),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    print(f"# {platform.processor() or platform.machine()}, Python {platform.python_version()}, median of {args.runs}")
    print(f"{'file':<12} {'size':>8} {'units':>14} {'chars':>9} {'load':>8} {'MB/s':>7} {'units/s':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, build, n, unit in FILES:
            path = Path(tmp) / name
            path.write_bytes(build(n))
            times, src = [], None
            for _ in range(args.runs):
                started = time.perf_counter()
                src = read_text(path)
                times.append(time.perf_counter() - started)
            t = statistics.median(times)
            mb = path.stat().st_size / 2**20
            print(f"{name:<12} {mb:>6.2f}MB {n:>7} {unit:<6} {len(src.text):>9} {t * 1000:>6.0f}ms "
                  f"{mb / t:>7.1f} {n / t:>9.0f}" + (f"  warnings: {src.warnings}" if src.warnings else ""))


if __name__ == "__main__":
    main()
