"""Scanned and photographed pages made here, with their printed text known: what the OCR tests and
`python -m bench.ocr` read back and score.

A page is text drawn with PIL in a system font (DejaVu for Latin and Vietnamese, Noto Sans CJK TC for
Chinese, found with fc-match), then spoiled as a flatbed scanner does (grey noise, a slight blur, a
rotation of about a degree, dust) or as a phone photo does (perspective, uneven light, softer focus).
Everything is seeded: the same call gives the same pixels."""
from __future__ import annotations

import difflib
import io
import random
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# What each test page prints: short paragraphs of ordinary prose, with numbers and the language's
# diacritics or characters.
TEXTS = {
    "fr": ("Le contrat de location du local situé au 14 rue des Tanneurs à Lyon prend effet le 3 mars 2021. "
           "Le loyer mensuel est fixé à 1 250 euros, charges comprises, payable avant le cinq du mois. "
           "Le preneur s'engage à entretenir les lieux et à signaler sans délai toute fuite d'eau. "
           "Fait en deux exemplaires, à Lyon, après lecture et approbation des deux parties."),
    "en": ("The warehouse on Harbour Road was inspected on 12 June 2022 by two engineers from the county. "
           "They found the roof sound but the north wall damp, and asked for new gutters within ninety days. "
           "The owner agreed to pay 4,800 pounds for the repairs and to keep the receipts for the council. "
           "A second visit is planned for the autumn, before the first frost."),
    "vi": ("Hợp đồng thuê nhà tại số 27 phố Hàng Bạc, Hà Nội, có hiệu lực từ ngày 1 tháng 9 năm 2020. "
           "Tiền thuê mỗi tháng là 8 triệu đồng, trả trước ngày mùng năm hằng tháng bằng chuyển khoản. "
           "Bên thuê có trách nhiệm giữ gìn nhà cửa sạch sẽ và báo ngay cho chủ nhà khi có hư hỏng. "
           "Hợp đồng được lập thành hai bản, mỗi bên giữ một bản có giá trị như nhau."),
    "zh-Hant": ("臺北市立圖書館於二〇二一年三月十五日公告，總館閱覽室將自四月一日起延長開放時間。"
                "平日開放至晚上十點，週末開放至晚上八點，國定假日照常休館。"
                "讀者借閱圖書以二十冊為限，借期為二十八天，逾期每冊每日罰款五元。"
                "如有疑問，請洽服務臺或撥打市民專線查詢。"),
}
# A note someone photographed with a phone: short lines, bigger letters.
NOTE = ("Réunion des locataires\n"
        "Jeudi 18 avril à 19 h, salle commune.\n"
        "Ordre du jour : travaux de la toiture,\n"
        "chauffage et entretien du jardin.")

_FONTS = {"latin": "DejaVu Serif", "zh": "Noto Sans CJK TC"}


@dataclass(frozen=True)
class Page:
    """A made page: its image (PNG bytes), the text printed on it, and how it was spoiled."""

    language: str
    kind: str  # "clean", "scan" or "photo"
    text: str
    png: bytes


@lru_cache(maxsize=None)
def font_file(family: str) -> tuple[str, int]:
    """(file, index in a collection) of a system font, as fc-match names it."""
    if shutil.which("fc-match") is None:
        raise RuntimeError("fc-match not found (fontconfig): cannot find fonts to draw test pages")
    out = subprocess.run(["fc-match", "-f", "%{file}:%{index}", family], capture_output=True, text=True,
                         check=True, timeout=30).stdout
    path, _, index = out.rpartition(":")
    return path, int(index or 0)


def _font(language: str, size: int):
    from PIL import ImageFont

    path, index = font_file(_FONTS["zh" if language.startswith("zh") else "latin"])
    return ImageFont.truetype(path, size, index=index)


def _wrap(text: str, font, width: int, cjk: bool) -> list[str]:
    """Lines that fit `width` pixels: by words, or by characters for Chinese."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        units = list(paragraph) if cjk else paragraph.split(" ")
        line = ""
        for u in units:
            candidate = line + u if cjk or not line else f"{line} {u}"
            if line and font.getlength(candidate) > width:
                lines.append(line)
                line = u
            else:
                line = candidate
        if line:
            lines.append(line)
    return lines


def draw(text: str, language: str, *, width: int = 1700, size: int = 40, margin: int = 120):
    """A white page (grey image, "L") with `text` printed in black at `size` pixels (40 px is 10 pt at
    300 dpi), as tall as the text needs."""
    from PIL import Image, ImageDraw

    font = _font(language, size)
    cjk = language.startswith("zh")
    lines = _wrap(text, font, width - 2 * margin, cjk)
    step = int(size * 1.6)
    img = Image.new("L", (width, 2 * margin + step * len(lines)), 255)
    pen = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        pen.text((margin, margin + i * step), line, font=font, fill=0)
    return img


def scanned(img, seed: int = 0):
    """As a flatbed scanner leaves it: rotated about a degree, slightly blurred, grey noise, dust."""
    import numpy as np
    from PIL import Image, ImageFilter

    rnd = random.Random(seed)
    img = img.rotate(rnd.choice((-1, 1)) * rnd.uniform(0.8, 1.5), resample=Image.BICUBIC, expand=True, fillcolor=255)
    img = img.filter(ImageFilter.GaussianBlur(1.0))
    a = np.asarray(img, dtype=np.float32)
    gen = np.random.default_rng(seed)
    a = a * 0.85 + 20 + gen.normal(0, 12, a.shape)  # paper is never white, ink never black
    dust = gen.random(a.shape) < 0.0008
    a[dust] = 40
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def photographed(img, seed: int = 0):
    """As a phone photo of a page on a table: perspective, light falling off to one corner, soft focus."""
    import numpy as np
    from PIL import Image, ImageFilter

    rnd = random.Random(seed)
    w, h = img.size
    pad = int(0.06 * w)
    canvas = Image.new("L", (w + 2 * pad, h + 2 * pad), 255)
    canvas.paste(img, (pad, pad))
    W, H = canvas.size
    # the page's corners seen from a little off-centre: top edge narrower than the bottom one
    d = [rnd.uniform(0.02, 0.05) * W for _ in range(4)]
    src = [(d[0], d[1] * 0.5), (W - d[2], d[3] * 0.5), (W, H), (0, H)]
    coeffs = _perspective(src, [(0, 0), (W, 0), (W, H), (0, H)])
    warped = canvas.transform((W, H), Image.PERSPECTIVE, coeffs, resample=Image.BICUBIC, fillcolor=110)
    warped = warped.filter(ImageFilter.GaussianBlur(1.3))
    a = np.asarray(warped, dtype=np.float32)
    yy, xx = np.mgrid[0:H, 0:W]
    light = 1.0 - 0.45 * ((xx / W) * 0.6 + (yy / H) * 0.4)  # darker towards the bottom right
    a = a * light * 0.9 + 10 + np.random.default_rng(seed).normal(0, 6, a.shape)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def _perspective(src, dst):
    """Coefficients for PIL's PERSPECTIVE transform, which maps output points `dst` to input `src`."""
    import numpy as np

    rows = []
    rhs = []
    for (x, y), (u, v) in zip(dst, src):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    return np.linalg.solve(np.array(rows, dtype=float), np.array(rhs, dtype=float)).tolist()


def png(img) -> bytes:
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def page(language: str, kind: str = "scan", seed: int = 0, text: str | None = None) -> Page:
    """A made page of TEXTS[language] (or `text`): "clean", "scan" or "photo"."""
    text = TEXTS[language] if text is None else text
    img = draw(text, language, size=52 if kind == "photo" else 40)
    if kind == "scan":
        img = scanned(img, seed)
    elif kind == "photo":
        img = photographed(img, seed)
    return Page(language, kind, text, png(img))


def pdf_of(images, dpi: int = 300) -> bytes:
    """A PDF of page images and nothing else, as a scanner writes one (no text layer)."""
    from PIL import Image

    frames = [Image.open(io.BytesIO(i)).convert("L") if isinstance(i, bytes) else i for i in images]
    out = io.BytesIO()
    frames[0].save(out, format="PDF", save_all=True, append_images=frames[1:], resolution=dpi)
    return out.getvalue()


def _chars(text: str) -> str:
    """The characters that count: no white space (OCR's line breaks are not the printer's), and in
    NFKC form, where a full-width comma "，" is the comma "," Tesseract's Chinese models write."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def recognised(printed: str, read: str) -> float:
    """Share of the printed characters found, in order, in what was read: the matched characters of
    difflib's alignment (matching blocks, no junk heuristic) over the printed ones, white space
    ignored and both sides in NFKC. 1.0: every character read; a wrong or missing character costs 1/len(printed)."""
    a, b = _chars(printed), _chars(read)
    if not a:
        return 1.0
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return sum(m.size for m in matcher.get_matching_blocks()) / len(a)


def pdf_with_text(pages: list[str]) -> bytes:
    """A PDF with a real text layer, one page per string, as a browser prints it: Debian's Chromium
    through Playwright (fonts embedded, Noto CJK for Chinese)."""
    import html

    from playwright.sync_api import sync_playwright

    body = "".join(f'<p style="page-break-after: always">{html.escape(p)}</p>' for p in pages)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium") or shutil.which("chromium-browser"))
        try:
            tab = browser.new_page()
            tab.set_content(f'<html><body style="font: 12pt serif">{body}</body></html>')
            return tab.pdf(format="A4")
        finally:
            browser.close()
