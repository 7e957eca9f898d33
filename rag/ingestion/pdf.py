"""PDF files through PDFium (pypdfium2): opening one, with the reason when it cannot be; the text layer
of a page, as plain text; the image of a page, for OCR.

PDFium is not thread-safe, whatever the documents: two threads must never be inside it at once (a
server thread may read a document's text again while another reads an upload). So every call into it
holds `LOCK`, and every object it hands out (document, page, text page, bitmap) is closed explicitly,
under the lock: one left to the garbage collector would be closed by whichever thread collects it."""
from __future__ import annotations

import threading

from rag.errors import UnreadableFile

LOCK = threading.Lock()

# Text anywhere on the plane. get_text_bounded's default is the page's crop box, which loses text
# drawn outside it; its other call (get_text_range) is limited to UCS-2 by pypdfium2.
_EVERYWHERE = (-1e30, -1e30, 1e30, 1e30)

# PDFium's reasons for not opening a document (FPDF_ERR_*), in words. 4 and 5 have messages of their own.
_PASSWORD, _SECURITY = 4, 5
_REASONS = {1: "unknown error", 2: "the file could not be read", 3: "damaged, or not a PDF", 6: "no readable page"}

# PDFium ends lines with "\r\n". A hyphen that ends a line, the word going on at the next, it gives as
# "\x02" (U+FFFE in get_text_range) with no line break: written back as the hyphen and the break, as
# the page shows them (the mark cannot tell "exem-ple" from "mot-composé"). NULs are dropped.
_MARKS = str.maketrans({"\r": "\n", "\x02": "-\n", "\ufffe": "-\n", "\x00": None})


def plain(text: str) -> str:
    """The text PDFium gives for a page, with "\\n" line ends, line-end hyphens and no NULs."""
    return text.replace("\r\n", "\n").translate(_MARKS)


class PdfFile:
    """An open PDF: `len()` pages, numbered from 1, each with its `text` and its `image`. Opening
    raises UnreadableFile with the reason (password, unsupported encryption, damage). Close it, or use
    it in a `with` block."""

    def __init__(self, raw: bytes, where: str) -> None:
        import pypdfium2 as pdfium

        self._doc = None
        with LOCK:
            try:
                # No password: PDFium tries the empty one, with which most encrypted PDFs open (they
                # are encrypted only to restrict printing or copying).
                self._doc = pdfium.PdfDocument(raw)
                self.pages = len(self._doc)
            except pdfium.PdfiumError as e:
                self._close()
                code = getattr(e, "err_code", None)
                if code == _PASSWORD:
                    raise UnreadableFile(
                        where, "the PDF is password-protected; save a copy without a password to index it") from None
                if code == _SECURITY:
                    raise UnreadableFile(where, "the PDF is encrypted in a way that cannot be opened here "
                                                "(an unsupported security handler)") from None
                raise UnreadableFile(where, f"not a readable PDF ({_REASONS.get(code, 'damaged')})") from None

    def __len__(self) -> int:
        return self.pages

    def text(self, number: int) -> str:
        """Page `number`'s text layer (`plain`); "" for a page without one. Raises pypdfium2's
        PdfiumError for a page that cannot be loaded."""
        with LOCK:
            page = self._doc[number - 1]
            try:
                textpage = page.get_textpage()
                try:
                    text = textpage.get_text_bounded(*_EVERYWHERE)
                finally:
                    textpage.close()
            finally:
                page.close()
        return plain(text)

    def image(self, number: int, dpi: float, max_pixels: int):
        """Page `number` as a grayscale PIL image at `dpi`, smaller where that would exceed `max_pixels`."""
        with LOCK:
            page = self._doc[number - 1]
            try:
                width, height = page.get_size()  # points: 1/72 inch
                scale = min(dpi / 72, (max_pixels / max(width * height, 1.0)) ** 0.5)
                bitmap = page.render(scale=scale, grayscale=True)
                try:
                    # The image shares the bitmap's buffer, which Python allocated: it outlives the bitmap.
                    return bitmap.to_pil()
                finally:
                    bitmap.close()
            finally:
                page.close()

    def close(self) -> None:
        with LOCK:
            self._close()

    def _close(self) -> None:
        if self._doc is not None:
            self._doc.close()
            self._doc = None

    def __enter__(self) -> PdfFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
