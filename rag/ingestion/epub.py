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
from rag.ingestion.formats import html_to_text
from rag.ingestion.locations import Extracted, TextBuilder

NOTES = "notes"

_NOTE = re.compile(r"<aside\b[^>]*\bepub:type\s*=\s*[\"'][^\"']*\b(?:foot|end|rear)?notes?\b[^\"']*[\"'][^>]*>(.*?)</aside\s*>",
                   re.IGNORECASE | re.DOTALL)
_HEADING = re.compile(r"<(h[1-3]|title)\b[^>]*>(.*?)</\1\s*>", re.IGNORECASE | re.DOTALL)
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


def read_epub(raw: bytes, where: str) -> Extracted:
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
        out = TextBuilder()
        notes: list[str] = []
        for idref in opf.xpath("//opf:spine/opf:itemref/@idref", namespaces=_NS):
            item = items.get(idref)
            if item is None or item.get("media-type") not in _DOCUMENTS or "nav" in (item.get("properties") or "").split():
                continue
            path = _join(base, item.get("href", ""))
            if path not in names:
                out.warn(f"chapter {path} is listed but missing from the book")
                continue
            markup = z.read(path).decode("utf-8", errors="replace")
            notes += [html_to_text(m.group(1)) for m in _NOTE.finditer(markup)]
            markup = _NOTE.sub("", markup)
            out.section(label=titles.get(path) or _first_heading(markup))
            out.paragraph(html_to_text(markup))
        if out.empty:
            raise UnreadableFile(where, "the book has no text")
        out.section(label=NOTES)
        for note in notes:
            out.paragraph(note)
        return out.build()


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
    methods = re.findall(rb"EncryptionMethod\b[^>]*\bAlgorithm\s*=\s*[\"']([^\"']+)", encryption_xml)
    return any(m not in _FONT_OBFUSCATION for m in methods)


def _first_heading(markup: str) -> str | None:
    for m in _HEADING.finditer(markup):
        text = " ".join(html_to_text(m.group(2)).split())
        if text:
            return text
    return None
