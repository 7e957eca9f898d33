"""Text out of word-processing files: .docx (python-docx) and .odt (its content.xml, with lxml).

odfpy, the usual ODF library, is not used: it prints and swallows XML errors, so a damaged file
would be indexed half-read without a word, and it has had no release since 2020; the text of an
.odt is one XML part that lxml (already needed by python-docx) reads in a few lines.

Headings and paragraphs become paragraphs, tables become rows (see tables.py), and each stretch of
text is located under the heading it sits under. Footnotes and endnotes are author's text a reader
may ask about, so they are kept, after the body, in a section labelled "notes"; comments (reviewers'
remarks), headers and footers (the same line on every page) are not the document's content and are
left out."""
from __future__ import annotations

import io
from functools import cache
from typing import Iterator

from rag.errors import UnreadableFile
from rag.ingestion.archives import expect, open_zip, reading
from rag.ingestion.locations import MAX_DOCUMENT_CHARS, Extracted, TextBuilder
from rag.ingestion.tables import MAX_COLUMNS, table_text

# Longest run of spaces one <text:s text:c="N"/> stands for: a real document uses a few for layout;
# a hostile one claims millions.
MAX_SPACES = 100

NOTES = "notes"

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_NS = {"w": _W, "mc": _MC}
# Runs' text, tabs and breaks, in order; not deleted text (tracked changes), not the fallback copy
# of a drawing, not text boxes (their paragraphs would be glued into the one that anchors them).
_RUN_TEXT = (
    ".//w:r/*[self::w:t or self::w:tab or self::w:br or self::w:cr or self::w:noBreakHyphen]"
    "[not(ancestor::w:del) and not(ancestor::mc:Fallback) and not(ancestor::w:txbxContent)]"
)


def read_docx(raw: bytes, where: str, limit: int = MAX_DOCUMENT_CHARS) -> Extracted:
    expect(raw, "zip", ".docx", where)
    open_zip(raw, where).close()
    with reading(where, "Word document"):
        from docx import Document
        from docx.opc.constants import RELATIONSHIP_TYPE as RT
        from docx.oxml.parser import parse_xml

        doc = Document(io.BytesIO(raw))
        headings = {s.style_id for s in doc.styles if _is_heading_name(s.name or "")}
        out = TextBuilder(limit)
        out.section()
        tables = 0
        for block in _docx_blocks(doc.element.body):
            if out.full:
                break
            if block.tag == f"{{{_W}}}tbl":
                tables += 1
                _add_table(out, ([_docx_cell(tc) for tc in tr.iterchildren(f"{{{_W}}}tc")]
                                 for tr in block.iterchildren(f"{{{_W}}}tr")), f"table {tables}")
                continue
            text = _docx_text(block)
            if _docx_is_heading(block, headings) and text.strip():
                out.section(label=" ".join(text.split()))
            out.paragraph(text)
        if out.empty:
            raise UnreadableFile(where, "the document has no text")
        out.section(label=NOTES)
        for rel in doc.part.rels.values():
            if not rel.is_external and rel.reltype in (RT.FOOTNOTES, RT.ENDNOTES):
                notes = parse_xml(rel.target_part.blob)
                for note in notes.iterchildren(f"{{{_W}}}footnote", f"{{{_W}}}endnote"):
                    if out.full:
                        break
                    if note.get(f"{{{_W}}}type") in (None, "normal"):  # not the separator lines
                        out.paragraph("\n".join(_docx_text(p) for p in note.iter(f"{{{_W}}}p")))
        return out.build()


def _docx_blocks(parent) -> Iterator:
    """Body paragraphs and tables in order, looking inside content controls (w:sdt)."""
    for child in parent.iterchildren():
        if child.tag in (f"{{{_W}}}p", f"{{{_W}}}tbl"):
            yield child
        elif child.tag == f"{{{_W}}}sdt":
            for content in child.iterchildren(f"{{{_W}}}sdtContent"):
                yield from _docx_blocks(content)


def _docx_text(p) -> str:
    parts = []
    for e in _run_text()(p):
        name = e.tag.rsplit("}", 1)[1]
        parts.append(e.text or "" if name == "t" else "\t" if name == "tab" else "-" if name == "noBreakHyphen" else "\n")
    return "".join(parts)


@cache
def _run_text():
    from lxml import etree

    return etree.XPath(_RUN_TEXT, namespaces=_NS)


def _docx_cell(tc) -> str:
    return " ".join(_docx_text(p) for p in tc.iter(f"{{{_W}}}p"))


def _docx_is_heading(p, heading_styles: set[str]) -> bool:
    ppr = p.find(f"{{{_W}}}pPr")
    if ppr is None:
        return False
    style = ppr.find(f"{{{_W}}}pStyle")
    if style is not None and style.get(f"{{{_W}}}val") in heading_styles:
        return True
    return ppr.find(f"{{{_W}}}outlineLvl") is not None


def _is_heading_name(name: str) -> bool:
    # Built-in styles keep their English names ("heading 1") whatever the language of Word.
    name = name.lower()
    return name == "title" or name.startswith("heading")


def _add_table(out: TextBuilder, rows, name: str) -> None:
    table = table_text(rows, name, max_chars=out.room)
    out.paragraph(table.text)
    if table.warning:
        out.warn(table.warning)


# --- OpenDocument text -------------------------------------------------------------------------

_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
ODT_MIME = "application/vnd.oasis.opendocument.text"
_ODT_BODY = f"{{{_OFFICE}}}text"
_T_H, _T_P, _T_S, _T_TAB, _T_BREAK, _T_NOTE, _T_CITATION = (
    f"{{{_TEXT}}}{n}" for n in ("h", "p", "s", "tab", "line-break", "note", "note-citation"))
_TB_TABLE, _TB_ROW, _TB_CELL = (f"{{{_TABLE}}}{n}" for n in ("table", "table-row", "table-cell"))
_TB_ROWS_REPEATED = f"{{{_TABLE}}}number-rows-repeated"
_TB_COLUMNS_REPEATED = f"{{{_TABLE}}}number-columns-repeated"
_ODT_COMMENTS = {f"{{{_OFFICE}}}annotation", f"{{{_OFFICE}}}annotation-end"}
# Generated lists (table of contents, indexes) repeat the headings; tracked deletions are not text.
_ODT_SKIP = {f"{{{_TEXT}}}{n}" for n in ("table-of-content", "alphabetical-index", "illustration-index",
                                         "bibliography", "object-index", "user-index", "table-index",
                                         "tracked-changes", "sequence-decls", "variable-decls")}


def read_odt(raw: bytes, where: str, limit: int = MAX_DOCUMENT_CHARS) -> Extracted:
    expect(raw, "zip", ".odt", where)
    with open_zip(raw, where) as z, reading(where, "OpenDocument file"):
        names = set(z.namelist())
        manifest = z.read("META-INF/manifest.xml") if "META-INF/manifest.xml" in names else b""
        if b"encryption-data" in manifest:
            raise UnreadableFile(where, "the file is password-protected (an encrypted OpenDocument file); "
                                        "save it without a password to index it")
        mimetype = z.read("mimetype").decode("ascii", errors="replace").strip() if "mimetype" in names else ""
        if mimetype and mimetype != ODT_MIME:
            raise UnreadableFile(where, f"not a .odt file: it is {mimetype} (is the extension wrong?)")
        if "content.xml" not in names:
            raise UnreadableFile(where, "not an OpenDocument file: content.xml is missing")
        from lxml import etree

        # No entities resolved, no network: the file's XML is untrusted input.
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        content = etree.fromstring(z.read("content.xml"), parser)
        walk = _OdtWalk(limit)
        walk.out.section()
        for text in content.iter(_ODT_BODY):
            walk.blocks(text)
        if walk.out.empty:
            raise UnreadableFile(where, "the document has no text")
        walk.out.section(label=NOTES)
        for note in walk.notes:
            if walk.out.full:
                break
            walk.out.paragraph(note)
        return walk.out.build()


class _OdtWalk:
    def __init__(self, limit: int) -> None:
        self.out = TextBuilder(limit)
        self.notes: list[str] = []
        self.tables = 0

    def blocks(self, parent) -> None:
        for node in parent.iterchildren("*"):
            if self.out.full:
                return
            if node.tag in _ODT_SKIP:
                continue
            if node.tag == _T_H:
                text = self.inline(node)
                if text.strip():
                    self.out.section(label=" ".join(text.split()))
                self.out.paragraph(text)
            elif node.tag == _T_P:
                self.out.paragraph(self.inline(node))
            elif node.tag == _TB_TABLE:
                self.tables += 1
                _add_table(self.out, self.rows(node), f"table {self.tables}")
            else:  # lists, list items, sections, frames: their paragraphs, in order
                self.blocks(node)

    def rows(self, table) -> Iterator[list[str]]:
        for node in table.iterchildren("*"):
            if node.tag == _TB_ROW:
                repeat = _int(node.get(_TB_ROWS_REPEATED))
                cells: list[str] = []
                for cell in node.iterchildren(_TB_CELL):
                    text = " ".join(self.inline(p) for p in _paragraphs(cell))
                    # Repeated empty cells pad a row to the sheet's width: keep one.
                    repeat_cell = min(_int(cell.get(_TB_COLUMNS_REPEATED)), MAX_COLUMNS + 1)
                    cells += [text] * (repeat_cell if text else 1)
                for _ in range(repeat if any(cells) else 1):  # lazy: table_text stops at its row cap
                    yield cells
            elif node.tag != _TB_CELL:  # header rows, row groups
                yield from self.rows(node)

    def inline(self, node) -> str:
        parts: list[str] = [node.text or ""]
        for child in node.iterchildren("*"):
            tag = child.tag
            if tag == _T_S:
                parts.append(" " * min(_int(child.get(f"{{{_TEXT}}}c")), MAX_SPACES))
            elif tag == _T_TAB:
                parts.append("\t")
            elif tag == _T_BREAK:
                parts.append("\n")
            elif tag == _T_NOTE:  # a footnote or endnote: kept out of the sentence it marks
                for body in child.iterchildren(f"{{{_TEXT}}}note-body"):
                    self.notes.append("\n".join(self.inline(p) for p in _paragraphs(body)))
            elif tag in _ODT_COMMENTS or tag == _T_CITATION:
                pass
            else:  # spans, links, bookmarks, fields
                parts.append(self.inline(child))
            parts.append(child.tail or "")
        return "".join(parts)


def _paragraphs(node) -> Iterator:
    """The paragraphs and headings inside a cell or note, not those of notes nested in them."""
    for child in node.iterchildren("*"):
        if child.tag in (_T_P, _T_H):
            yield child
        elif child.tag != _T_NOTE:
            yield from _paragraphs(child)


def _int(value) -> int:
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1
