"""Text out of EPUB books: the chapters in reading order (the spine), each a section located by
its title in the book's table of contents (EPUB 3 nav, else EPUB 2 NCX; else its first heading).

EPUB is a zip of XHTML files with a small XML index, so it is read here with zipfile and lxml (the
XML library python-docx already brings) rather than ebooklib, whose AGPL licence does not fit an
MIT web application. Footnotes marked as such (`<aside epub:type="footnote">`, the EPUB 3 way) are
kept out of the chapter's sentences and put after the last chapter in a section labelled "notes",
as for Word files. The navigation document is not read as a chapter: it repeats the titles."""
from __future__ import annotations

import posixpath
import re
from urllib.parse import unquote

from rag.errors import UnreadableFile
from rag.ingestion.archives import expect, open_zip, reading
from rag.ingestion.formats import TextSink, html_tokens
from rag.ingestion.locations import MAX_DOCUMENT_CHARS, Extracted, TextBuilder

NOTES = "notes"

# An aside whose epub:type names a note ("footnote", "endnote", "rearnote", "note"): its attributes
# are one tag's, and these patterns are linear in them.
_EPUB_TYPE = re.compile(r"""\bepub:type\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)
_NOTE_TYPE = re.compile(r"\b(?:foot|end|rear)?notes?\b", re.IGNORECASE)
_HEADINGS = {"h1", "h2", "h3", "title"}
# Font obfuscation (IDPF, Adobe) is not encryption of the text; any other method in encryption.xml is DRM.
_FONT_OBFUSCATION = (b"http://www.idpf.org/2008/embedding", b"http://ns.adobe.com/pdf/enc#RC")
_DOCUMENTS = ("application/xhtml+xml", "text/html")
_NS = {
    "c": "urn:oasis:names:tc:opendocument:xmlns:container",
    "opf": "http://www.idpf.org/2007/opf",
    "ncx": "http://www.daisy.org/z3986/2005/ncx/",
    "x": "http://www.w3.org/1999/xhtml",
    "epub": "http://www.idpf.org/2007/ops",
}


def read_epub(raw: bytes, where: str, limit: int = MAX_DOCUMENT_CHARS) -> Extracted:
    expect(raw, "zip", ".epub", where)
    with open_zip(raw, where) as z, reading(where, "EPUB book"):
        names = set(z.namelist())
        if "META-INF/encryption.xml" in names and _drm(z.read("META-INF/encryption.xml")):
            raise UnreadableFile(where, "the book is encrypted (DRM); only DRM-free EPUB files can be read")
        if "META-INF/container.xml" not in names:
            raise UnreadableFile(where, "not an EPUB book: META-INF/container.xml is missing")
        opf_path = _xml(z.read("META-INF/container.xml")).xpath("string(//c:rootfile/@full-path)", namespaces=_NS)
        if opf_path not in names:
            raise UnreadableFile(where, f"not an EPUB book: its package file {opf_path or '(none)'} is missing")
        opf = _xml(z.read(opf_path))
        base = posixpath.dirname(opf_path)
        items = {i.get("id"): i for i in opf.xpath("//opf:manifest/opf:item", namespaces=_NS)}
        titles = _titles(z, names, opf, items, base)
        out = TextBuilder(limit)
        notes: list[str] = []
        read: set[str] = set()
        for idref in opf.xpath("//opf:spine/opf:itemref/@idref", namespaces=_NS):
            item = items.get(idref)
            if item is None or item.get("media-type") not in _DOCUMENTS or "nav" in (item.get("properties") or "").split():
                continue
            path = _join(base, item.get("href", ""))
            if path in read:
                continue  # a chapter listed twice is read once: a spine naming it thousands of times is a bomb
            read.add(path)
            if path not in names:
                out.warn(f"chapter {path} is listed but missing from the book")
                continue
            if out.full:
                break
            chapter = _chapter(z.read(path).decode("utf-8", errors="replace"), out.room + 1)
            notes += chapter.notes
            out.section(label=titles.get(path) or chapter.heading)
            out.paragraph(chapter.text)
        if out.empty:
            raise UnreadableFile(where, "the book has no text")
        out.section(label=NOTES)
        for note in notes:
            if out.full:
                break
            out.paragraph(note)
        return out.build()


class _Chapter:
    """A chapter's text without its notes, its notes, and its first heading (or title)."""

    def __init__(self) -> None:
        self.text = ""
        self.notes: list[str] = []
        self.heading: str | None = None


def _chapter(markup: str, limit: int) -> _Chapter:
    body = TextSink(2 * limit)
    note: TextSink | None = None  # the note being read, and how many asides deep it is
    note_depth = 0
    heading: tuple[str, TextSink] | None = None
    out = _Chapter()
    for kind, name, value in html_tokens(markup):
        if note is None and kind == "start" and name == "aside" and _is_note(value):
            note, note_depth = TextSink(2 * limit), 1
            continue
        if note is not None:
            if name == "aside" and kind in ("start", "end"):
                note_depth += 1 if kind == "start" else -1
                if note_depth == 0:
                    out.notes.append(note.text())
                    note = None
                    continue
            note.feed(kind, name, value)
            continue
        if out.heading is None:
            if heading is None and kind == "start" and name in _HEADINGS:
                heading = (name, TextSink(1000))
            elif heading is not None and kind == "end" and name == heading[0]:
                out.heading = " ".join(heading[1].text().split()) or None
                heading = None
            elif heading is not None:
                heading[1].feed(kind, name, value)
        if body.feed(kind, name, value):
            break
    out.text = body.text()
    return out


def _is_note(attributes: str) -> bool:
    m = _EPUB_TYPE.search(attributes)
    return m is not None and _NOTE_TYPE.search(next(g for g in m.groups() if g is not None)) is not None


def _titles(z, names: set[str], opf, items: dict, base: str) -> dict[str, str]:
    """Chapter path -> the first title the table of contents gives it."""
    titles: dict[str, str] = {}
    nav = next((i for i in items.values() if "nav" in (i.get("properties") or "").split()), None)
    if nav is not None and _join(base, nav.get("href", "")) in names:
        path = _join(base, nav.get("href", ""))
        tree = _xml(z.read(path))
        for a in tree.xpath("//x:nav[contains(@epub:type, 'toc')]//x:a[@href]", namespaces=_NS):
            _add(titles, _join(posixpath.dirname(path), a.get("href")), "".join(a.itertext()))
    ncx_id = opf.xpath("string(//opf:spine/@toc)", namespaces=_NS)
    ncx = items.get(ncx_id)
    if not titles and ncx is not None and _join(base, ncx.get("href", "")) in names:
        path = _join(base, ncx.get("href", ""))
        tree = _xml(z.read(path))
        for point in tree.xpath("//ncx:navPoint", namespaces=_NS):
            src = point.xpath("string(ncx:content/@src)", namespaces=_NS)
            _add(titles, _join(posixpath.dirname(path), src), point.xpath("string(ncx:navLabel/ncx:text)", namespaces=_NS))
    return titles


def _add(titles: dict[str, str], path: str, title: str) -> None:
    title = " ".join(title.split())
    if title:
        titles.setdefault(path, title)


def _join(base: str, href: str) -> str:
    return posixpath.normpath(posixpath.join(base, unquote(href.split("#", 1)[0])))


def _xml(raw: bytes):
    from lxml import etree

    # No entities resolved, no network: the book's XML is untrusted input.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, recover=False)
    return etree.fromstring(raw, parser)


def _drm(encryption_xml: bytes) -> bool:
    algorithms = _xml(encryption_xml).xpath("//*[local-name()='EncryptionMethod']/@Algorithm")
    return any(a.encode() not in _FONT_OBFUSCATION for a in algorithms)
