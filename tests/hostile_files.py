"""A hostile corpus, generated small: each file is a few hundred bytes to a megabyte and attacks one
bound of the readers or one pattern of cleaning and chunking (see docs/reliability.md, "Hostile
documents"). Built by the tests, never stored."""
from __future__ import annotations

import re

from tests.format_files import epub_parts, make_pptx, odt_parts, zip_bytes

MB = 2**20
TEXT_BYTES = 256 * 1024


def odt_space_bomb(count: int = 500_000_000, elements: int = 1) -> bytes:
    """A few hundred bytes whose content claims `count` spaces per <text:s> element."""
    parts = odt_parts([("p", "Bonjour")])
    parts["content.xml"] = parts["content.xml"].replace(
        "<text:p>Bonjour</text:p>", "<text:p>Bonjour" + f'<text:s text:c="{count}"/>x' * elements + "</text:p>")
    return zip_bytes(parts, stored_first="mimetype")


def odt_repeated_table(rows: int = 1_000_000_000, columns: int = 1_000, cell: str = "word " * 200) -> bytes:
    """One row of one long cell, repeated over `columns` columns and `rows` rows."""
    parts = odt_parts([("p", "Tableau")])
    table = (f'<table:table table:name="T"><table:table-row table:number-rows-repeated="{rows}">'
             f'<table:table-cell table:number-columns-repeated="{columns}"><text:p>{cell}</text:p></table:table-cell>'
             "</table:table-row></table:table>")
    parts["content.xml"] = parts["content.xml"].replace("<text:p>Tableau</text:p>", "<text:p>Tableau</text:p>" + table)
    return zip_bytes(parts, stored_first="mimetype")


def epub_repeated_spine(times: int = 20_000, paragraph: str = "Une phrase du chapitre. " * 2000) -> bytes:
    """A book whose spine names its one chapter `times` times."""
    parts = epub_parts([("Chapitre", paragraph)])
    parts["OEBPS/content.opf"] = parts["OEBPS/content.opf"].replace(
        '<itemref idref="c1"/>', '<itemref idref="c1"/>' * times)
    return zip_bytes(parts, stored_first="mimetype")


def pptx_duplicate_slides(times: int = 5_000) -> bytes:
    """A deck whose slide list names its one slide `times` times."""
    import io
    import zipfile

    raw = make_pptx([{"title": "Titre", "body": ["Une ligne de texte. " * 500]}])
    src = zipfile.ZipFile(io.BytesIO(raw))
    parts = {name: src.read(name) for name in src.namelist()}
    xml = parts["ppt/presentation.xml"].decode()
    entry = re.search(r"<p:sldId [^>]*/>", xml).group(0)
    parts["ppt/presentation.xml"] = xml.replace(entry, entry * times).encode()
    return zip_bytes(parts)


def text_runs(unit: str, size: int = MB) -> bytes:
    """`unit` repeated to `size` bytes (UTF-8)."""
    raw = unit.encode()
    return (raw * (size // len(raw) + 1))[:size]


# Runs of every opener and delimiter that the patterns of cleaning and chunking use, and the
# HTML scanner's ("<a " made html.parser quadratic).
TEXT_UNITS = {
    "comment-openers": "<!--",
    "dots": ".",
    "list-numbers": "a. ",
    "initials": "A. ",
    "numbers": "1. ",
    "ellipses": "a... ",
    "exclamations": "!",
    "comma-sentence": "mot, ",
    "semicolons": "a; ",
    "tag-openers": "<a ",
    "entities": "&amp",
    "closers": ".»",
    "cjk-stops": "中。",
    "bang-before-han": "!!中",
    "spaces": " ",
    "glued": "aB",
    "salad": "mot | ",
    "crumbs": "a > ",
}


def corpus() -> dict[str, bytes]:
    """name -> bytes: every hostile file the server test uploads."""
    files = {
        "space-bomb.odt": odt_space_bomb(),
        "space-bombs.odt": odt_space_bomb(count=10_000_000, elements=2_000),
        "repeated-table.odt": odt_repeated_table(),
        "repeated-spine.epub": epub_repeated_spine(),
        "duplicate-slides.pptx": pptx_duplicate_slides(),
    }
    # 128 KB each: enough for a quadratic pattern to take a minute (tests/test_linear_text.py times
    # 1 MB of each in one process); indexing more of it would time the embedded store's writes (about
    # 0.5 ms a record, docs/reliability.md), not the reading.
    for name, unit in TEXT_UNITS.items():
        files[f"{name}.txt"] = text_runs(unit, TEXT_BYTES // 2)
    files["tag-openers.html"] = text_runs("<a ", TEXT_BYTES // 2)
    files["comment-openers.html"] = text_runs("<!--<a x", TEXT_BYTES // 2)
    return files
