"""Text out of spreadsheets: .xlsx (openpyxl, values as last computed, not formulas) and .csv.
Each row is a line of cells joined by " | " (tables.py); an .xlsx sheet is a section located by
its name. Enormous sheets are cut at tables.MAX_ROWS rows, with a warning."""
from __future__ import annotations

import csv
import datetime as dt
import io

from rag.errors import UnreadableFile
from rag.ingestion.archives import expect, open_zip, reading
from rag.ingestion.locations import MAX_DOCUMENT_CHARS, Extracted, TextBuilder
from rag.ingestion.tables import table_text

_DELIMITERS = (",", ";", "\t", "|")


def read_xlsx(raw: bytes, where: str, limit: int = MAX_DOCUMENT_CHARS) -> Extracted:
    expect(raw, "zip", ".xlsx", where)
    open_zip(raw, where).close()
    with reading(where, "Excel workbook"):
        from openpyxl import load_workbook

        # read_only streams rows from the archive instead of building every cell first.
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        try:
            out = TextBuilder(limit)
            for sheet in book.worksheets:
                if out.full:
                    break
                out.section(label=sheet.title)
                rows = ([_value(v) for v in row] for row in sheet.iter_rows(values_only=True))
                table = table_text(rows, f"sheet {sheet.title}", max_chars=out.room)
                out.paragraph(table.text)
                if table.warning:
                    out.warn(table.warning)
        finally:
            book.close()
    if out.empty:
        raise UnreadableFile(where, "the workbook has no values")
    return out.build()


def read_csv(text: str, where: str, limit: int = MAX_DOCUMENT_CHARS) -> Extracted:
    """`text`: the decoded file (load.py decodes it as any text file)."""
    out = TextBuilder(limit)
    try:
        rows = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
        table = table_text(rows, "the table", max_chars=out.room)
    except csv.Error as e:
        raise UnreadableFile(where, f"not a readable CSV file ({e})") from None
    out.paragraph(table.text)
    if table.warning:
        out.warn(table.warning)
    if out.empty:
        raise UnreadableFile(where, "the table has no values")
    return out.build()


def _delimiter(text: str) -> str:
    """The separator that splits the first lines into the same number of cells most often.
    (csv.Sniffer gives up on short files and on cells with spaces, as "Việt Nam;2141".)"""
    lines = [line for line in text[:65536].splitlines() if line.strip()][:50]
    best, best_score = ",", 0
    for candidate in _DELIMITERS:
        counts = [line.count(candidate) for line in lines]
        usual = max(set(counts), key=counts.count, default=0)
        score = counts.count(usual) if usual else 0
        if score > best_score:
            best, best_score = candidate, score
    return best


def _value(v: object) -> object:
    if isinstance(v, float) and v.is_integer():
        return int(v)  # 2023.0 is written 2023 in the sheet
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat(sep=" ")
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    return v
