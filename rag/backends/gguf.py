"""Checking a GGUF model file before llama.cpp loads it, so a bad file gets a clear reason.

llama.cpp's own error for a missing, truncated or foreign file is one line ("Failed to load model
from file"). Reading the header here (magic, version, metadata, tensor table) tells them apart: the
file is not there, is not GGUF at all, ends inside its header, or ends before its tensor data does.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from rag.errors import ModelUnavailable

MAGIC = b"GGUF"

# ggml tensor types: (elements per block, bytes per block). A type not listed is not size-checked.
_BLOCKS: dict[int, tuple[int, int]] = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34), 9: (32, 36),
    10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210), 15: (256, 292),
    16: (256, 66), 17: (256, 74), 18: (256, 98), 19: (256, 50), 20: (32, 18), 21: (256, 110),
    22: (256, 82), 23: (256, 136), 24: (1, 1), 25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8),
    29: (256, 56), 30: (1, 2),
}
# Metadata value types: fixed-size scalars by their struct code; 8 is a string, 9 an array.
_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9
_MAX_STRING = 1 << 26  # no honest key or template is 64 MiB: a larger length means a corrupt header


@dataclass(frozen=True)
class GgufInfo:
    version: int
    tensors: int
    architecture: str | None
    name: str | None
    has_chat_template: bool
    size: int


class _Truncated(Exception):
    pass


class _Reader:
    def __init__(self, f: BinaryIO) -> None:
        self.f = f

    def take(self, n: int) -> bytes:
        data = self.f.read(n)
        if len(data) != n:
            raise _Truncated()
        return data

    def scalar(self, code: str):
        return struct.unpack("<" + code, self.take(struct.calcsize(code)))[0]

    def string(self) -> str:
        n = self.scalar("Q")
        if n > _MAX_STRING:
            raise ValueError(f"a header string claims {n} bytes")
        return self.take(n).decode("utf-8", errors="replace")

    def value(self, kind: int):
        if kind in _SCALARS:
            return self.scalar(_SCALARS[kind])
        if kind == _STRING:
            return self.string()
        if kind == _ARRAY:
            inner, count = self.scalar("I"), self.scalar("Q")
            if inner in _SCALARS:  # skip without building a list (vocabularies hold 150k entries)
                self.take(count * struct.calcsize(_SCALARS[inner]))
                return None
            for _ in range(count):
                self.value(inner)
            return None
        raise ValueError(f"unknown metadata type {kind}")


def check_gguf(path: str | Path) -> GgufInfo:
    """Read and check the header of a GGUF file; raise ModelUnavailable naming what is wrong."""
    path = Path(path).expanduser()
    where = f"the model file {path} (RAG_LLM_MODEL_PATH)"
    if not path.exists():
        raise ModelUnavailable(f"{where} does not exist")
    if not path.is_file():
        raise ModelUnavailable(f"{where} is not a file")
    size = path.stat().st_size
    try:
        with path.open("rb") as f:
            r = _Reader(f)
            if f.read(4) != MAGIC:
                raise ModelUnavailable(f"{where} is not a GGUF model (it does not start with 'GGUF'); "
                                       "llama.cpp reads only GGUF files")
            version = r.scalar("I")
            if version not in (2, 3):
                raise ModelUnavailable(f"{where} is GGUF version {version}; this llama.cpp reads versions 2 and 3")
            tensors, keys = r.scalar("Q"), r.scalar("Q")
            meta: dict[str, object] = {}
            for _ in range(keys):
                key = r.string()
                meta[key] = r.value(r.scalar("I"))
            infos = []
            for _ in range(tensors):
                r.string()
                dims = [r.scalar("Q") for _ in range(r.scalar("I"))]
                kind, offset = r.scalar("I"), r.scalar("Q")
                infos.append((dims, kind, offset))
            alignment = int(meta.get("general.alignment") or 32)
            start = -(-f.tell() // alignment) * alignment
    except _Truncated:
        raise ModelUnavailable(f"{where} is truncated: it ends inside its header ({size} bytes)") from None
    except (ValueError, struct.error) as e:
        raise ModelUnavailable(f"{where} has a corrupt header: {e}") from None
    except OSError as e:
        raise ModelUnavailable(f"cannot read {where}: {e.strerror or e}") from None
    end = start
    for dims, kind, offset in infos:
        elements = 1
        for d in dims:
            elements *= d
        per_block, block_bytes = _BLOCKS.get(kind, (1, 0))
        end = max(end, start + offset + elements // per_block * block_bytes)
    if end > size:
        raise ModelUnavailable(f"{where} is truncated: its tensors need {end} bytes, the file has {size} "
                               "(an interrupted download or copy?)")
    arch = meta.get("general.architecture")
    return GgufInfo(
        version=version, tensors=tensors, architecture=arch if isinstance(arch, str) else None,
        name=meta.get("general.name") if isinstance(meta.get("general.name"), str) else None,
        has_chat_template=isinstance(meta.get("tokenizer.chat_template"), str), size=size,
    )
