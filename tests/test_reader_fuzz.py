"""Each reader fed mutated valid files: truncated, bit-flipped, a part removed, repeated or cut. The
only acceptable outcomes are a text or the project's clear error (UnreadableFile), never another
exception (which the server would answer with a 500)."""
from __future__ import annotations

import io
import random
import warnings
import zipfile

import pytest

from rag.errors import UnreadableFile
from rag.ingestion import ocr
from rag.ingestion.load import read_text
from tests.format_files import make_docx, make_epub, make_odt, make_pdf, make_pptx, make_xlsx, zip_bytes

TEXT = "Le musée a rouvert ses portes le 3 mai. The museum reopened on May 3."
SEED = 20261207


@pytest.fixture(scope="module")
def valid() -> dict[str, bytes]:
    return {
        ".docx": make_docx([("h", "Titre"), ("p", TEXT), ("table", [["a", "b"], ["1", "2"]])], footnote="Une note."),
        ".odt": make_odt([("h", "Titre"), ("p", TEXT), ("table", [["a", "b"], ["1", "2"]])], footnote="Une note."),
        ".epub": make_epub([("Un", TEXT), ("Deux", TEXT)], footnote="Une note."),
        ".pptx": make_pptx([{"title": "Titre", "body": [TEXT], "notes": "Des notes."},
                            {"title": "Table", "table": [["a", "b"], ["1", "2"]]}]),
        ".xlsx": make_xlsx({"Feuille": [["a", "b"], [TEXT, 2]]}),
        ".pdf": make_pdf([TEXT, TEXT]),
        ".html": f"<html><head><title>T</title></head><body><h1>Titre</h1><p>{TEXT}</p></body></html>".encode(),
        ".csv": f"a;b\n{TEXT};2\n".encode(),
        ".txt": TEXT.encode(),
    }


def byte_mutations(raw: bytes, rng: random.Random) -> list[bytes]:
    out = [raw[:n] for n in sorted({1, 10, len(raw) // 4, len(raw) // 2, len(raw) - 30, len(raw) - 1}) if 0 < n < len(raw)]
    for _ in range(12):
        flipped = bytearray(raw)
        for _ in range(rng.choice([1, 4, 32])):
            i = rng.randrange(len(flipped))
            flipped[i] ^= 1 << rng.randrange(8)
        out.append(bytes(flipped))
    return out


def part_mutations(raw: bytes, rng: random.Random) -> list[bytes]:
    """For zip containers: each part removed, the XML parts cut in half, repeated, or emptied."""
    z = zipfile.ZipFile(io.BytesIO(raw))
    parts = {name: z.read(name) for name in z.namelist()}
    out = []
    for name in parts:
        rest = {k: v for k, v in parts.items() if k != name}
        if rest:
            out.append(zip_bytes(rest))
        if name.endswith((".xml", ".xhtml", ".opf", ".ncx", ".rels")):
            out.append(zip_bytes({**parts, name: parts[name][: len(parts[name]) // 2]}))
            out.append(zip_bytes({**parts, name: b""}))
            out.append(zip_bytes({**parts, name: parts[name] * 2}))  # two roots: not well-formed
    # a zip holding the same name twice
    buf = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w") as dup:
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": what this mutant is
        for name, data in parts.items():
            dup.writestr(name, data)
        name = rng.choice(sorted(parts))
        dup.writestr(name, parts[name])
    out.append(buf.getvalue())
    return out


@pytest.mark.parametrize("suffix", [".docx", ".odt", ".epub", ".pptx", ".xlsx", ".pdf", ".html", ".csv", ".txt"])
def test_mutated_files_are_read_or_refused_clearly(tmp_path, valid, suffix, monkeypatch):
    if suffix == ".pdf":
        # A PDF mutant whose text layer breaks is rendered (PDFium, real) and read by OCR: the page
        # image is well-formed whatever the mutation, so Tesseract's reading of it (most of this
        # case's time) is the slow test's below; here it reads a fixed line.
        monkeypatch.setattr(ocr, "read_image", lambda image: ocr.PageText("Texte lu.", 90.0, "fra", 0.0))
    check_mutants(tmp_path, valid, suffix)


@pytest.mark.slow
def test_mutated_pdfs_are_read_or_refused_clearly_with_real_ocr(tmp_path, valid):
    check_mutants(tmp_path, valid, ".pdf")


def check_mutants(tmp_path, valid, suffix):
    rng = random.Random(f"{SEED}{suffix}")
    raw = valid[suffix]
    mutants = byte_mutations(raw, rng)
    if raw.startswith(b"PK"):
        mutants += part_mutations(raw, rng)
    outcomes = {"read": 0, "refused": 0}
    for i, mutant in enumerate(mutants):
        path = tmp_path / f"m{i}{suffix}"
        path.write_bytes(mutant)
        try:
            source = read_text(path)
        except UnreadableFile as e:
            assert e.reason and "Traceback" not in e.reason
            outcomes["refused"] += 1
        except Exception as e:  # noqa: BLE001 - the failure this test looks for
            pytest.fail(f"mutant {i} of {suffix} raised {type(e).__name__}: {e}")
        else:
            assert isinstance(source.text, str) and source.text
            outcomes["read"] += 1
    assert outcomes["read"] + outcomes["refused"] == len(mutants)
    if suffix in (".docx", ".odt", ".epub", ".pptx", ".xlsx", ".pdf"):
        assert outcomes["refused"] > 0  # truncated containers must be refused, else the mutants prove nothing
