"""The upload policy (rag/ingestion/uploads.py): a table of uploads in, the refusal out; nothing ingested."""
from __future__ import annotations

import hashlib

import pytest

from rag import load_settings
from rag.errors import InvalidInput, UnreadableFile
from rag.ingestion.uploads import check_upload, keep_copy

TEXT = b"Cambodia arrested 2,141 suspects.\n"
SHA = hashlib.sha256(TEXT).hexdigest()


@pytest.mark.parametrize("name, content, stored, error, says", [
    ("note.txt", TEXT, {}, None, None),
    ("note.txt", TEXT, {"note.txt": SHA}, None, None),  # the same content again: the ingestion says unchanged
    ("note.txt", TEXT, {"note.txt": "0" * 64}, InvalidInput, "a different document named note.txt"),
    ("", TEXT, {}, InvalidInput, "not a usable file name: ''"),
    ("../escape.txt", TEXT, {}, InvalidInput, "not a usable file name: '../escape.txt'"),
    (".hidden.txt", TEXT, {}, InvalidInput, "not a usable file name"),
    ("tool.exe", TEXT, {}, UnreadableFile, ".exe files are not accepted; use one of"),
    ("README", TEXT, {}, UnreadableFile, "no extension files are not accepted"),
    ("big.txt", b"x" * (2 * 2**20), {}, UnreadableFile, "2.0 MiB is over the limit of 1 MiB (RAG_MAX_FILE_MB)"),
    ("a" * 296 + ".txt", TEXT, {}, InvalidInput, "the file name is 300 bytes long (UTF-8); the limit is 255"),
    ("é" * 127 + ".txt", TEXT, {}, InvalidInput, "the file name is 258 bytes long"),
    ("a" * 251 + ".txt", TEXT, {}, None, None),  # 255 bytes: the most a file system takes
    ("note\x00.txt", TEXT, {}, InvalidInput, "a file name cannot hold NUL or other control characters"),
    ("note\n.txt", TEXT, {}, InvalidInput, "cannot hold NUL or other control characters"),
])
def test_check_upload(tmp_path, name, content, stored, error, says):
    src = tmp_path / "upload.bin"
    src.write_bytes(content)
    settings = load_settings(max_file_mb=1)
    if error is None:
        check_upload(src, name, settings, stored)
    else:
        with pytest.raises(error) as raised:
            check_upload(src, name, settings, stored)
        assert says in str(raised.value)


def test_a_missing_upload_is_said_so(tmp_path):
    with pytest.raises(UnreadableFile, match="the uploaded file is missing"):
        check_upload(tmp_path / "gone.txt", "gone.txt", load_settings(), {})


def test_keep_copy_says_whether_the_copy_is_new(tmp_path):
    src = tmp_path / "upload.bin"
    src.write_bytes(TEXT)
    dest, fresh = keep_copy(src, tmp_path / "uploads", "note.txt")
    assert dest == tmp_path / "uploads" / "note.txt" and dest.read_bytes() == TEXT and fresh
    assert keep_copy(src, tmp_path / "uploads", "note.txt") == (dest, False)
