"""Text out of PowerPoint files (.pptx, python-pptx): one section per slide, located as "slide N"
with `page` = N. Within a slide, shapes are read top to bottom, then left to right (the order a
reader scans them, not the order they were drawn in); tables become rows.

Speaker notes are what the presenter says, often the fullest statement of a slide, so they are kept,
after all the slides, each located as "slide N, notes" with `page` = N."""
from __future__ import annotations

import io
from typing import Iterator

from rag.errors import UnreadableFile
from rag.ingestion.archives import expect, open_zip, reading
from rag.ingestion.locations import MAX_DOCUMENT_CHARS, Extracted, TextBuilder
from rag.ingestion.tables import table_text


def read_pptx(raw: bytes, where: str, limit: int = MAX_DOCUMENT_CHARS) -> Extracted:
    expect(raw, "zip", ".pptx", where)
    open_zip(raw, where).close()
    with reading(where, "PowerPoint file"):
        from pptx import Presentation

        deck = Presentation(io.BytesIO(raw))
        out = TextBuilder(limit)
        notes: list[tuple[int, str]] = []
        tables = 0
        read: set[str] = set()
        for number, slide in enumerate(deck.slides, 1):
            if slide.part.partname in read:
                continue  # a slide listed twice is read once: a deck naming it thousands of times is a bomb
            read.add(slide.part.partname)
            if out.full:
                break
            out.section(page=number, label=f"slide {number}")
            for shape in _reading_order(slide.shapes):
                if getattr(shape, "has_table", False) and shape.has_table:
                    tables += 1
                    table = table_text(([cell.text for cell in row.cells] for row in shape.table.rows),
                                       f"table {tables} (slide {number})", max_chars=out.room)
                    out.paragraph(table.text)
                    if table.warning:
                        out.warn(table.warning)
                elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
                    out.paragraph(_frame_text(shape.text_frame))
            if slide.has_notes_slide:
                frame = slide.notes_slide.notes_text_frame
                if frame is not None:
                    notes.append((number, _frame_text(frame)))
        if out.empty:
            raise UnreadableFile(where, "the presentation has no text")
        for number, text in notes:
            if out.full:
                break
            out.section(page=number, label=f"slide {number}, notes")
            out.paragraph(text)
        return out.build()


def _reading_order(shapes) -> Iterator:
    """Shapes top to bottom, left to right; the shapes of a group in place of the group."""
    def key(shape):
        return (shape.top if shape.top is not None else 0, shape.left if shape.left is not None else 0)

    for shape in sorted(shapes, key=key):
        if hasattr(shape, "shapes"):  # a group shape
            yield from _reading_order(shape.shapes)
        else:
            yield shape


def _frame_text(frame) -> str:
    # One line per paragraph (a bullet); python-pptx writes a line break inside one as a vertical tab.
    lines = (p.text.replace("\v", "\n").strip() for p in frame.paragraphs)
    return "\n".join(line for line in lines if line)
