"""Text out of HTML and PDF files. For these and the other structured formats (office.py, slides.py,
epub.py, sheets.py) the extracted text is the document: citation offsets index into it, as they
index into the decoded file for plain text."""
from __future__ import annotations

import html
import re
from typing import Iterator

from rag.errors import UnreadableFile
from rag.ingestion.archives import expect
from rag.ingestion.locations import MAX_DOCUMENT_CHARS, Extracted, TextBuilder, over_budget

# Elements whose content is never text for a reader.
_SKIP = {"script", "style", "noscript", "template", "head", "svg", "iframe", "object"}
# Elements that end a line of text.
_BLOCK = {
    "p", "div", "br", "li", "ul", "ol", "tr", "table", "section", "article", "header", "footer",
    "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "hr", "dd", "dt", "figcaption", "title",
}
# Elements whose content is raw text up to their end tag (no tags, no comments inside).
_RAW = {"script", "style"}

# The markup scanner. Every construct is found by one forward search from where the last one
# ended, and a construct left open (a tag without ">", a comment without "-->") runs to the end of
# the page, as in a browser: so the page is read in one pass, whatever it holds. (html.parser
# rescans from each "<" it cannot close, which takes time quadratic in a run of "<a ".)
_TAG = re.compile(r"<(/?)([A-Za-z][^\s/>]*+)((?:[^>\"']++|\"[^\"]*+\"|'[^']*+')*+)(>)?")
_TEXT_END = re.compile(r"<[A-Za-z/!?]")
_RAW_END = {name: re.compile(rf"</{name}(?=[\s/>])", re.IGNORECASE) for name in _RAW}


def html_tokens(markup: str) -> Iterator[tuple[str, str, str]]:
    """("start" | "end" | "startend", lowercase tag name, attributes) and ("data", "", text with
    character references resolved), in order; comments, declarations and the content of scripts and
    styles are left out. Linear in the length of `markup`."""
    pos, n = 0, len(markup)
    while pos < n:
        m = _TEXT_END.search(markup, pos)
        at = m.start() if m else n
        if at > pos:
            data = markup[pos:at]
            yield "data", "", html.unescape(data) if "&" in data else data
        if m is None:
            return
        second = markup[at + 1]
        if markup.startswith("<!--", at):
            close = markup.find("-->", at + 4)
            pos = n if close < 0 else close + 3
            continue
        if second in "!?" or (second == "/" and not markup[at + 2 : at + 3].isalpha()):
            close = markup.find(">", at + 2)  # a declaration, processing instruction or bogus comment
            pos = n if close < 0 else close + 1
            continue
        tag = _TAG.match(markup, at)
        if tag is None or tag.group(4) is None:
            return  # a tag left open swallows the rest of the page
        pos = tag.end()
        name = tag.group(2).lower()
        if tag.group(1):
            yield "end", name, ""
            continue
        attributes = tag.group(3)
        if attributes.rstrip().endswith("/"):
            yield "startend", name, attributes
            continue
        yield "start", name, attributes
        if name in _RAW:
            close = _RAW_END[name].search(markup, pos)
            if close is None:
                return
            yield "end", name, ""
            gt = markup.find(">", close.end())
            pos = n if gt < 0 else gt + 1


class TextSink:
    """The visible text of a stream of `html_tokens`: one paragraph per block, skipped elements left
    out. It takes at most `limit` characters of text (`cut` tells that it stopped there)."""

    def __init__(self, limit: int | None = None) -> None:
        self.parts: list[str] = []
        self.skipping = 0
        self.length = 0
        self.limit = limit
        self.cut = False

    def take(self, kind: str, name: str) -> None:
        if kind == "start" and name in _SKIP:
            self.skipping += 1
        elif kind == "end" and name in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif name in _BLOCK:
            self.parts.append("\n")

    def data(self, text: str) -> None:
        if self.skipping or self.cut:
            return
        if self.limit is not None and self.length + len(text) > self.limit:
            text, self.cut = text[: self.limit - self.length], True
        self.parts.append(text)
        self.length += len(text)

    def feed(self, kind: str, name: str, value: str) -> bool:
        """One token of `html_tokens`; True once the text is cut at its limit (the caller stops)."""
        if kind == "data":
            self.data(value)
        else:
            self.take(kind, name)
        return self.cut

    def text(self) -> str:
        lines = (" ".join(line.split()) for line in "".join(self.parts).split("\n"))
        return re.sub(r"\n{3,}", "\n\n", "\n\n".join(line for line in lines if line)).strip()


def html_to_text(markup: str, limit: int | None = None) -> str:
    """Visible text of an HTML page: one paragraph per block, scripts and styles dropped.
    With `limit`, no more than about that many characters are read (see `read_html`)."""
    return _html(markup, limit).text()


def read_html(markup: str, where: str, limit: int = MAX_DOCUMENT_CHARS) -> Extracted:
    """`markup`: the decoded file. The page's text is read up to twice `limit` characters (spaces
    between words collapse) and then cut to `limit`, with a warning."""
    sink = _html(markup, 2 * limit)
    text = sink.text()
    if sink.cut or len(text) > limit:
        return Extracted(text[:limit], warnings=(over_budget(limit),))
    return Extracted(text)


def _html(markup: str, limit: int | None) -> TextSink:
    sink = TextSink(limit)
    for kind, name, value in html_tokens(markup):
        if sink.feed(kind, name, value):
            break
    return sink


def read_pdf(raw: bytes, where: str, limit: int = MAX_DOCUMENT_CHARS) -> Extracted:
    """Text of a PDF's pages, a blank line between pages, each page located as "p. N" (PDFium, pdf.py).

    A page whose text layer is missing or not real text (a scan) is rendered and read by OCR
    (scans.py); what could not be read, and pages read with low confidence, are in the warnings.
    A PDF with no text on any page is refused with the reason."""
    from pypdfium2 import PdfiumError

    from rag.ingestion import ocr
    from rag.ingestion.pdf import PdfFile
    from rag.ingestion.scans import DPI, PageReader, is_real_text

    expect(raw, "pdf", ".pdf", where)
    out = TextBuilder(limit)
    scans = PageReader(out)
    with PdfFile(raw, where) as pdf:
        for number in range(1, len(pdf) + 1):
            if out.full:
                break
            try:
                text = pdf.text(number).strip()
            except PdfiumError as e:  # one damaged page must not lose the others
                out.warn(f"page {number} could not be read ({type(e).__name__}: {e})")
                continue
            if not is_real_text(text):
                scans.page(number, lambda n=number: pdf.image(n, DPI, ocr.MAX_PIXELS))
                continue
            out.section(page=number, label=f"p. {number}")
            out.paragraph(text)
    scans.warn()
    if out.empty:
        raise UnreadableFile(where, scans.refusal(len(pdf)))
    return out.build()
