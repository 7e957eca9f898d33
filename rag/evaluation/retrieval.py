"""`rag eval`: retrieval quality on a dataset, through the same `Retriever` that `ask` uses.

Two dataset formats:
- benchmark (`passages.jsonl` + `questions.jsonl`, as in shared/eval/xquad-piaf): the passages are
  indexed as they are, and a hit is correct when its id is in `gold_passage_ids`;
- documents (`dataset.json` with `"documents": DIR` + `questions.jsonl`): the documents go through
  the real ingestion (cleaning, chunking), and a hit is correct when it comes from `gold_document`
  and contains one of `passage_answers`.

Everything is indexed into a throw-away store. Embeddings go through the content-hash cache under
the data directory, so a second run embeds nothing.
"""
from __future__ import annotations

import json
import random
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence


from store import ChromaStore, Record

from rag.backends.embed_cache import CachedEmbedder, EmbeddingCache, embed_texts
from rag.errors import InvalidInput
from rag.text.language import detect
from rag.retrieval.stages import Retriever, parse_stages
from rag.settings import Settings

KS = (1, 2, 5, 10)  # 2: the passages the model is shown (context_k)


@dataclass(frozen=True)
class Question:
    id: str
    lang: str
    text: str
    gold_ids: frozenset[str] = frozenset()
    gold_document: str = ""
    gold_lang: str = ""
    answers: tuple[str, ...] = ()


@dataclass
class Dataset:
    name: str
    kind: str  # "benchmark" or "documents"
    questions: list[Question]
    passages: list[dict] = field(default_factory=list)
    documents: Path | None = None


def read_jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        raise InvalidInput(f"dataset file missing: {path}")
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise InvalidInput(f"{path}:{n}: not valid JSON ({e.msg})") from None
    return rows


def require_fields(row: dict, keys: Sequence[str], where: str) -> None:
    missing = [k for k in keys if k not in row]
    if missing:
        raise InvalidInput(f"{where}: missing field(s) {', '.join(missing)}")


def load_dataset(path: Path) -> Dataset:
    path = Path(path)
    if not path.is_dir():
        raise InvalidInput(f"dataset directory not found: {path}")
    meta_file = path / "dataset.json"
    if meta_file.is_file():
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        docs = (path / meta["documents"]).resolve()
        questions = []
        for i, r in enumerate(read_jsonl(path / "questions.jsonl"), 1):
            require_fields(r, ("id", "lang", "question", "gold_document", "passage_answers"), f"questions.jsonl:{i}")
            questions.append(Question(r["id"], r["lang"], r["question"], gold_document=r["gold_document"],
                                      answers=tuple(r["passage_answers"])))
        return Dataset(path.name, "documents", questions, documents=docs)
    passages = read_jsonl(path / "passages.jsonl")
    for i, p in enumerate(passages, 1):
        require_fields(p, ("id", "lang", "text"), f"passages.jsonl:{i}")
    by_id = {p["id"]: p for p in passages}
    questions = []
    for i, r in enumerate(read_jsonl(path / "questions.jsonl"), 1):
        require_fields(r, ("id", "lang", "question", "gold_passage_ids"), f"questions.jsonl:{i}")
        gold = frozenset(r["gold_passage_ids"])
        unknown = [g for g in gold if g not in by_id]
        if unknown:
            raise InvalidInput(f"questions.jsonl:{i}: gold passage(s) not in passages.jsonl: {unknown}")
        gold_lang = r.get("gold_passage_lang") or by_id[next(iter(gold))]["lang"]
        questions.append(Question(r["id"], r["lang"], r["question"], gold_ids=gold, gold_lang=gold_lang))
    return Dataset(path.name, "benchmark", questions, passages=passages)


def sample(questions: list[Question], limit: int | None, seed: int = 0) -> list[Question]:
    """A deterministic sample (same `limit`, same questions), kept in dataset order."""
    if not limit or limit >= len(questions):
        return questions
    keep = set(random.Random(seed).sample(range(len(questions)), limit))
    return [q for i, q in enumerate(questions) if i in keep]


def _lang_group(lang: str) -> str:
    return "zh" if lang.startswith("zh") else lang


# -- metrics ---------------------------------------------------------------------------------

def _metrics(ranks: list[int | None]) -> dict:
    n = len(ranks)
    out = {"n": n}
    for k in KS:
        out[f"recall@{k}"] = sum(1 for r in ranks if r is not None and r <= k) / n if n else 0.0
    out["mrr@10"] = sum(1.0 / r for r in ranks if r is not None and r <= 10) / n if n else 0.0
    return out


def summarize(results: list[dict]) -> dict:
    """Overall, same- vs cross-language, and per (question language -> passage language) pair."""
    ranks = [r["rank"] for r in results]
    same = [r["rank"] for r in results if not r["cross"]]
    cross = [r["rank"] for r in results if r["cross"]]
    pairs: dict[str, list] = {}
    for r in results:
        pairs.setdefault(f"{r['lang']}->{r['gold_lang']}", []).append(r["rank"])
    return {
        "overall": _metrics(ranks),
        "same_language": _metrics(same),
        "cross_language": _metrics(cross),
        "pairs": {k: _metrics(v) for k, v in sorted(pairs.items())},
    }


# -- running ---------------------------------------------------------------------------------

@dataclass
class EvalRun:
    stages: tuple[str, ...]
    summary: dict
    latency_ms: dict
    results: list[dict]


def _index_benchmark(ds: Dataset, store, keywords, sentences, embedder, centering, cache, progress) -> None:
    from rag.ingestion.repair import add_sentences
    from rag.retrieval.keywords import KeywordItem

    texts = [p["text"] for p in ds.passages]
    langs = [p["lang"] if p["lang"] != "zh" else detect(p["text"]) for p in ds.passages]
    vectors = embed_texts(embedder, texts, "passage", cache=cache, progress=progress)
    if centering is not None:
        vectors = centering.apply_many(vectors, langs)
    store.add([
        Record(p["id"], p["id"], p["text"], v.tolist(), {"language": lang, "start": 0, "end": len(p["text"])})
        for p, v, lang in zip(ds.passages, vectors, langs)
    ])
    if keywords is not None:
        keywords.add([KeywordItem(p["id"], p["id"], p["text"], lang) for p, lang in zip(ds.passages, langs)])
    if sentences is not None:
        cached = CachedEmbedder(embedder, cache)
        for p, lang in zip(ds.passages, langs):
            add_sentences(sentences, p["text"], [(p["id"], p["id"], 0, len(p["text"]), lang)], cached, centering, "")


def run_eval(
    ds: Dataset,
    settings: Settings,
    embedder,
    stages: Sequence[str],
    questions: list[Question],
    cache: EmbeddingCache | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> EvalRun:
    from rag.retrieval.centering import LanguageCentering
    from rag.retrieval.keywords import KeywordIndex

    stages = parse_stages(",".join(stages))
    work = Path(tempfile.mkdtemp(prefix="rag-eval-"))
    try:
        store = ChromaStore(path=work / "chroma", collection="eval")
        keywords = KeywordIndex(work / "keywords.sqlite") if "keyword" in stages else None
        sentences = ChromaStore(path=work / "chroma", collection="eval_sentences") if "sentence" in stages else None
        centering = LanguageCentering.for_embedder(embedder, cache) if "center" in stages else None
        report = (lambda d, t: progress("indexing", d, t)) if progress else None
        if ds.kind == "benchmark":
            _index_benchmark(ds, store, keywords, sentences, embedder, centering, cache, report)
        else:
            from rag.ingestion.pipeline import ingest_paths

            s = settings.model_copy(update={"home": work})
            ingest_paths([ds.documents], store=store, embedder=CachedEmbedder(embedder, cache), settings=s,
                         keywords=keywords, centering=centering, sentences=sentences, progress=report)
        doc_langs = {d: str(m[0].get("doc_language", "und")) for d, m in store.documents().items()} \
            if ds.kind == "documents" else {}
        from rag.retrieval.stages import Weights

        retriever = Retriever(store, embedder, stages, keywords, centering, sentences, settings.candidates,
                              Weights(1.0 - settings.weight_sentence, settings.weight_sentence,
                                      settings.weight_keyword, settings.weight_anchor))
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
            gold_lang = q.gold_lang or doc_langs.get(q.gold_document, "und")
            results.append({"id": q.id, "lang": _lang_group(q.lang), "gold_lang": _lang_group(gold_lang),
                            "cross": _lang_group(q.lang) != _lang_group(gold_lang), "rank": rank,
                            "top": [h.id for h in hits[:5]]})
            if progress:
                progress("searching", i + 1, len(questions))
        latency = {"p50": statistics.median(times), "p95": sorted(times)[max(0, int(0.95 * len(times)) - 1)]}
        store.close()
        if sentences is not None:
            sentences.close()
        if keywords is not None:
            keywords.close()
        return EvalRun(tuple(stages), summarize(results), latency, results)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# -- rendering -------------------------------------------------------------------------------

def table(runs: Sequence[EvalRun]) -> str:
    lines = []
    head = f"{'stages':28} {'set':10} {'n':>5} " + " ".join(f"{'R@' + str(k):>6}" for k in KS) + f" {'MRR@10':>7}"
    lines.append(head)
    for run in runs:
        name = "+".join(run.stages)
        for label, key in (("overall", "overall"), ("same", "same_language"), ("cross", "cross_language")):
            m = run.summary[key]
            lines.append(f"{name:28} {label:10} {m['n']:5d} " + " ".join(f"{m[f'recall@{k}']:6.3f}" for k in KS)
                         + f" {m['mrr@10']:7.3f}")
        lines.append(f"{name:28} latency    p50 {run.latency_ms['p50']:.1f} ms, p95 {run.latency_ms['p95']:.1f} ms"
                     " (retrieval only; the query embedding adds about 70 ms)")
    last = runs[-1]
    lines.append("")
    lines.append(f"per pair ({'+'.join(last.stages)}):")
    lines.append(f"{'pair':10} {'n':>5} " + " ".join(f"{'R@' + str(k):>6}" for k in KS))
    for pair, m in last.summary["pairs"].items():
        lines.append(f"{pair:10} {m['n']:5d} " + " ".join(f"{m[f'recall@{k}']:6.3f}" for k in KS))
    return "\n".join(lines)
