"""Checks on a file's bytes before a format library parses them: what the file really is (its magic
bytes, whatever its extension says), and whether a zip container (docx, pptx, xlsx, odt, epub) is
safe and whole enough to open.

Each check raises UnreadableFile with a reason a user can act on. The libraries behind the loaders
read every part of the archive into memory, so the declared sizes are checked here before any is
inflated; Python's zipfile never inflates an entry past its declared size (a lie there ends in a
CRC error), so the declared total also caps the bytes actually read."""
from __future__ import annotations

import io
import zipfile
import zlib
from contextlib import contextmanager
from typing import Iterator

from rag.errors import UnreadableFile

# A real document with photos is well under this once inflated; a zip bomb is far over it.
MAX_UNZIPPED_BYTES = 512 * 2**20
MAX_ENTRIES = 20_000
# Inflated/compressed for one entry. Repetitive XML reaches 20-50x; bombs reach 1000x and more.
# Small entries are let through whatever their ratio (an empty XML part compresses 100x).
MAX_RATIO = 200
RATIO_FLOOR_BYTES = 2**20

# Compound File Binary (OLE2): the container of .doc/.xls/.ppt and of password-protected OOXML files.
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")


def sniff(raw: bytes) -> str:
    """What the bytes are, by their magic: "zip", "pdf", "ole", "text" or "binary"."""
    head = raw[:1024]
    if head.startswith(_ZIP):
        return "zip"
    if head.startswith(_OLE):
        return "ole"
    if b"%PDF-" in head:  # the PDF spec lets the header sit anywhere in the first 1024 bytes
        return "pdf"
    if b"\x00" in raw[:8192]:
        return "binary"
    return "text"


_WHAT = {"zip": "a zip archive", "pdf": "a PDF", "ole": "an old binary Office file", "text": "plain text",
         "binary": "binary data"}


def expect(raw: bytes, kind: str, suffix: str, where: str) -> None:
    """Refuse a file whose content is not what its extension `suffix` promises (`kind`: zip or pdf)."""
    found = sniff(raw)
    if found == kind:
        return
    if found == "ole" and _is_encrypted_office(raw):
        raise UnreadableFile(where, "the file is password-protected (an encrypted Office file); "
                                    "save it without a password to index it")
    raise UnreadableFile(where, f"not a {suffix} file: it holds {_WHAT[found]} (is the extension wrong?)")


def expect_text(raw: bytes, suffix: str, where: str) -> None:
    """Refuse a "text" file that is really a PDF, a zip (docx, epub, ...) or an old Office file."""
    found = sniff(raw)
    if found == "pdf" and not raw.startswith(b"%PDF-"):
        found = "text"  # a text about PDFs may quote the header; a real PDF starts with it
    if found in ("zip", "pdf", "ole"):
        raise UnreadableFile(where, f"not a {suffix or 'text'} file: it holds {_WHAT[found]} (is the extension wrong?)")


def open_zip(raw: bytes, where: str, *, max_bytes: int = MAX_UNZIPPED_BYTES, max_ratio: float = MAX_RATIO,
             ratio_floor: int = RATIO_FLOOR_BYTES) -> zipfile.ZipFile:
    """Open a zip container after checking it is whole, unencrypted and no bomb."""
    try:
        z = zipfile.ZipFile(io.BytesIO(raw))
        infos = z.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as e:
        raise UnreadableFile(where, f"a truncated or damaged archive ({e})") from None
    if len(infos) > MAX_ENTRIES:
        raise UnreadableFile(where, f"the archive holds {len(infos)} files, over the limit of {MAX_ENTRIES}")
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise UnreadableFile(where, f"the archive is encrypted ({info.filename} needs a password)")
        if info.header_offset + info.compress_size > len(raw):
            raise UnreadableFile(where, f"a truncated archive ({info.filename} runs past the end of the file)")
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > ratio_floor and ratio > max_ratio:
            raise UnreadableFile(where, f"looks like a zip bomb: {info.filename} inflates {ratio:.0f} times "
                                        f"(to {_mib(info.file_size)}); refused before extracting")
        total += info.file_size
        if total > max_bytes:
            raise UnreadableFile(where, f"looks like a zip bomb: its files inflate to over {_mib(max_bytes)}; "
                                        f"refused before extracting")
    return z


@contextmanager
def reading(where: str, what: str) -> Iterator[None]:
    """Turn whatever a format library raises on a malformed file into UnreadableFile naming `what`
    ("Word document"): a bad file must be reported, never stop the batch."""
    try:
        yield
    except UnreadableFile:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError) as e:
        raise UnreadableFile(where, f"a damaged archive ({_short(e)})") from None
    except Exception as e:  # noqa: BLE001 - lxml, sax, openpyxl, ebooklib each raise their own types
        raise UnreadableFile(where, f"a damaged {what} ({type(e).__name__}: {_short(e)})") from None


def _short(e: BaseException, limit: int = 200) -> str:
    s = " ".join(str(e).split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _is_encrypted_office(raw: bytes) -> bool:
    # An encrypted docx/xlsx/pptx is an OLE file whose directory names a stream "EncryptedPackage"
    # (directory names are UTF-16-LE).
    return "EncryptedPackage".encode("utf-16-le") in raw


def _mib(n: int) -> str:
    return f"{n / 2**20:.0f} MiB"
