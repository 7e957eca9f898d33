"""read_text: exact text (offsets are citations), the encoding used, and clear refusals."""
from __future__ import annotations

import codecs
import hashlib
import random
from pathlib import Path

import pytest

from rag.errors import UnreadableFile
from rag.ingestion.load import SourceText, read_text

FRENCH = "Le ministère a annoncé l’arrestation de 2 000 suspects et saisi 50 millions d’€ à l’étranger.\r\nÉté, café.\n"
SIMPLIFIED = "中国警方加强国际执法合作，打击电信网络诈骗。去年共破获案件三十九万起，同比上升百分之五点七。\n"
TRADITIONAL = "中國警方加強國際執法合作，打擊電信網絡詐騙。去年共破獲案件三十九萬起，同比上升百分之五點七。\n"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


@pytest.mark.parametrize(
    ("raw", "text", "encodings"),
    [
        (FRENCH.encode("utf-8"), FRENCH, {"utf_8"}),
        (codecs.BOM_UTF8 + FRENCH.encode("utf-8"), FRENCH, {"utf_8_sig"}),
        (FRENCH.encode("utf-16"), FRENCH, {"utf_16"}),  # Python writes a BOM
        (codecs.BOM_UTF16_BE + SIMPLIFIED.encode("utf-16-be"), SIMPLIFIED, {"utf_16"}),
        (FRENCH.encode("utf-32"), FRENCH, {"utf_32"}),
        (SIMPLIFIED.encode("gb18030"), SIMPLIFIED, {"gb18030"}),
        (TRADITIONAL.encode("big5"), TRADITIONAL, {"big5", "big5hkscs", "cp950"}),
        (FRENCH.encode("cp1252"), FRENCH, {"cp1252"}),
    ],
    ids=["utf8", "utf8-bom", "utf16-le-bom", "utf16-be-bom", "utf32-bom", "gb18030", "big5", "cp1252"],
)
def test_decodes_exact_text_and_reports_encoding(tmp_path, raw, text, encodings):
    src = read_text(write(tmp_path, "doc.txt", raw))
    assert src.text == text  # no BOM, newlines untouched (\r\n stays \r\n)
    assert src.encoding in encodings
    assert src.name == "doc.txt"
    assert src.path == tmp_path / "doc.txt"


def test_short_chinese_in_legacy_encodings(tmp_path):
    assert read_text(write(tmp_path, "s.txt", "他们抓了多少人？".encode("gb18030"))).text == "他们抓了多少人？"
    assert read_text(write(tmp_path, "t.txt", "他們抓了多少人？".encode("big5"))).text == "他們抓了多少人？"


def test_sha256_is_of_the_raw_bytes(tmp_path):
    raw = codecs.BOM_UTF8 + FRENCH.encode("utf-8")
    src = read_text(write(tmp_path, "doc.txt", raw))
    assert isinstance(src, SourceText)
    assert src.sha256 == hashlib.sha256(raw).hexdigest()
    assert src.sha256 != hashlib.sha256(src.text.encode("utf-8")).hexdigest()


def refusal(path: Path, **kwargs) -> UnreadableFile:
    with pytest.raises(UnreadableFile) as info:
        read_text(path, **kwargs)
    assert info.value.path == str(path)
    assert str(path) in str(info.value)
    return info.value


def test_empty_file(tmp_path):
    assert refusal(write(tmp_path, "empty.txt", b"")).reason == "empty file"


def test_bom_only_file_is_empty(tmp_path):
    assert refusal(write(tmp_path, "bom.txt", codecs.BOM_UTF8)).reason == "empty file"


def test_binary_file_with_nul_bytes(tmp_path):
    raw = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + random.Random(0).randbytes(2000)
    assert "binary file" in refusal(write(tmp_path, "image.txt", raw)).reason


def test_binary_file_without_nul_bytes(tmp_path):
    raw = (b"\x89PNG\r\n\x1a\n" + random.Random(1).randbytes(2000)).replace(b"\x00", b"\x01")
    assert "binary file" in refusal(write(tmp_path, "image.txt", raw)).reason


def test_too_large_file_names_size_and_limit(tmp_path):
    err = refusal(write(tmp_path, "big.txt", b"a" * 101), max_bytes=100)
    assert "101" in err.reason and "100" in err.reason


def test_file_at_the_limit_is_read(tmp_path):
    assert read_text(write(tmp_path, "ok.txt", b"a" * 100), max_bytes=100).text == "a" * 100


def test_invalid_utf16_after_bom(tmp_path):
    err = refusal(write(tmp_path, "bad.txt", codecs.BOM_UTF16_LE + b"a\x00b"))  # odd byte count
    assert "utf_16" in err.reason
