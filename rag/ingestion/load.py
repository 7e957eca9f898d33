"""Loading: a file's bytes -> its exact text, with the encoding that was used and a content hash.

The text is the decoded file (for HTML, PDF, office files, EPUB and sheets, the text extracted from
it, with the location of each page, slide or section; for images and scanned pages, the text OCR read) and nothing else (no newline or Unicode
normalisation): citations are character offsets into it, so any rewriting here would move them.
Only a byte-order mark is left out, because it is an encoding signal, not content.
"""
from __future__ import annotations

import codecs
import hashlib
import importlib
from dataclasses import dataclass
from pathlib import Path

from rag.errors import PathNotFound, UnreadableFile
from rag.ingestion.archives import expect_text
from rag.ingestion.images import IMAGE_TYPES  # light: PIL is imported when an image is read
from rag.ingestion.locations import MAX_DOCUMENT_CHARS, Extracted, Location, over_budget

# Formats read by a library: suffix -> (module, function(raw, where) -> Extracted). Imported on
# first use: each library takes time to import and most files are plain text.
LOADERS: dict[str, tuple[str, str]] = {
    ".pdf": ("rag.ingestion.formats", "read_pdf"),
    ".docx": ("rag.ingestion.office", "read_docx"),
    ".odt": ("rag.ingestion.office", "read_odt"),
    ".pptx": ("rag.ingestion.slides", "read_pptx"),
    ".epub": ("rag.ingestion.epub", "read_epub"),
    ".xlsx": ("rag.ingestion.sheets", "read_xlsx"),
    # photos and scans, read by OCR
    **{suffix: ("rag.ingestion.images", "read_image") for suffix in IMAGE_TYPES},
}
# Formats decoded as text here (HTML and CSV then read into text); with LOADERS, every type there is
# a reader for: RAG_UPLOAD_TYPES may name only these.
TEXT_TYPES = (".txt", ".text", ".md", ".markdown", ".html", ".htm", ".csv")
READABLE = (*TEXT_TYPES, *LOADERS)

# Longest BOMs first: the UTF-32-LE BOM starts with the UTF-16-LE one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf_32"),
    (codecs.BOM_UTF32_BE, "utf_32"),
    (codecs.BOM_UTF8, "utf_8_sig"),
    (codecs.BOM_UTF16_LE, "utf_16"),
    (codecs.BOM_UTF16_BE, "utf_16"),
)

# Bytes that never occur in text files (C0 controls except tab, newlines, form feed and escape).
_CONTROL_BYTES = frozenset([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x1B), *range(0x1C, 0x20)])

# charset_normalizer often finds several decodings that are equally clean (one byte sequence is
# valid GB18030 and Shift-JIS; a cp1252 French page also decodes as mac_latin2). Among those, the
# more coherent one wins, then the one more commonly met in practice, in this order.
_COMMON = ("utf_8", "gb18030", "big5", "cp1252", "latin_1", "shift_jis", "euc_jp", "euc_kr", "cp1251", "cp1258")
_CHAOS_TOLERANCE = 0.05
_MAX_CHAOS = 0.2  # above this share of "mess" the decoding is not credible


@dataclass(frozen=True)
class SourceText:
    """A file read as text: `text` is exactly what citations index into."""

    name: str
    path: Path
    text: str
    encoding: str
    sha256: str
    # Where each part of `text` comes from (PDF pages, slides, chapters, headings); empty for plain text.
    locations: tuple[Location, ...] = ()
    # What the reader should know about what was left out: pages without text, tables cut short.
    warnings: tuple[str, ...] = ()


def read_text(path: Path, max_bytes: int | None = None, name: str | None = None,
              max_chars: int = MAX_DOCUMENT_CHARS) -> SourceText:
    """Read and decode `path`; raise UnreadableFile when it is empty, binary, too large or undecodable.
    `name`: the document's name (see discover.py), by default the file name. `max_chars`: the text
    budget (RAG_MAX_DOCUMENT_CHARS); every reader stops there and says so in the warnings."""
    path = Path(path)
    where = str(path)
    try:
        # Check the size before reading so a huge file is never loaded into memory.
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise UnreadableFile(where, f"file is {_size(size)}, over the limit of {_size(max_bytes)}")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PathNotFound(where) from None
    except IsADirectoryError:
        raise UnreadableFile(where, "is a directory") from None
    except OSError as e:
        raise UnreadableFile(where, e.strerror or str(e)) from None
    if max_bytes is not None and len(raw) > max_bytes:  # the file grew after stat()
        raise UnreadableFile(where, f"file is {_size(len(raw))}, over the limit of {_size(max_bytes)}")
    if not raw:
        raise UnreadableFile(where, "empty file")
    suffix = path.suffix.lower()
    extracted: Extracted | None = None
    if suffix in LOADERS:
        module, function = LOADERS[suffix]
        extracted = getattr(importlib.import_module(module), function)(raw, where, limit=max_chars)
        text, encoding = extracted.text, suffix[1:]
    else:
        expect_text(raw, suffix, where)
        text, encoding = _decode(raw, where)
        if suffix in (".html", ".htm"):
            from rag.ingestion.formats import read_html

            extracted = read_html(text, where, limit=max_chars)
            text, encoding = extracted.text, f"{encoding}, html"
        elif suffix == ".csv" and text:
            from rag.ingestion.sheets import read_csv

            extracted = read_csv(text, where, limit=max_chars)
            text, encoding = extracted.text, f"{encoding}, csv"
        elif len(text) > max_chars:
            extracted = Extracted(text[:max_chars], warnings=(over_budget(max_chars),))
            text = extracted.text
    if not text:
        raise UnreadableFile(where, "empty file")  # a BOM and nothing else
    return SourceText(
        name=name or path.name,
        path=path,
        text=text,
        encoding=encoding,
        sha256=hashlib.sha256(raw).hexdigest(),
        locations=extracted.locations if extracted else (),
        warnings=extracted.warnings if extracted else (),
    )


def _size(n: int) -> str:
    return f"{n} bytes ({n / 2**20:.1f} MiB)"


def _decode(raw: bytes, where: str) -> tuple[str, str]:
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                # These codecs consume the BOM, so it never becomes part of the text.
                return raw.decode(encoding), encoding
            except UnicodeDecodeError as e:
                reason = f"starts with a {encoding} byte-order mark but is not valid {encoding}"
                raise UnreadableFile(where, f"{reason}: {e.reason} at byte {e.start}") from None
    if b"\x00" in raw:
        # Without a BOM, NUL bytes mean a binary format (UTF-16 text always carries a BOM in practice).
        raise UnreadableFile(where, "binary file (contains NUL bytes)")
    controls = sum(1 for b in raw if b in _CONTROL_BYTES)
    if controls > max(2, len(raw) // 100):
        raise UnreadableFile(where, f"binary file ({controls} control bytes in {len(raw)})")
    try:
        return raw.decode("utf_8"), "utf_8"
    except UnicodeDecodeError:
        pass
    return _detect(raw, where)


def _detect(raw: bytes, where: str) -> tuple[str, str]:
    # Imported here: charset_normalizer loads its tables on import and most files are UTF-8.
    from charset_normalizer import from_bytes

    matches = [m for m in from_bytes(raw, threshold=_MAX_CHAOS) if m.chaos <= _MAX_CHAOS]
    if not matches:
        raise UnreadableFile(where, "binary file or unknown text encoding (no encoding decodes it cleanly)")
    least = min(m.chaos for m in matches)
    close = [m for m in matches if m.chaos <= least + _CHAOS_TOLERANCE]

    def rank(m) -> tuple[float, float, int]:
        common = _COMMON.index(m.encoding) if m.encoding in _COMMON else len(_COMMON)
        return (-round(m.coherence, 2), m.chaos, common)

    best = min(close, key=rank)
    try:
        return raw.decode(best.encoding), best.encoding
    except (UnicodeDecodeError, LookupError) as e:  # charset_normalizer may accept a slightly lossy decode
        raise UnreadableFile(where, f"looks like {best.encoding} but does not decode: {e}") from None
