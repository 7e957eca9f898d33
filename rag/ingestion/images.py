"""Image files as documents: a photo or a scan (png, jpg, tiff, webp) read by OCR (see ocr.py).

A multi-page TIFF is a scanned document: each frame is a page, located "p. N"; a single image's
text has no page label (the file is the page). Pillow decodes the file; its decompression-bomb
check (its default: over 179 million pixels) refuses a bomb before any pixel is decoded; a large
photo is shrunk to ocr.MAX_PIXELS before OCR."""
from __future__ import annotations

import io

from rag.errors import UnreadableFile
from rag.ingestion.locations import MAX_DOCUMENT_CHARS, Extracted, TextBuilder

# Suffix -> the formats Pillow may find in such a file (a .jpg holding a PNG is still an image).
IMAGE_TYPES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp")
_FORMATS = ("PNG", "JPEG", "TIFF", "WEBP")
# Frames of a TIFF read at most (each is a page for OCR; scans.MAX_OCR_PAGES bounds the reading).
MAX_FRAMES = 1000


def read_image(raw: bytes, where: str, limit: int = MAX_DOCUMENT_CHARS) -> Extracted:
    """The text OCR reads on an image file, with each page's confidence in its location."""
    from PIL import Image, UnidentifiedImageError

    from rag.ingestion.scans import PageReader

    try:
        img = Image.open(io.BytesIO(raw), formats=_FORMATS)
        frames = min(getattr(img, "n_frames", 1), MAX_FRAMES)
    except UnidentifiedImageError:  # its message names an in-memory object, of no use to a reader
        raise UnreadableFile(where, "not a readable image (damaged, or not PNG, JPEG, TIFF or WebP)") from None
    except (Image.DecompressionBombError, OSError, ValueError, SyntaxError) as e:
        raise UnreadableFile(where, f"not a readable image ({type(e).__name__}: {_short(e)})") from None
    out = TextBuilder(limit)
    several = frames > 1
    scans = PageReader(out, label=(lambda n: f"p. {n}") if several else (lambda n: None))

    def frame(n: int):
        img.seek(n - 1)
        img.load()
        return img.copy()

    for number in range(1, frames + 1):
        if out.full:
            break
        scans.page(number, lambda n=number: frame(n))
    if scans.failed and not scans.read and not scans.unread:
        raise UnreadableFile(where, f"not a readable image ({scans.failed[0][1]})")
    scans.warn()
    if out.empty:
        raise UnreadableFile(where, scans.refusal(frames, "frame" if several else "image"))
    return out.build()


def _short(e: BaseException, limit: int = 200) -> str:
    s = " ".join(str(e).split())
    return s if len(s) <= limit else s[: limit - 1] + "…"
