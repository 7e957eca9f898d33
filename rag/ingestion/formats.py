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

    No OCR: a page without a text layer (a scan) is reported in the warnings and left out, and a PDF
    with no text on any page is refused."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

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
    empty: list[int] = []
    for number, page in enumerate(pages, 1):
        try:
            text = (page.extract_text() or "").strip()
        except Exception as e:  # noqa: BLE001 - one damaged page must not lose the others
            out.warn(f"page {number} could not be read ({type(e).__name__}: {e})")
            continue
        if not text:
            empty.append(number)
            continue
        out.section(page=number, label=f"p. {number}")
        out.paragraph(text)
    if out.empty:
        raise UnreadableFile(where, f"no page has text ({_count(len(pages), 'page')}): a scanned document? "
                                    "There is no OCR here; nothing to index")
    if empty:
        out.warn(f"{_pages(empty)} no text: scanned? (not indexed)")
    return out.build()


def _pages(numbers: list[int]) -> str:
    """[3] -> "page 3 has"; [3, 5, 6, 7] -> "pages 3, 5-7 have"."""
    runs: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        runs.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    if len(numbers) == 1:
        return f"page {numbers[0]} has"
    return f"pages {', '.join(runs)} have"


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")
