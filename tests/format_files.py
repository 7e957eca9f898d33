"""Small documents of every format, built by the tests themselves: OOXML and ODF by hand (zipfile and
XML, so notes, comments, headers and broken parts can be put exactly where wanted; EPUB the same),
pptx and xlsx with the libraries that read them, PDF by hand with a font whose ToUnicode map covers any script.

A "doc" is a list of blocks: ("h", text) a heading, ("p", text) a paragraph, ("table", rows)."""
from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape

Block = tuple[str, object]


def zip_bytes(parts: dict[str, bytes | str], *, stored_first: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        if stored_first:
            z.writestr(zipfile.ZipInfo(stored_first), parts[stored_first], compress_type=zipfile.ZIP_STORED)
        for name, data in parts.items():
            if name != stored_first:
                z.writestr(name, data)
    return buf.getvalue()


# --- docx ---------------------------------------------------------------------------------------

_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" ' \
     'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _w_p(text: str, style: str | None = None, extra: str = "") -> str:
    ppr = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    return f"<w:p>{ppr}<w:r><w:t xml:space=\"preserve\">{escape(text)}</w:t></w:r>{extra}</w:p>"


def docx_parts(blocks: list[Block], *, footnote: str | None = None, comment: str | None = None,
               header: str | None = None, footer: str | None = None) -> dict[str, str]:
    body = []
    for kind, value in blocks:
        if kind == "h":
            body.append(_w_p(value, "Heading1"))
        elif kind == "p":
            extra = ""
            if footnote and not any("footnoteReference" in b for b in body):
                extra += '<w:r><w:footnoteReference w:id="1"/></w:r>'
            if comment and not any("commentReference" in b for b in body):
                extra += '<w:r><w:commentReference w:id="0"/></w:r>'
            body.append(_w_p(value, extra=extra))
        elif kind == "table":
            rows = "".join("<w:tr>" + "".join(f"<w:tc>{_w_p(c)}</w:tc>" for c in row) + "</w:tr>" for row in value)
            body.append(f"<w:tbl>{rows}</w:tbl>")
    sect = ""
    rels = [f'<Relationship Id="rIdS" Type="{_REL}/styles" Target="styles.xml"/>']
    types = ['<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>',
             '<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>']
    parts: dict[str, str] = {}
    if header:
        sect += '<w:headerReference w:type="default" r:id="rIdH"/>'
        rels.append(f'<Relationship Id="rIdH" Type="{_REL}/header" Target="header1.xml"/>')
        types.append('<Override PartName="/word/header1.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml"/>')
        parts["word/header1.xml"] = f'<w:hdr {_W}>{_w_p(header)}</w:hdr>'
    if footer:
        sect += '<w:footerReference w:type="default" r:id="rIdF"/>'
        rels.append(f'<Relationship Id="rIdF" Type="{_REL}/footer" Target="footer1.xml"/>')
        types.append('<Override PartName="/word/footer1.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"/>')
        parts["word/footer1.xml"] = f'<w:ftr {_W}>{_w_p(footer)}</w:ftr>'
    if footnote:
        rels.append(f'<Relationship Id="rIdN" Type="{_REL}/footnotes" Target="footnotes.xml"/>')
        types.append('<Override PartName="/word/footnotes.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"/>')
        parts["word/footnotes.xml"] = (
            f'<w:footnotes {_W}><w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
            f'<w:footnote w:id="1">{_w_p(footnote)}</w:footnote></w:footnotes>')
    if comment:
        rels.append(f'<Relationship Id="rIdC" Type="{_REL}/comments" Target="comments.xml"/>')
        types.append('<Override PartName="/word/comments.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.comments+xml"/>')
        parts["word/comments.xml"] = f'<w:comments {_W}><w:comment w:id="0" w:author="R">{_w_p(comment)}</w:comment></w:comments>'
    document = f'<w:document {_W}><w:body>{"".join(body)}<w:sectPr>{sect}</w:sectPr></w:body></w:document>'
    styles = (f'<w:styles {_W}><w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/></w:style>'
              '<w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/></w:style></w:styles>')
    return {
        "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                               '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                               '<Default Extension="xml" ContentType="application/xml"/>' + "".join(types) + "</Types>",
        "_rels/.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                       f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="word/document.xml"/></Relationships>',
        "word/_rels/document.xml.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                                        + "".join(rels) + "</Relationships>",
        "word/document.xml": document,
        "word/styles.xml": styles,
        **parts,
    }


def make_docx(blocks: list[Block], **notes) -> bytes:
    return zip_bytes(docx_parts(blocks, **notes))


# --- odt ----------------------------------------------------------------------------------------

_ODF_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
           'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
           'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
           'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
           'xmlns:dc="http://purl.org/dc/elements/1.1/" office:version="1.2"')
ODT_MIME = "application/vnd.oasis.opendocument.text"


def odt_parts(blocks: list[Block], *, footnote: str | None = None, comment: str | None = None,
              header: str | None = None, encrypted: bool = False, mimetype: str = ODT_MIME) -> dict[str, str]:
    body = []
    for kind, value in blocks:
        if kind == "h":
            body.append(f'<text:h text:outline-level="1">{escape(value)}</text:h>')
        elif kind == "p":
            extra = ""
            if footnote and not any("text:note " in b for b in body):
                extra += (f'<text:note text:id="n1" text:note-class="footnote"><text:note-citation>1</text:note-citation>'
                          f'<text:note-body><text:p>{escape(footnote)}</text:p></text:note-body></text:note>')
            if comment and not any("office:annotation" in b for b in body):
                extra += f'<office:annotation><dc:creator>R</dc:creator><text:p>{escape(comment)}</text:p></office:annotation>'
            body.append(f"<text:p>{escape(value)}{extra}</text:p>")
        elif kind == "table":
            rows = "".join("<table:table-row>" + "".join(
                f"<table:table-cell><text:p>{escape(c)}</text:p></table:table-cell>" for c in row) + "</table:table-row>"
                for row in value)
            body.append(f'<table:table table:name="T">{rows}</table:table>')
    content = (f'<office:document-content {_ODF_NS}><office:body><office:text>{"".join(body)}'
               "</office:text></office:body></office:document-content>")
    master = (f"<style:header><text:p>{escape(header)}</text:p></style:header>" if header else "")
    styles = (f'<office:document-styles {_ODF_NS}><office:master-styles><style:master-page style:name="Standard">'
              f"{master}</style:master-page></office:master-styles></office:document-styles>")
    crypt = ('<manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="x">'
             '<manifest:algorithm manifest:algorithm-name="Blowfish CFB" manifest:initialisation-vector="x"/>'
             "</manifest:encryption-data>") if encrypted else ""
    manifest = ('<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{mimetype}"/>'
                f'<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml">{crypt}</manifest:file-entry>'
                '<manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>'
                "</manifest:manifest>")
    return {"mimetype": mimetype, "META-INF/manifest.xml": manifest, "content.xml": content, "styles.xml": styles}


def make_odt(blocks: list[Block], **kw) -> bytes:
    return zip_bytes(odt_parts(blocks, **kw), stored_first="mimetype")


# --- pptx, epub, xlsx ---------------------------------

def make_pptx(slides: list[dict]) -> bytes:
    """slides: {"title": str, "body": [lines], "table": rows, "notes": str}."""
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    for s in slides:
        slide = deck.slides.add_slide(deck.slide_layouts[1 if s.get("body") else 5])
        slide.shapes.title.text = s["title"]
        if s.get("body"):
            frame = slide.placeholders[1].text_frame
            frame.text = s["body"][0]
            for line in s["body"][1:]:
                frame.add_paragraph().text = line
        if s.get("table"):
            rows = s["table"]
            shape = slide.shapes.add_table(len(rows), len(rows[0]), Inches(1), Inches(5), Inches(6), Inches(1))
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    shape.table.cell(r, c).text = value
        if s.get("notes"):
            slide.notes_slide.notes_text_frame.text = s["notes"]
    buf = io.BytesIO()
    deck.save(buf)
    return buf.getvalue()


def epub_parts(chapters: list[tuple[str, str]], *, footnote: str | None = None, nav: bool = True,
               encryption: str | None = None) -> dict[str, str]:
    """chapters: (title, paragraph); the footnote, if any, is an EPUB 3 aside in the first chapter.
    nav=False writes an EPUB 2 book (NCX table of contents only)."""
    parts: dict[str, str] = {"mimetype": "application/epub+zip"}
    parts["META-INF/container.xml"] = (
        '<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
        '<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>')
    manifest, spine, links, points = [], [], [], []
    for i, (title, text) in enumerate(chapters, 1):
        note = f'<aside epub:type="footnote" id="n1"><p>{escape(footnote)}</p></aside>' if footnote and i == 1 else ""
        parts[f"OEBPS/text/chap {i}.xhtml"] = (
            '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">'
            f"<head><title>Livre</title></head><body><h1>{escape(title)}</h1><p>{escape(text)}</p>{note}</body></html>")
        manifest.append(f'<item id="c{i}" href="text/chap%20{i}.xhtml" media-type="application/xhtml+xml"/>')
        spine.append(f'<itemref idref="c{i}"/>')
        links.append(f'<li><a href="chap%20{i}.xhtml">{escape(title)}</a></li>')
        points.append(f'<navPoint id="p{i}" playOrder="{i}"><navLabel><text>{escape(title)}</text></navLabel>'
                      f'<content src="text/chap%20{i}.xhtml"/></navPoint>')
    if nav:
        parts["OEBPS/text/nav.xhtml"] = (
            '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops"><body>'
            f'<nav epub:type="toc"><ol>{"".join(links)}</ol></nav></body></html>')
        manifest.append('<item id="nav" href="text/nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>')
        spine.insert(0, '<itemref idref="nav"/>')
    parts["OEBPS/toc.ncx"] = ('<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1"><navMap>'
                              + "".join(points) + "</navMap></ncx>")
    manifest.append('<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>')
    parts["OEBPS/content.opf"] = (
        '<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="id">x</dc:identifier>'
        '<dc:title>Livre</dc:title><dc:language>fr</dc:language></metadata>'
        f'<manifest>{"".join(manifest)}</manifest><spine toc="ncx">{"".join(spine)}</spine></package>')
    if encryption:
        parts["META-INF/encryption.xml"] = (
            '<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" xmlns:enc="http://www.w3.org/2001/04/xmlenc#">'
            f'<enc:EncryptedData><enc:EncryptionMethod Algorithm="{encryption}"/><enc:CipherData>'
            '<enc:CipherReference URI="OEBPS/text/chap%201.xhtml"/></enc:CipherData></enc:EncryptedData></encryption>')
    return parts


def make_epub(chapters: list[tuple[str, str]], **kw) -> bytes:
    return zip_bytes(epub_parts(chapters, **kw), stored_first="mimetype")


def make_xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


# --- pdf ----------------------------------------------------------------------------------------

def make_pdf(pages: list[str]) -> bytes:
    """A PDF with one page per string ("" is a page without text, as a scan has). The font is not
    embedded: each character gets its own glyph id and a ToUnicode map says which character it is,
    which is all text extraction needs, in any script."""
    chars = sorted({c for page in pages for c in page if c != "\n"})
    cid = {c: i + 1 for i, c in enumerate(chars)}
    n = len(pages)
    # objects: 1 catalog, 2 pages, 3 font, 4 descendant, 5 tounicode, then per page: page, content
    objs: dict[int, bytes] = {}
    kids = " ".join(f"{6 + 2 * i} 0 R" for i in range(n))
    objs[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objs[2] = f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode()
    objs[3] = b"<< /Type /Font /Subtype /Type0 /BaseFont /Test /Encoding /Identity-H /DescendantFonts [4 0 R] /ToUnicode 5 0 R >>"
    objs[4] = (b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Test /CIDSystemInfo << /Registry (Adobe) "
               b"/Ordering (Identity) /Supplement 0 >> /DW 600 >>")
    bf = "".join(f"<{cid[c]:04X}> <{c.encode('utf-16-be').hex().upper()}>\n" for c in chars)
    cmap = ("/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /T def "
            "1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
            f"{len(chars)} beginbfchar\n{bf}endbfchar endcmap CMapName currentdict /CMap defineresource pop end end").encode()
    objs[5] = b"<< /Length %d >>\nstream\n" % len(cmap) + cmap + b"\nendstream"
    for i, page in enumerate(pages):
        lines = [line for line in page.split("\n")]
        ops = "BT /F1 11 Tf 14 TL 40 800 Td " + " ".join(
            "<" + "".join(f"{cid[c]:04X}" for c in line) + "> Tj T*" for line in lines) + " ET" if page else ""
        content = ops.encode()
        objs[6 + 2 * i] = (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {7 + 2 * i} 0 R "
                           "/Resources << /Font << /F1 3 0 R >> >> >>").encode()
        objs[7 + 2 * i] = b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"
    out, offsets = b"%PDF-1.4\n", []
    for k in range(1, len(objs) + 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % k + objs[k] + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return out
