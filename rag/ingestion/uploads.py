"""The upload policy: what the library accepts from the web page or the HTTP API, and where it keeps it:
the original's bytes in the SQL database (any worker sharing it can re-ingest or delete it), and a
copy in the collection's `uploads/` folder that this worker ingests from.

An upload is refused before anything is written when its name could reach outside the uploads folder
or is hidden, when its type is not one of `RAG_UPLOAD_TYPES`, when it is over `RAG_MAX_FILE_MB`, or
when a different document already holds its name (an upload never replaces what is stored; the same
content again is fine, and reported unchanged by the ingestion).
"""
from __future__ import annotations

import hashlib
import shutil
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path

from rag.errors import InvalidInput, UnreadableFile
from rag.settings import Settings


# What a file name may be on the file systems the uploads folder lives on.
MAX_NAME_BYTES = 255


def check_name(name: str) -> None:
    """Refuse an upload's name that cannot be a file of the uploads folder, naming the rule broken."""
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise InvalidInput("a file name cannot hold NUL or other control characters; rename the file")
    size = len(name.encode("utf-8", "surrogatepass"))
    if size > MAX_NAME_BYTES:
        raise InvalidInput(f"the file name is {size} bytes long (UTF-8); the limit is {MAX_NAME_BYTES}; "
                           "rename the file")
    if not name or name != Path(name).name or name.startswith("."):
        shown = name if len(name) <= 80 else name[:80] + "…"
        raise InvalidInput(f"not a usable file name: {shown!r} (a name without folders that does not start "
                           "with a dot)")


def check_upload(src: Path, name: str, settings: Settings, stored: Mapping[str, str]) -> None:
    """Refuse the upload of file `src` as document `name`, saying why (InvalidInput for the name,
    UnreadableFile for the file); `stored` maps each stored document to its sha256."""
    check_name(name)
    suffix = Path(name).suffix.lower()
    allowed = settings.allowed_suffixes
    if suffix not in allowed:
        raise UnreadableFile(name, f"{suffix or 'no extension'} files are not accepted; "
                                   f"use one of {', '.join(sorted(allowed))} (RAG_UPLOAD_TYPES)")
    if not src.is_file():
        raise UnreadableFile(name, "the uploaded file is missing")
    size_mib = src.stat().st_size / 2**20  # MiB, as `rag ingest` counts
    if size_mib > settings.max_file_mb:
        raise UnreadableFile(name, f"{size_mib:.1f} MiB is over the limit of {settings.max_file_mb:g} MiB "
                                   "(RAG_MAX_FILE_MB)")
    if name in stored and stored[name] != hashlib.sha256(src.read_bytes()).hexdigest():
        raise InvalidInput(f"a different document named {name} is already in the library; "
                           "delete it first or rename the file")


def keep_copy(src: Path, folder: Path, name: str) -> tuple[Path, bool]:
    """Copy the upload into `folder` (it outlives the upload's temporary file): the copy, and
    whether it is new (so that a copy the ingestion then refuses can be removed again)."""
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / name
    fresh = not dest.exists()
    shutil.copyfile(src, dest)
    return dest, fresh


# -- the originals, in the database: any worker sharing it can read, re-ingest or delete them ------

def _originals():
    from rag.database import schema

    return schema.originals


def keep_original(settings: Settings, name: str, data: bytes) -> bool:
    """Store the upload's bytes as `name` of `settings`' collection; True when there was none before
    (so that an original the ingestion then refuses can be removed again)."""
    import sqlalchemy as sa

    from rag.database.engine import database

    table = _originals()
    key = (table.c.collection == settings.collection) & (table.c.name == name)
    row = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "data": data,
           "stored_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    with database(settings).begin() as db:
        if db.execute(sa.select(table.c.name).where(key)).first() is None:
            db.execute(table.insert().values(collection=settings.collection, name=name, **row))
            return True
        db.execute(table.update().where(key).values(**row))
        return False


def original(settings: Settings, name: str) -> bytes | None:
    """The uploaded bytes of document `name`, or None when it was not uploaded (ingested from a folder)."""
    import sqlalchemy as sa

    from rag.database.engine import database, reading

    table = _originals()
    with reading(database(settings)) as db:
        return db.execute(sa.select(table.c.data).where(table.c.collection == settings.collection,
                                                        table.c.name == name)).scalar()


def drop_original(settings: Settings, name: str) -> None:
    from rag.database.engine import database

    table = _originals()
    with database(settings).begin() as db:
        db.execute(table.delete().where(table.c.collection == settings.collection, table.c.name == name))


def forget_collection(settings: Settings) -> None:
    """Every original and kept text of `settings`' collection (the collection is being deleted)."""
    from rag.database.engine import database
    from rag.ingestion.texts import text_store

    table = _originals()
    with database(settings).begin() as db:
        db.execute(table.delete().where(table.c.collection == settings.collection))
    text_store(settings).drop_all()
