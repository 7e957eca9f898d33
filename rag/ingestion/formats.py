"""Text out of HTML and PDF files. For these and the other structured formats (office.py, slides.py,
epub.py, sheets.py) the extracted text is the document: citation offsets index into it, as they
index into the decoded file for plain text."""
from __future__ import annotations

import io
import re
from html.parser import HTMLParser

from rag.errors import UnreadableFile
from rag.ingestion.archives import expect
from rag.ingestion.locations import Extracted, TextBuilder

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


def read_pdf(raw: bytes, where: str) -> Extracted:
    """Text of a PDF's pages, a blank line between pages, each page located as "p. N" (pypdf).

    A page whose text layer is missing or not real text (a scan) is rendered and read by OCR
    (scans.py); what could not be read, and pages read with low confidence, are in the warnings.
    A PDF with no text on any page is refused with the reason."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    from rag.ingestion.scans import PageReader, PdfRenderer, is_real_text

    expect(raw, "pdf", ".pdf", where)
    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted:
            try:
                # Many PDFs are encrypted only to restrict printing or copying, with an empty password.
                opened = reader.decrypt("")
            except (DependencyError, NotImplementedError) as e:
                raise UnreadableFile(where, f"the PDF is encrypted in a way that cannot be opened here ({e})") from None
            if not opened:
                raise UnreadableFile(where, "the PDF is password-protected; save a copy without a password to index it")
        pages = list(reader.pages)
    except UnreadableFile:
        raise
    except (PdfReadError, FileNotDecryptedError, ValueError, KeyError, TypeError, AttributeError, OSError) as e:
        raise UnreadableFile(where, f"not a readable PDF ({e})") from None
    out = TextBuilder()
    scans = PageReader(out)
    render = PdfRenderer(raw)
    try:
        for number, page in enumerate(pages, 1):
            try:
                text = (page.extract_text() or "").strip()
            except Exception as e:  # noqa: BLE001 - one damaged page must not lose the others
                out.warn(f"page {number} could not be read ({type(e).__name__}: {e})")
                continue
            if not is_real_text(text):
                scans.page(number, lambda n=number: render(n))
                continue
            out.section(page=number, label=f"p. {number}")
            out.paragraph(text)
    finally:
        render.close()
    scans.warn()
    if out.empty:
        raise UnreadableFile(where, scans.refusal(len(pages)))
    return out.build()
