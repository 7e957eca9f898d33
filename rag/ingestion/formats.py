"""Text out of HTML and PDF files. For these formats the extracted text is the document: citation
offsets index into it, as they index into the decoded file for plain text."""
from __future__ import annotations

import io
import re
from html.parser import HTMLParser

from rag.errors import UnreadableFile

# Elements whose content is never text for a reader.
_SKIP = {"script", "style", "noscript", "template", "head", "svg", "iframe", "object"}
# Elements that end a line of text.
_BLOCK = {
    "p", "div", "br", "li", "ul", "ol", "tr", "table", "section", "article", "header", "footer",
    "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "hr", "dd", "dt", "figcaption", "title",
}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIP:
            self.skipping += 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_startendtag(self, tag, attrs):
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Visible text of an HTML page: one paragraph per block, scripts and styles dropped."""
    p = _Text()
    p.feed(markup)
    p.close()
    lines = (" ".join(line.split()) for line in "".join(p.parts).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n\n".join(line for line in lines if line)).strip()


def pdf_to_text(raw: bytes, where: str) -> str:
    """Text of a PDF's pages, a blank line between pages (pypdf; no OCR: scanned pages have no text)."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted:
            raise UnreadableFile(where, "the PDF is encrypted")
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
    except UnreadableFile:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError) as e:
        raise UnreadableFile(where, f"not a readable PDF ({e})") from None
    text = "\n\n".join(p for p in pages if p)
    if not text.strip():
        raise UnreadableFile(where, "the PDF has no text layer (a scanned document?); nothing to index")
    return text
