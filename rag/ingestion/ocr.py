"""Reading the text of page images: scanned PDF pages, photos and image files, with Tesseract 5.

Tesseract is Debian's (`make browser-deps` installs it with the French, Vietnamese and Chinese models;
English comes with it), driven through pytesseract: one `tesseract` process per call, so a page can
be stopped at a time limit, a crash on a hostile image ends only that process, and this process's
GIL is free while it runs (the server's other users go on).

The page's script comes first (Tesseract's orientation and script detection, `--psm 0`, which also
says whether the page is upside down or sideways); Latin pages are then read with Vietnamese, French
and English together, Han pages with Traditional and Simplified Chinese (docs/benchmarks.md, "OCR",
measures the choice). Without Tesseract a page is not read, and the caller warns with `MISSING`.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import time
import unicodedata
from dataclasses import dataclass

# What `apt-get install` needs for the four languages (English comes with tesseract-ocr).
PACKAGES = "tesseract-ocr tesseract-ocr-fra tesseract-ocr-vie tesseract-ocr-chi-tra tesseract-ocr-chi-sim"
MISSING = f"OCR needs Tesseract: apt-get install {PACKAGES} (or `make browser-deps`)"
# Tesseract model names by the script `--psm 0` finds; the first model of a set is its main one.
MODELS = {"Latin": "vie+fra+eng", "Han": "chi_tra+chi_sim"}
UNKNOWN_SCRIPT = "vie+fra+eng+chi_tra"  # too little text for the script detection: read with both scripts
# Mean word confidence (0-100, weighted by word length) under which a page's text is worth checking.
LOW_CONFIDENCE = 60.0
# Per call: a page that takes longer is given up (a 300 dpi page takes 1-3 s here).
SECONDS_PER_PAGE = 120
# Pages are read at this resolution at most: past it Tesseract is slower and no better, and a page
# claiming 1 m x 1 m must not become a gigapixel image.
MAX_PIXELS = 12_000_000
# An image whose darkest pixel is this light (0-255 grey) holds nothing to read: a blank page.
BLANK_LEVEL = 200

# Two CJK characters (or CJK punctuation) with a space between: Tesseract puts spaces between
# Chinese "words" that the printed page does not have.
_CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_SPACE = re.compile(f"(?<=[{_CJK}]) (?=[{_CJK}])")


@dataclass(frozen=True)
class PageText:
    """What OCR read on one page: its text (lines joined by newlines, a blank line between blocks),
    the mean word confidence (0-100), the models used and the seconds it took."""

    text: str
    confidence: float
    models: str
    seconds: float


def missing() -> str | None:
    """None when Tesseract and the four languages' models are installed, else what to install."""
    exe = shutil.which("tesseract")
    if exe is None:
        return MISSING
    try:
        listed = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return MISSING
    have = set(listed.split())
    lacking = [m for m in ("eng", "fra", "vie", "chi_tra", "chi_sim", "osd") if m not in have]
    if lacking:
        return f"OCR needs Tesseract's models for {', '.join(lacking)}: apt-get install {PACKAGES}"
    return None


def is_blank(image) -> bool:
    """No ink anywhere: every pixel lighter than BLANK_LEVEL (a white or empty page)."""
    return image.convert("L").getextrema()[0] >= BLANK_LEVEL


def bounded(image):
    """`image` in grey, shrunk to MAX_PIXELS when larger (same proportions)."""
    image = image.convert("L")
    pixels = image.width * image.height
    if pixels > MAX_PIXELS:
        f = (MAX_PIXELS / pixels) ** 0.5
        image = image.resize((max(1, int(image.width * f)), max(1, int(image.height * f))))
    return image


def even_light(image):
    """`image` (grey) divided by its paper's brightness, so a photo's shadowed corner comes out as
    white as the rest: Tesseract's single threshold otherwise loses the text in the shade. The paper
    is what is left after a max filter (the brightest pixel nearby) over an 8x smaller copy."""
    import numpy as np
    from PIL import Image, ImageFilter

    small = image.reduce(8) if min(image.size) >= 64 else image
    paper = small.filter(ImageFilter.MaxFilter(5)).filter(ImageFilter.GaussianBlur(4)).resize(image.size, Image.BILINEAR)
    a = np.asarray(image, dtype=np.float32)
    b = np.maximum(np.asarray(paper, dtype=np.float32), 1.0)
    return Image.fromarray(np.clip(a / b * 255.0, 0, 255).astype(np.uint8))


def read_image(image) -> PageText:
    """The text on a PIL image. Raises OcrFailed when Tesseract fails or runs out of time."""
    import pytesseract

    started = time.monotonic()
    image = even_light(bounded(image))
    rotate, script = _orientation(image)
    if rotate:
        # Tesseract gives the clockwise turn that makes the page upright; PIL turns anticlockwise.
        image = image.rotate(-rotate, expand=True, fillcolor=255)
    models = MODELS.get(script, UNKNOWN_SCRIPT) if script else UNKNOWN_SCRIPT
    try:
        data = pytesseract.image_to_data(image, lang=models, config="--psm 3", timeout=SECONDS_PER_PAGE,
                                         output_type=pytesseract.Output.DICT)
    except RuntimeError as e:  # pytesseract's timeout
        raise OcrFailed(f"OCR stopped after {SECONDS_PER_PAGE} s ({e})") from None
    except (pytesseract.TesseractError, OSError) as e:
        raise OcrFailed(f"OCR failed ({_short(e)})") from None
    text, confidence = _assemble(data)
    return PageText(text, confidence, models, time.monotonic() - started)


class OcrFailed(Exception):
    """Tesseract could not read a page (a crash, a time-out): the page is left out with this reason."""


def _orientation(image) -> tuple[int, str | None]:
    """(clockwise degrees that make the page upright, its script) by Tesseract's `--psm 0`; (0, None)
    when the page has too little text for it to say."""
    import pytesseract

    try:
        osd = pytesseract.image_to_osd(image, config="--psm 0", timeout=SECONDS_PER_PAGE,
                                       output_type=pytesseract.Output.DICT)
    except (pytesseract.TesseractError, RuntimeError, OSError):
        return 0, None
    script = str(osd.get("script") or "")
    script = "Han" if script in ("Han", "HanS", "HanT", "Hani") else script
    try:
        rotate = int(osd.get("rotate") or 0) % 360
    except (TypeError, ValueError):
        rotate = 0
    if float(osd.get("orientation_conf") or 0) < 2.0:
        rotate = 0  # a guess on a near-empty page: turning it would do more harm than good
    return rotate, script or None


def _assemble(data: dict) -> tuple[str, float]:
    """Tesseract's word table -> (text, mean confidence): words joined by spaces, lines by newlines,
    blocks by a blank line; the confidence is the words' mean weighted by their length."""
    blocks: dict[int, dict[tuple[int, int], list[str]]] = {}
    weight = total = 0.0
    for i, word in enumerate(data.get("text", ())):
        word = (word or "").strip()
        if not word:
            continue
        key = (int(data["par_num"][i]), int(data["line_num"][i]))
        blocks.setdefault(int(data["block_num"][i]), {}).setdefault(key, []).append(word)
        conf = float(data["conf"][i])
        if conf >= 0:
            weight += len(word)
            total += conf * len(word)
    paragraphs = []
    for lines in blocks.values():
        text = "\n".join(" ".join(words) for words in lines.values())
        paragraphs.append(_CJK_SPACE.sub("", unicodedata.normalize("NFC", text)))
    return "\n\n".join(p for p in paragraphs if p), (total / weight if weight else 0.0)


def _short(e: BaseException, limit: int = 200) -> str:
    s = " ".join(str(e).split())
    return s if len(s) <= limit else s[: limit - 1] + "…"
