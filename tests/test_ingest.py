"""Idempotent ingestion with the fake embedder, over the in-memory store (the first two tests: the
real Chroma store, so that the pipeline is also checked against it in the fast suite)."""
from __future__ import annotations

import pytest

from rag import Assistant, load_settings
from rag.errors import IndexBusy, PathNotFound
from rag.ingestion.lock import index_lock

SPAM = ("无码", "毛片", "fomfv", "<th", "Comment(s)")


class CountingStore:
    """Wraps a store and counts the calls that write."""

    def __init__(self, inner):
        self.inner = inner
        self.writes = 0

    def add(self, records):
        self.writes += 1
        return self.inner.add(records)

    def delete_document(self, document):
        self.writes += 1
        return self.inner.delete_document(document)

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.fixture
def assistant():
    return Assistant(load_settings())


def stored(assistant):
    return {d: metas for d, metas in assistant.store.documents().items()}


@pytest.mark.chroma
def test_first_ingest_adds_every_seed_and_offsets_are_exact(assistant, seeds_copy):
    report = assistant.ingest([seeds_copy])
    assert sorted(report.added) == sorted(p.name for p in seeds_copy.glob("*.txt"))
    assert report.chunks == assistant.store.count() > 5
    for doc in report.added:
        original = (seeds_copy / doc).read_text(encoding="utf-8")
        for hit in assistant.store.get_document(doc):
            m = hit.metadata
            assert original[m["start"] : m["end"]] == hit.text
            assert not any(s in hit.text for s in SPAM), hit.text


def test_a_readme_in_a_users_folder_is_ingested_like_any_other_file(assistant, tmp_path):
    docs = tmp_path / "notes"
    (docs / "sub").mkdir(parents=True)
    readme = ("# Warehouse notes\n\nThe Lyon warehouse opened in March 2019 and ships about "
              "four hundred parcels a day to the eastern regions.\n")
    (docs / "README.md").write_text(readme, encoding="utf-8")
    (docs / "sub" / "readme.md").write_text(readme.replace("Lyon", "Lille"), encoding="utf-8")
    (docs / "plan.txt").write_text("The plan for next year is to open a second warehouse near Marseille.\n",
                                   encoding="utf-8")
    report = assistant.ingest([docs])
    # Named by their path in the folder: sub/readme.md is its own document.
    assert sorted(report.added) == ["README.md", "plan.txt", "sub/readme.md"]
    assert not report.skipped
    assert any("Lyon warehouse" in h.text for h in assistant.store.get_document("README.md"))
    assert any("Lille warehouse" in h.text for h in assistant.store.get_document("sub/readme.md"))


@pytest.mark.chroma
def test_second_ingest_writes_nothing(seeds_copy):
    first = Assistant(load_settings())
    first.ingest([seeds_copy])
    before = first.store.count()
    counting = CountingStore(first.store)
    again = Assistant(load_settings(), store=counting, embedder=first.embedder)
    report = again.ingest([seeds_copy])
    assert len(report.unchanged) == 5 and not (report.added or report.updated or report.repaired)
    assert report.chunks == 0 and counting.writes == 0
    assert again.store.count() == before


def test_edit_replaces_exactly_that_documents_chunks(assistant, seeds_copy):
    assistant.ingest([seeds_copy])
    target = seeds_copy / "003_912a6ae6278a5b97.txt"
    others_before = {d: sorted(h.id for h in assistant.store.get_document(d))
                     for d in stored(assistant) if d != target.name}
    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace("2.141 nghi phạm", "3.000 nghi phạm"), encoding="utf-8")
    report = assistant.ingest([seeds_copy])
    assert report.updated == (target.name,)
    assert len(report.unchanged) == 4
    new_text = target.read_text(encoding="utf-8")
    hits = assistant.store.get_document(target.name)
    assert any("3.000 nghi phạm" in h.text for h in hits)
    assert not any("2.141 nghi phạm" in h.text for h in hits)
    assert all(new_text[h.metadata["start"] : h.metadata["end"]] == h.text for h in hits)
    others_after = {d: sorted(h.id for h in assistant.store.get_document(d))
                    for d in stored(assistant) if d != target.name}
    assert others_after == others_before


def test_prune_removes_documents_whose_files_are_gone(assistant, seeds_copy):
    assistant.ingest([seeds_copy])
    gone = seeds_copy / "000_e2aec77d374aef68.txt"
    gone.unlink()
    report = assistant.ingest([seeds_copy])  # without --prune nothing is removed
    assert report.removed == () and gone.name in stored(assistant)
    report = assistant.ingest([seeds_copy], prune=True)
    assert report.removed == (gone.name,)
    assert gone.name not in stored(assistant)
    assert assistant.store.get_document(gone.name) == []


def test_half_written_document_is_detected_and_rebuilt(assistant, seeds_copy):
    assistant.ingest([seeds_copy])
    doc = "002_f3a0f75631bd8566.txt"
    hits = assistant.store.get_document(doc)
    full = len(hits)
    # Simulate a crash mid-write: keep only the first chunk of the document.
    first = hits[0]
    assistant.store.delete_document(doc)
    from store import Record

    assistant.store.add([Record(first.id, doc, first.text, assistant.embedder.get_text_embedding(first.text),
                                dict(first.metadata))])
    report = assistant.ingest([seeds_copy])
    assert report.repaired == (doc,)
    assert any(doc in n and "incomplete" in n for n in report.notices)
    assert len(assistant.store.get_document(doc)) == full


def test_changed_chunk_settings_rebuild_and_say_so(seeds_copy, monkeypatch):
    Assistant(load_settings()).ingest([seeds_copy])
    monkeypatch.setenv("RAG_CHUNK_SIZE", "300")
    report = Assistant(load_settings()).ingest([seeds_copy])
    assert len(report.repaired) == 5
    assert all("other chunking or embedding settings" in n for n in report.notices if "stored copy" in n)


def test_unreadable_files_are_skipped_with_reasons_and_nothing_else_is_lost(assistant, seeds_copy):
    (seeds_copy / "empty.txt").write_bytes(b"")
    (seeds_copy / "blob.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00" + bytes(range(256)) * 4)
    (seeds_copy / "picture.png").write_bytes(b"\x89PNG")
    report = assistant.ingest([seeds_copy])
    reasons = dict(report.skipped)
    assert "empty file" in reasons[str(seeds_copy / "empty.txt")]
    assert "binary" in reasons[str(seeds_copy / "blob.txt")]
    assert reasons[str(seeds_copy / "picture.png")] == (
        "not a readable image (damaged, or not PNG, JPEG, TIFF or WebP)")  # images are read now, this one is broken
    assert len(report.added) == 5
    (seeds_copy / "picture.png").unlink()
    (seeds_copy / "slides.key").write_bytes(b"PK\x03\x04")
    report = assistant.ingest([seeds_copy])
    assert any("slides.key" in n for n in report.notices)  # a type that is not read is named, not skipped silently


def test_missing_path_is_an_error(assistant, tmp_path):
    with pytest.raises(PathNotFound, match="no such file or directory"):
        assistant.ingest([tmp_path / "nope"])


def test_second_ingestion_at_once_fails_clearly(assistant, seeds_copy):
    with index_lock(assistant.settings.home):
        with pytest.raises(IndexBusy, match="another ingestion is running"):
            assistant.ingest([seeds_copy])


def _keyword_ids(a):
    return {d: ids for d, ids in a.keywords.ids_by_document().items()}


def _store_ids(a):
    return {d: {h.id for h in a.store.get_document(d)} for d in a.store.documents()}


@pytest.fixture
def kw_assistant():
    return Assistant(load_settings(retrieval="dense,keyword"))


def test_keyword_index_follows_edits_deletions_and_prune(kw_assistant, seeds_copy):
    a = kw_assistant
    a.ingest([seeds_copy])
    assert _keyword_ids(a) == _store_ids(a) and a.keywords.count() == a.store.count()
    target = seeds_copy / "003_912a6ae6278a5b97.txt"
    target.write_text(target.read_text(encoding="utf-8").replace("2.141", "3.777"), encoding="utf-8")
    a.ingest([seeds_copy])
    assert _keyword_ids(a) == _store_ids(a)
    assert [i for i, _ in a.keywords.search("3.777", 3)][0].startswith(target.name)
    assert not [i for i, _ in a.keywords.search("2141", 3) if i.startswith(target.name)]
    (seeds_copy / "000_e2aec77d374aef68.txt").unlink()
    a.ingest([seeds_copy], prune=True)
    assert _keyword_ids(a) == _store_ids(a) and "000_e2aec77d374aef68.txt" not in _keyword_ids(a)


def test_keyword_index_out_of_step_is_rebuilt_and_reported(kw_assistant, seeds_copy):
    a = kw_assistant
    a.ingest([seeds_copy])
    a.keywords.delete_document("002_f3a0f75631bd8566.txt")  # as if a run died between the two writes
    report = a.ingest([seeds_copy])
    assert report.chunks == 0  # nothing re-embedded
    assert "002_f3a0f75631bd8566.txt: keyword index was out of step with the vector store; rebuilt" in report.notices
    assert _keyword_ids(a) == _store_ids(a)


def test_missing_keyword_file_is_rebuilt_from_the_store(seeds_copy):
    a = Assistant(load_settings(retrieval="dense,keyword"))
    a.ingest([seeds_copy])
    a.keywords.close()
    for f in a.settings.home.glob("keywords.*"):
        f.unlink()
    b = Assistant(load_settings(retrieval="dense,keyword"))
    report = b.ingest([seeds_copy])
    assert report.chunks == 0 and len(report.notices) == 5
    assert _keyword_ids(b) == _store_ids(b)
