"""The exact text that citation offsets index into, kept in the data directory at ingestion.

For HTML, PDF, office files and EPUB that text is extracted, and the source file may move or
change: so each document's text is kept as `texts/<collection>/<sha256>.txt` (the hash of the
file's bytes), and `rag.document_text(name)` reads it back. Written before the document's chunks,
so a visible document always has its text.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


class TextStore:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def path(self, sha256: str) -> Path:
        if not sha256 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256: {sha256!r}")
        return self.folder / f"{sha256}.txt"

    def put(self, sha256: str, text: str) -> None:
        target = self.path(sha256)
        self.folder.mkdir(parents=True, exist_ok=True)
        # Written whole or not at all: a crash never leaves a cut text that offsets would misread.
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".part")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
                out.write(text)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, sha256: str) -> str | None:
        try:
            with self.path(sha256).open(encoding="utf-8", newline="") as f:
                return f.read()
        except (FileNotFoundError, ValueError):
            return None

    def drop(self, sha256: str) -> None:
        try:
            self.path(sha256).unlink(missing_ok=True)
        except ValueError:
            pass


def text_store(settings) -> TextStore:
    """Where `settings`' collection keeps its documents' texts."""
    return TextStore(Path(settings.home) / "texts" / settings.collection)
