"""Tables as readable text: cells joined by " | ", one row a line, empty rows and trailing empty
cells left out. Every loader with tables (docx, odt, pptx, xlsx, csv) writes them this way, and
an enormous table is cut, with a warning, instead of filling the index with one file."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

MAX_ROWS = 10_000
MAX_COLUMNS = 200
SEPARATOR = " | "


@dataclass(frozen=True)
class TableText:
    text: str
    warning: str | None = None  # set when rows or columns were cut


def table_text(rows: Iterable[Iterable[object]], name: str, *, max_rows: int = MAX_ROWS,
               max_columns: int = MAX_COLUMNS, max_chars: int | None = None) -> TableText:
    """`rows` of cell texts (None for an empty cell) as text; `name` says which table in a warning.
    `max_chars`: the room left in the document's text budget; the rows past it are not read (a
    repeated row or a long shared string in every cell multiplies a small file's text)."""
    lines: list[str] = []
    cut_rows = cut_columns = False
    length = 0
    for row in rows:
        if max_chars is not None and length > max_chars:
            break  # the document's budget is spent: TextBuilder cuts the text and says so
        cells = []
        width = 0
        for i, cell in enumerate(row):
            if i == max_columns:
                cut_columns = True
                break
            cells.append(_cell(cell))
            width += len(cells[-1]) + len(SEPARATOR)
            if max_chars is not None and length + width > max_chars:
                break  # one row of long cells must not hold more than the budget either
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        if len(lines) == max_rows:
            cut_rows = True
            break  # the rest is never read: an enormous table costs no more than max_rows rows
        lines.append(SEPARATOR.join(cells))
        length += len(lines[-1]) + 1
    cuts = [f"the first {max_rows} rows" if cut_rows else "", f"the first {max_columns} columns" if cut_columns else ""]
    kept = " and ".join(c for c in cuts if c)
    warning = f"{name} is too large: only {kept} are indexed" if kept else None
    return TableText("\n".join(lines), warning)


def _cell(value: object) -> str:
    if value is None:
        return ""
    # One row is one line: line breaks inside a cell become spaces.
    return " ".join(str(value).split())
