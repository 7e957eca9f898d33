"""`rag eval`: retrieval quality on a dataset, through the same `Retriever` that `ask` uses.

The dataset (`datasets.py`: benchmark or documents format) is indexed into a throw-away store
(`harness.py`), each question is searched once per stage combination, and the rank of its first
correct hit gives recall@k and MRR (`metrics.py`), overall, same- vs cross-language and per language
pair. Embeddings go through the content-hash cache under the data directory, so a second run
embeds nothing.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Sequence

from rag.backends.embed_cache import EmbeddingCache, embed_texts
from rag.evaluation.datasets import Dataset, Question
from rag.evaluation.harness import EvalIndexes, index_documents, index_passages, workspace
from rag.evaluation.metrics import KS, language_group, median, percentile, retrieval_summary
from rag.retrieval.stages import Retriever, parse_stages
from rag.settings import Settings
from rag.text.language import detect


@dataclass
class EvalRun:
    stages: tuple[str, ...]
    summary: dict
    latency_ms: dict
    results: list[dict]


def run_eval(
    ds: Dataset,
    settings: Settings,
    embedder,
    stages: Sequence[str],
    questions: list[Question],
    cache: EmbeddingCache | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> EvalRun:
    stages = parse_stages(",".join(stages))
    with workspace("rag-eval-") as work:
        ix = EvalIndexes.open(work, stages, embedder, cache)
        try:
            report = (lambda d, t: progress("indexing", d, t)) if progress else None
            if ds.kind == "benchmark":
                index_passages(ds, ix, embedder, cache, report)
                doc_langs = {}
            else:
                index_documents(ds.documents, ix, settings, work, embedder, cache, report)
                doc_langs = {d: str(m[0].get("doc_language", "und")) for d, m in ix.store.documents().items()}
            retriever = Retriever.from_settings(settings, store=ix.store, embedder=embedder, keywords=ix.keywords,
                                                centering=ix.centering, sentences=ix.sentences, stages=stages)
            qvecs = embed_texts(embedder, [q.text for q in questions], "query", cache=cache,
                                progress=(lambda d, t: progress("embedding questions", d, t)) if progress else None)
            results, times = [], []
            for i, (q, qv) in enumerate(zip(questions, qvecs)):
                t = time.perf_counter()
                hits = retriever.search(q.text, max(KS), language=detect(q.text), vector=qv)
                times.append((time.perf_counter() - t) * 1000)
                rank = None
                for r, h in enumerate(hits, 1):
                    ok = (h.id in q.gold_ids) if ds.kind == "benchmark" else (
                        h.document == q.gold_document and any(a in h.text for a in q.answers))
                    if ok:
                        rank = r
                        break
                lang, gold_lang = language_group(q.lang), language_group(q.gold_lang or doc_langs.get(q.gold_document, "und"))
                results.append({"id": q.id, "lang": lang, "gold_lang": gold_lang, "cross": lang != gold_lang,
                                "rank": rank, "top": [h.id for h in hits[:5]]})
                if progress:
                    progress("searching", i + 1, len(questions))
        finally:
            ix.close()
    latency = {"p50": median(times), "p95": percentile(times, 95)}
    return EvalRun(tuple(stages), retrieval_summary(results), latency, results)
