"""One file's text made ready to index: cleaned, chunked, each chunk's language detected."""
from __future__ import annotations

from dataclasses import dataclass

from rag.ingestion.chunk import chunk_spans
from rag.ingestion.clean import clean
from rag.ingestion.load import SourceText
from rag.settings import Settings
from rag.text.language import detect
from rag.types import Chunk


@dataclass(frozen=True)
class PreparedDocument:
    source: SourceText
    chunks: tuple[Chunk, ...]
    language: str


def prepare(source: SourceText, settings: Settings) -> PreparedDocument:
    chunks, language = chunk_text(source, settings.chunk_size, settings.chunk_max)
    return PreparedDocument(source, chunks, language)


def chunk_text(source: SourceText, size: int, max_size: int) -> tuple[tuple[Chunk, ...], str]:
    """`source`'s chunks and the document's language (the part of `prepare` a worker runs)."""
    text = source.text
    paragraphs = clean(text).kept
    spans = chunk_spans(text, paragraphs, size=size, max_size=max_size)
    body = " ".join(text[p.start : p.end] for p in paragraphs)
    doc_lang = detect(body[:4000])
    chunks = []
    for i, s in enumerate(spans):
        piece = text[s.start : s.end]
        lang = detect(piece)
        # Short chunks (a title, a byline) are unreliable to classify: trust the document's language.
        if lang == "und" or (len(piece) < 80 and lang != doc_lang):
            lang = doc_lang
        chunks.append(Chunk(source.name, lang, piece, s.start, s.end, i))
    return tuple(chunks), doc_lang
