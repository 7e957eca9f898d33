"""Which files an ingestion reads: directories expanded, hidden files left out, types checked."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from rag.errors import PathNotFound


@dataclass(frozen=True)
class Found:
    files: tuple[Path, ...]  # to read, in path order
    ignored: tuple[str, ...]  # of another type, met while walking a directory
    refused: tuple[tuple[str, str], ...]  # (path, reason): named explicitly, of a type not allowed


def find_files(paths: Sequence[Path], suffixes: Iterable[str]) -> Found:
    """Expand directories into the files to read. `suffixes`: the allowed types, like ".txt"."""
    allowed = frozenset(s.lower() for s in suffixes)
    files: list[Path] = []
    ignored: list[str] = []
    refused: list[tuple[str, str]] = []
    for p in paths:
        if not p.exists():
            raise PathNotFound(str(p))
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if not f.is_file() or any(part.startswith(".") for part in f.relative_to(p).parts):
                    continue
                if f.suffix.lower() in allowed:
                    files.append(f)
                else:
                    ignored.append(str(f))
        elif p.suffix.lower() in allowed:
            files.append(p)
        else:
            # Named explicitly, so the user expects it in: say why it is not (a notice would be missed).
            kind = f"type {p.suffix.lower()}" if p.suffix else "a file without an extension"
            types = ", ".join(sorted(s.lstrip(".") for s in allowed))
            refused.append((str(p), f"{kind} is not allowed (RAG_UPLOAD_TYPES: {types})"))
    return Found(tuple(files), tuple(ignored), tuple(refused))
