"""OCR figures for docs/benchmarks.md: characters recognised per language and kind of page, seconds
per page, and pypdf against pypdfium2 for reading a PDF's text layer (speed, Chinese).

    python -m bench.ocr            # pages made by bench/scans.py, read by rag.ingestion.ocr

Characters recognised: bench.scans.recognised (difflib alignment, white space ignored, NFKC)."""
from __future__ import annotations

import io
import statistics
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


def layer_rows(repeat: int = 20) -> list[tuple[str, str, float, float]]:
    import pypdfium2 as pdfium
    from pypdf import PdfReader

    from bench.scans import pdf_with_text

    rows = []
    for lang, text in TEXTS.items():
        raw = pdf_with_text([text] * 5)
        for name, read in (("pypdf", lambda r: [p.extract_text() for p in PdfReader(io.BytesIO(r)).pages]),
                           ("pypdfium2", lambda r: [p.get_textpage().get_text_range() for p in pdfium.PdfDocument(r)])):
            started = time.perf_counter()
            for _ in range(repeat):
                pages = read(raw)
            ms = (time.perf_counter() - started) / repeat / len(pages) * 1000
            rows.append((name, lang, statistics.mean(recognised(text, t) for t in pages), ms))
    return rows


def main() -> None:
    print("| language | page | characters recognised | s per page |\n|---|---|---|---|")
    for lang, kind, share, sec in ocr_table():
        print(f"| {lang} | {kind} | {share:.1%} | {sec:.1f} |")
    print("\n| library | language | characters found | ms per page |\n|---|---|---|---|")
    for name, lang, share, ms in layer_rows():
        print(f"| {name} | {lang} | {share:.1%} | {ms:.2f} |")


if __name__ == "__main__":
    main()
