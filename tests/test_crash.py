"""Killing ingestion at any moment (SIGKILL, for real, in a subprocess) loses nothing and leaves
no duplicates or half-documents once the next ingestion has run; the side indexes stay in step."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from rag import Assistant, load_settings
from tests.conftest import ROOT

pytestmark = pytest.mark.chroma  # the ingestions run (and die) in subprocesses: the index must outlive them

# The child ingests with a fake embedder slowed down per batch, so that kills land while it embeds
# and while it writes, not only before or after.
CHILD = """
import sys, time
from rag.backends import embeddings
class Slow(embeddings.HashEmbedding):
    def _get_text_embeddings(self, texts):
        time.sleep(0.006 * len(texts))  # per text, so the run lasts as long whatever the batch size
        return [self._get_text_embedding(t) for t in texts]
embeddings.EMBEDDERS["fake"] = Slow
from rag.ingestion import write as index_writer
index_writer.EMBED_BATCH, index_writer.GROUP_TEXTS = 8, 24  # many small groups: kills land between writes
from ui.cli import main
import rag.api
a = rag.api.get_assistant()
a.centering, a.store.count(), a.sentences.count(), a.keywords  # set up: the parent times its kill from here
print("ready", flush=True)
sys.exit(main(["ingest", sys.argv[1]]))
"""


def check_consistent(a: Assistant) -> None:
    docs = a.store.documents()
    for doc, metas in docs.items():
        indexes = Counter(int(m["index"]) for m in metas)
        n = int(metas[0]["n_chunks"])
        assert sorted(indexes) == list(range(n)), f"{doc}: half-written"
        assert max(indexes.values()) == 1, f"{doc}: duplicated chunks"
        assert len({m["sha256"] for m in metas}) == 1, f"{doc}: two versions mixed"
    ids = {d: {h.id for h in a.store.get_document(d)} for d in docs}
    assert a.keywords.ids_by_document() == ids
    covered: dict[str, set] = {}
    for doc, metas in a.sentences.documents().items():
        covered[doc] = {m["chunk_id"] for m in metas}
    assert covered == ids


def start_and_kill(folder, delay: float) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(folder)], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert child.stdout.readline().strip() == "ready"
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)


# After "ready" the child's ingestion of the seeds takes about 2.4 s here. Killed after 0.05-0.6 s it
# was still preparing and embedding (nothing written); after 1.0 s it had written 27 chunks, 47
# sentences, 27 keyword rows; after 1.5 s 37, 83, 37; after 2.2 s all 50 chunks and 123 sentences
# (the final side-index checks): every phase gets interrupted.
@pytest.mark.slow  # six real subprocesses killed mid-run
@pytest.mark.parametrize("delay", [0.05, 0.3, 0.6, 1.0, 1.5, 2.2])
def test_sigkill_during_ingestion_then_rerun(delay, seeds_copy, tmp_path):
    start_and_kill(seeds_copy, delay)
    report = Assistant(load_settings()).ingest([seeds_copy])
    a = Assistant(load_settings())
    check_consistent(a)
    assert len(a.store.documents()) == 5
    done = set(report.added) | set(report.unchanged) | set(report.repaired) | set(report.updated)
    assert len(done) == 5

    target = seeds_copy / "003_912a6ae6278a5b97.txt"
    # An edited file: the second kill lands in the delete-then-write of an update.
    target.write_text(target.read_text(encoding="utf-8").replace("2.141", "3.777"), encoding="utf-8")
    start_and_kill(seeds_copy, delay / 2)
    Assistant(load_settings()).ingest([seeds_copy])
    a = Assistant(load_settings())
    check_consistent(a)
    hits = a.store.get_document(target.name)
    assert any("3.777" in h.text for h in hits) and not any("2.141" in h.text for h in hits)
