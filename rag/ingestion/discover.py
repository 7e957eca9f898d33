"""Which files an ingestion reads, and the name each one gets: directories expanded, hidden files
left out, types checked.

A document's name is its path relative to the folder it was found in ("notes/2024/plan.md"), or
its file name when the file was given directly: two files of the same name in two sub-folders
stay two documents."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from rag.errors import PathNotFound


@dataclass(frozen=True)
class FoundFile:
    path: Path
    name: str  # the document's name: relative to the folder given, "/"-separated


@dataclass(frozen=True)
class Found:
    files: tuple[FoundFile, ...]  # to read, in path order
    ignored: tuple[tuple[str, str], ...]  # (path, reason): of another type, met while walking a directory
    refused: tuple[tuple[str, str], ...]  # (path, reason): named explicitly, of a type not allowed


def find_files(paths: Sequence[Path], suffixes: Iterable[str], data_dir: Path | None = None) -> Found:
    """Expand directories into the files to read. `suffixes`: the allowed types, like ".txt".
    `data_dir`: the index's own folder, never walked (its kept texts would come back as documents)."""
    allowed = frozenset(s.lower() for s in suffixes)
    own = Path(data_dir).resolve() if data_dir is not None else None
    types = ", ".join(sorted(s.lstrip(".") for s in allowed))
    files: list[FoundFile] = []
    ignored: list[tuple[str, str]] = []
    refused: list[tuple[str, str]] = []
    for p in paths:
        if not p.exists():
            raise PathNotFound(str(p))
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                relative = f.relative_to(p)
                if not f.is_file() or any(part.startswith(".") for part in relative.parts):
                    continue
                if own is not None and own in f.resolve().parents:
                    continue
                if f.suffix.lower() in allowed:
                    files.append(FoundFile(f, relative.as_posix()))
                else:
                    ignored.append((str(f), _not_allowed(f, types)))
        elif p.suffix.lower() in allowed:
            files.append(FoundFile(p, p.name))
        else:
            # Named explicitly, so the user expects it in: say why it is not (a notice would be missed).
            refused.append((str(p), _not_allowed(p, types)))
    return Found(tuple(files), tuple(ignored), tuple(refused))


def _not_allowed(p: Path, types: str) -> str:
    kind = f"type {p.suffix.lower()}" if p.suffix else "a file without an extension"
    return f"{kind} is not allowed (RAG_UPLOAD_TYPES: {types})"
