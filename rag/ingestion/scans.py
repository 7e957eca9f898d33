"""Pages that are pictures of text: which PDF pages need OCR, rendering them, and reading them into a
document's text with what the reader should be warned about.

A PDF page is read by OCR when its text layer is not real text (`is_real_text`): empty, or the
invisible layer a scanner's poor OCR leaves (glyph codes instead of characters). Such a page is
rendered by PDFium (pdf.py) and read by `ocr.read_image`; image files (images.py) go the same way."""
from __future__ import annotations

import unicodedata
from typing import Callable

from rag.ingestion import ocr
from rag.ingestion.locations import TextBuilder

# A document has at most this many pages read by OCR (at 1-3 s a page, about ten minutes);
# the others are named in a warning.
MAX_OCR_PAGES = 300
# Render at the resolution scanners use for text.
DPI = 300
# Share of a text layer's non-space characters that must be letters or digits for it to be text.
MIN_WORD_SHARE = 0.5
# Share of them that may be controls, private-use, unassigned or U+FFFD (glyphs with no character).
MAX_JUNK_SHARE = 0.05


def is_real_text(text: str) -> bool:
    """Whether a PDF page's text layer is text a reader could use, by this rule: it has a letter or
    digit, at least MIN_WORD_SHARE of its non-space characters are letters or digits, and at most
    MAX_JUNK_SHARE are controls, private-use, unassigned or replacement characters. A scan's
    garbage layer (glyph numbers read as "$%&'()*", or as private-use and control codes) fails it;
    prose, tables of figures and Chinese pass."""
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return False
    words = junk = 0
    for c in chars:
        cat = unicodedata.category(c)
        if cat[0] in "LN":
            words += 1
        elif cat in ("Cc", "Co", "Cn", "Cs") or c == "\ufffd":
            junk += 1
    return words > 0 and words >= MIN_WORD_SHARE * len(chars) and junk <= MAX_JUNK_SHARE * len(chars)


class PageReader:
    """Reads the pages of one document that need OCR into its TextBuilder, in page order, and keeps
    what to tell the reader: pages not read (no Tesseract, over the limit, failed), blank, with
    nothing recognised, or read with low confidence."""

    def __init__(self, out: TextBuilder, label: Callable[[int], str | None] = lambda n: f"p. {n}") -> None:
        self.out = out
        self.label = label
        self._missing: str | None | bool = False  # False: not checked yet
        self.read: list[int] = []
        self.unread: list[int] = []  # Tesseract missing
        self.over: list[int] = []
        self.blank: list[int] = []
        self.nothing: list[int] = []
        self.low: list[tuple[int, float]] = []
        self.failed: list[tuple[int, str]] = []
        self.seconds = 0.0

    # Called before each page goes to OCR (set by the parse worker, which then gives the file one
    # page's OCR budget more: a 50-page scan takes minutes, a text file never should).
    on_page: Callable[[], None] | None = None

    def page(self, number: int, image: Callable[[], object]) -> None:
        """OCR page `number`, whose image `image()` gives, into the text (a section of its own)."""
        if len(self.read) >= MAX_OCR_PAGES:
            self.over.append(number)
            return
        try:
            picture = image()
        except Exception as e:  # noqa: BLE001 - pdfium and Pillow raise their own types; one page only
            self.failed.append((number, f"could not be rendered ({type(e).__name__})"))
            return
        if ocr.is_blank(picture):  # said as such, with or without Tesseract
            self.blank.append(number)
            return
        if self._missing is False:
            self._missing = ocr.missing()
        if self._missing:
            self.unread.append(number)
            return
        if self.on_page is not None:
            self.on_page()  # the parse worker's clock: each page read by OCR has a budget of its own
        try:
            result = ocr.read_image(picture)
        except ocr.OcrFailed as e:
            self.failed.append((number, str(e)))
            return
        self.read.append(number)
        self.seconds += result.seconds
        if not result.text.strip():
            self.nothing.append(number)
            return
        if result.confidence < ocr.LOW_CONFIDENCE:
            self.low.append((number, result.confidence))
        self.out.section(page=number, label=self.label(number), confidence=round(result.confidence, 1))
        for paragraph in result.text.split("\n\n"):
            self.out.paragraph(paragraph)

    def warn(self) -> None:
        """Add the warnings this document's pages call for to its TextBuilder."""
        if self.unread:
            self.out.warn(f"{pages(self.unread)} no text layer (scanned) and could not be read: "
                          f"{self._missing} (not indexed)")
        if self.blank:
            self.out.warn(f"{pages(self.blank)} no text: blank (not indexed)")
        if self.nothing:
            self.out.warn(f"{pages(self.nothing)} no text layer and OCR found no text on it (not indexed)")
        for number, why in self.failed:
            self.out.warn(f"page {number} could not be read by OCR: {why} (not indexed)")
        if self.over:
            self.out.warn(f"{numbered(self.over)} not read: OCR reads at most {MAX_OCR_PAGES} pages of a "
                          "document (not indexed)")
        for number, confidence in self.low:
            self.out.warn(f"page {number} was read by OCR with low confidence ({confidence:.0f}/100): "
                          "its text may be wrong")

    def refusal(self, count: int, unit: str = "page") -> str:
        """Why a document with no text at all is refused (`unit`: what its `count` parts are)."""
        what = f"no text on its {count} {unit}s" if count > 1 else f"no text on the {unit}"
        if self.unread:
            return f"{what}: a scanned document? {self._missing}"
        if self.blank and not (self.nothing or self.failed):
            return f"{what}: blank"
        return f"{what}, and OCR found none: nothing to index"


def pages(numbers: list[int]) -> str:
    """[3] -> "page 3 has"; [3, 5, 6, 7] -> "pages 3, 5-7 have"."""
    return numbered(numbers) + (" has" if len(numbers) == 1 else " have")


def numbered(numbers: list[int]) -> str:
    """[3] -> "page 3"; [3, 5, 6, 7] -> "pages 3, 5-7"."""
    runs: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        runs.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return f"page {numbers[0]}" if len(numbers) == 1 else f"pages {', '.join(runs)}"
