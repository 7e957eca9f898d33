"""OCR figures for docs/benchmarks.md: characters recognised per language and kind of page, seconds
per page, and read_pdf's text layer through PDFium (now) against pypdf (before): speed, Chinese.

    python -m bench.ocr                 # pages made by bench/scans.py, read by rag.ingestion.ocr
    python -m bench.ocr --text-layer    # only the text-layer table

Characters recognised: bench.scans.recognised (difflib alignment, white space ignored, NFKC)."""
from __future__ import annotations

import io
import statistics
import sys
import time

from bench.scans import NOTE, TEXTS, page, recognised


def ocr_table(seeds=(0, 1, 2)) -> list[tuple[str, str, float, float]]:
    """(language, kind, mean share recognised, mean seconds per page) over `seeds`."""
    from PIL import Image

    from rag.ingestion.ocr import read_image

    rows = []
    cases = [(lang, kind, None) for lang in TEXTS for kind in ("clean", "scan", "photo")]
    cases.append(("fr", "photo", NOTE))
    for lang, kind, text in cases:
        shares, seconds = [], []
        for seed in seeds:
            p = page(lang, kind, seed=seed, text=text)
            read = read_image(Image.open(io.BytesIO(p.png)))
            shares.append(recognised(p.text, read.text))
            seconds.append(read.seconds)
        rows.append((lang + (" (note)" if text else ""), kind, statistics.mean(shares), statistics.mean(seconds)))
    return rows


def pypdf_text(raw: bytes) -> str:
    """A PDF's text as read_pdf read it with pypdf, before PDFium: its loop, without OCR."""
    from pypdf import PdfReader

    from rag.ingestion.locations import TextBuilder
    from rag.ingestion.scans import is_real_text

    out = TextBuilder()
    for number, p in enumerate(PdfReader(io.BytesIO(raw)).pages, 1):
        text = (p.extract_text() or "").strip()
        if is_real_text(text):
            out.section(page=number, label=f"p. {number}")
            out.paragraph(text)
    return out.build().text


def pdfium_text(raw: bytes) -> str:
    """A PDF's text as read_pdf reads it now (PDFium, rag/ingestion/pdf.py)."""
    from rag.ingestion.formats import read_pdf

    return read_pdf(raw, "bench.pdf").text


def layer_rows(runs: int = 5, reads: int = 20) -> list[tuple[str, str, int, float, float]]:
    """(reader, language, pages, share of the printed characters found, median over `runs` of the ms
    per page of `reads` reads of the whole file). Each language: 5 pages printed by Chromium; French
    also as a 40-page file."""
    from bench.scans import pdf_with_text

    docs = [(lang, [text] * 5) for lang, text in TEXTS.items()] + [("fr", [TEXTS["fr"]] * 40)]
    rows = []
    for lang, pages in docs:
        raw = pdf_with_text(pages)
        for name, read in (("pypdf (before)", pypdf_text), ("PDFium (now)", pdfium_text)):
            text = read(raw)  # once before timing: imports, font caches
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                for _ in range(reads):
                    read(raw)
                times.append((time.perf_counter() - started) / reads / len(pages) * 1000)
            rows.append((name, lang, len(pages), recognised(" ".join(pages), text), statistics.median(times)))
    return rows


def main() -> None:
    if "--text-layer" not in sys.argv[1:]:
        print("| language | page | characters recognised | s per page |\n|---|---|---|---|")
        for lang, kind, share, sec in ocr_table():
            print(f"| {lang} | {kind} | {share:.1%} | {sec:.1f} |")
        print()
    print("| reader | language | pages | characters found | ms per page (median of 5) |\n|---|---|---|---|---|")
    for name, lang, pages, share, ms in layer_rows():
        print(f"| {name} | {lang} | {pages} | {share:.1%} | {ms:.2f} |")


if __name__ == "__main__":
    main()
