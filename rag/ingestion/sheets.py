"""Text out of spreadsheets: .xlsx (openpyxl, values as last computed, not formulas) and .csv.
Each row is a line of cells joined by " | " (tables.py); an .xlsx sheet is a section located by
its name. Enormous sheets are cut at tables.MAX_ROWS rows, with a warning."""
from __future__ import annotations

import csv
import datetime as dt
import io

from rag.errors import UnreadableFile
from rag.ingestion.archives import expect, open_zip, reading
from rag.ingestion.locations import Extracted, TextBuilder
from rag.ingestion.tables import table_text


def read_xlsx(raw: bytes, where: str) -> Extracted:
    expect(raw, "zip", ".xlsx", where)
    open_zip(raw, where).close()
    with reading(where, "Excel workbook"):
        from openpyxl import load_workbook

        # read_only streams rows from the archive instead of building every cell first.
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        try:
            out = TextBuilder()
            for sheet in book.worksheets:
                out.section(label=sheet.title)
                rows = ([_value(v) for v in row] for row in sheet.iter_rows(values_only=True))
                table = table_text(rows, f"sheet {sheet.title}")
                out.paragraph(table.text)
                if table.warning:
                    out.warn(table.warning)
        finally:
            book.close()
    if out.empty:
        raise UnreadableFile(where, "the workbook has no values")
    return out.build()


def read_csv(text: str, where: str) -> Extracted:
    """`text`: the decoded file (load.py decodes it as any text file)."""
    sample = text[:65536]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel  # one column, or nothing the sniffer recognises
    out = TextBuilder()
    try:
        table = table_text(csv.reader(io.StringIO(text, newline=""), dialect), "the table")
    except csv.Error as e:
        raise UnreadableFile(where, f"not a readable CSV file ({e})") from None
    out.paragraph(table.text)
    if table.warning:
        out.warn(table.warning)
    if out.empty:
        raise UnreadableFile(where, "the table has no values")
    return out.build()


def _value(v: object) -> object:
    if isinstance(v, float) and v.is_integer():
        return int(v)  # 2023.0 is written 2023 in the sheet
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat(sep=" ")
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    return v
