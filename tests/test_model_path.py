"""RAG_LLM_MODEL_PATH: the local backend on any GGUF file, with a clear reason for a bad one."""
from __future__ import annotations

import shutil
import struct

import pytest

from rag import Assistant, load_settings
from rag.backends.gguf import check_gguf
from rag.errors import ModelUnavailable


def _string(s: str) -> bytes:
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def tiny_gguf(tensor_bytes: int = 64, data: bytes | None = None, template: bool = True) -> bytes:
    """A GGUF v3 file with two metadata keys and one F32 tensor of tensor_bytes / 4 elements."""
    meta = [_string("general.architecture") + struct.pack("<I", 8) + _string("llama")]
    if template:
        meta.append(_string("tokenizer.chat_template") + struct.pack("<I", 8) + _string("{{ messages }}"))
    # an array of strings, as vocabularies are stored
    meta.append(_string("tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, 2) + _string("a") + _string("b"))
    tensor = _string("w") + struct.pack("<I", 1) + struct.pack("<Q", tensor_bytes // 4) + struct.pack("<IQ", 0, 0)
    head = b"GGUF" + struct.pack("<IQQ", 3, 1, len(meta)) + b"".join(meta) + tensor
    head += b"\0" * (-len(head) % 32)
    return head + (data if data is not None else b"\0" * tensor_bytes)


@pytest.mark.parametrize("name,content,reason", [
    ("missing.gguf", None, "does not exist"),
    ("folder.gguf", "dir", "is not a file"),
    ("notes.gguf", b"Hello, I am a text file, not a model.\n", "is not a GGUF model"),
    ("empty.gguf", b"", "is not a GGUF model"),
    ("v9.gguf", b"GGUF" + struct.pack("<I", 9) + b"\0" * 40, "GGUF version 9"),
    ("header-cut.gguf", tiny_gguf()[:40], "ends inside its header"),
    ("data-cut.gguf", tiny_gguf(data=b"\0" * 10), "its tensors need"),
    ("huge-string.gguf", b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 1 << 40), "corrupt header"),
])
def test_a_bad_file_is_named_with_its_reason(tmp_path, name, content, reason):
    path = tmp_path / name
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(ModelUnavailable) as err:
        check_gguf(path)
    assert reason in str(err.value) and str(path) in str(err.value)


def test_the_header_is_read(tmp_path):
    path = tmp_path / "tiny.gguf"
    path.write_bytes(tiny_gguf())
    info = check_gguf(path)
    assert (info.version, info.tensors, info.architecture, info.has_chat_template) == (3, 1, "llama", True)
    path.write_bytes(tiny_gguf(template=False))
    assert check_gguf(path).has_chat_template is False


def test_a_bad_path_reaches_the_asker_as_a_model_error(make, tmp_path):
    base, _ = make()
    bad = tmp_path / "model.gguf"
    bad.write_text("not a model")
    a = Assistant(load_settings(min_score=-1.0, llm_backend="local", llm_model_path=str(bad)),
                  store=base.store, embedder=base.embedder)
    with pytest.raises(ModelUnavailable, match="is not a GGUF model"):
        a.ask("Campuchia đã bắt giữ bao nhiêu nghi phạm?")


@pytest.mark.slow
def test_the_packaged_model_copied_elsewhere_answers(make, tmp_path):
    from rag.backends.model_file import ensure_model
    from tests.conftest import ROOT

    packaged = ensure_model(ROOT / ".rag" / "models")
    copy = tmp_path / "elsewhere" / "my-model.gguf"
    copy.parent.mkdir()
    shutil.copyfile(packaged, copy)
    base, _ = make()
    a = Assistant(load_settings(llm_backend="local", llm_model_path=str(copy)), store=base.store, embedder=base.embedder)
    answer = a.ask("Campuchia đã bắt giữ bao nhiêu nghi phạm?")
    assert not answer.refused and answer.citations
    assert any(n in answer.text for n in ("2.141", "2141", "2,141")), answer.text
    with open(copy, "r+b") as f:  # now cut it: a clear reason, before llama.cpp is asked
        f.truncate(copy.stat().st_size // 2)
    a2 = Assistant(load_settings(llm_backend="local", llm_model_path=str(copy)), store=base.store, embedder=base.embedder)
    with pytest.raises(ModelUnavailable, match="is truncated"):
        a2.ask("Campuchia đã bắt giữ bao nhiêu nghi phạm?")
