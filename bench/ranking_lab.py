"""Ranking signals for what the model is shown (recall@2), tried offline on a benchmark, with a held-out half.

    python -m bench.ranking_lab capture --dataset ../shared/eval/xquad-piaf      # once: the features
    python -m bench.ranking_lab tune --features .rag/lab/ranking-xquad-piaf.pkl    # formulas, both halves

`capture` indexes the benchmark as `rag eval` does (same harness, same embedding cache, default
stages) and saves, for each question and each of its candidates (the chunk, sentence and keyword
indexes' top lists, as `Retriever` gathers them), the terms a final score can be made of: chunk
cosine, the best sentence cosines, the keyword score, the anchor bonus, and the digits and
Latin-script names the question shares with the passage. `tune` ranks the candidates by each
formula and prints recall@1/2/5 on a tuning half and a held-out half (split by the question's
`group`, so a question's translations are all on one side, seeded), so a signal is chosen on
questions it is then not judged on. The product's ranking is `Retriever._rank`; the row `default`
reproduces it (its recall@5 is `rag eval`'s).
"""
from __future__ import annotations

import argparse
import json
import math
import pickle
import random
import re
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Callable, Sequence

from rag.evaluation.datasets import load_dataset
from rag.retrieval.stages import STAGES
from rag.text import anchors
from rag.text.language import detect

# Digits, and words in Latin script with a capital or a digit (names, acronyms, model numbers):
# what reads alike in a French, English or Vietnamese passage, and often in a Chinese one.
_DIGITS = re.compile(r"\d+(?:[.,\s]\d{3})*(?:[.,]\d+)?")
_NAME = re.compile(r"\b[A-Z][\w'-]*[A-Za-z]\b|\b[A-Za-z]*\d+[A-Za-z]+\w*\b")
_COMMON = frozenset("""the what which who whom when where why how did does was were is are and for from with
le la les des une un du de que qui quoi quel quelle quels quelles est sont dans pour avec par combien
khi nào ai gì bao nhiêu của và là có được những các một trong với""".split())


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))


def literals(text: str) -> set[str]:
    """The question's or passage's language-independent tokens: numbers by their digits, names folded."""
    out = {re.sub(r"\D", "", m.group(0)) for m in _DIGITS.finditer(text)}
    out |= {_fold(m.group(0)) for m in _NAME.finditer(text) if _fold(m.group(0)) not in _COMMON}
    return {t for t in out if len(t) >= 2}


def capture(dataset: Path, out: Path) -> None:
    from rag import Assistant, load_settings
    from rag.backends.embed_cache import EmbeddingCache, embed_texts
    from rag.evaluation.harness import EvalIndexes, index_passages, workspace

    settings = load_settings()
    ds = load_dataset(dataset)
    assert ds.kind == "benchmark", "the ranking lab reads a benchmark (passages with ids)"
    embedder = Assistant(settings).embedder
    cache = EmbeddingCache(settings.home / "cache" / "embeddings.sqlite")
    groups = {r["id"]: r.get("group", r["id"]) for r in map(json.loads, (dataset / "questions.jsonl").open())}
    rows = []
    with workspace("rag-ranking-lab-") as work:
        ix = EvalIndexes.open(work, STAGES, embedder, cache)
        try:
            index_passages(ds, ix, embedder, cache)
            passage_literals = {p["id"]: literals(p["text"]) for p in ds.passages}
            df = Counter(t for lits in passage_literals.values() for t in lits)
            qvecs = embed_texts(embedder, [q.text for q in ds.questions], "query", cache=cache)
            for q, raw in zip(ds.questions, qvecs):
                lang = detect(q.text)
                qv = ix.centering.apply(raw, lang, "query")
                qv = list(qv)
                n = settings.candidates
                chunk = {h.id: h.score for h in ix.store.query(qv, n)}
                found = ix.sentences.query(qv, n * 4)
                sentences: dict[str, list[float]] = {}
                for h in found:
                    sentences.setdefault(str(h.metadata["chunk_id"]), []).append(h.score)
                floor = found[-1].score if found else 0.0
                kw = ix.keywords.search(q.text, n, lang)
                top = kw[0][1] if kw and kw[0][1] > 0 else 1.0
                keyword = {i: s / top for i, s in kw}
                ids = list(dict.fromkeys([*chunk, *sentences, *keyword]))
                missing = [i for i in ids if i not in chunk]
                texts = {}
                for h in ix.store.get(missing, embedding=qv):
                    chunk[h.id] = h.score
                for h in ix.store.get(ids):
                    texts[h.id] = h.text
                asked = anchors.of_question(q.text)
                bonus = anchors.bonuses(asked, texts) if asked else {}
                mine = literals(q.text)
                cands = []
                for i in ids:
                    if i not in chunk:
                        continue
                    shared = mine & passage_literals.get(i, set())
                    cands.append({
                        "id": i, "chunk": chunk[i], "sentences": sorted(sentences.get(i, []), reverse=True)[:3],
                        "floor": floor, "keyword": keyword.get(i, 0.0), "anchor": bonus.get(i, 0.0),
                        "literal": sum(math.log(len(ds.passages) / df[t]) for t in shared),
                        "literal_n": len(shared),
                    })
                rows.append({"id": q.id, "group": groups.get(q.id, q.id), "lang": q.lang,
                             "gold": sorted(q.gold_ids), "gold_lang": q.gold_lang, "candidates": cands})
        finally:
            ix.close()
            cache.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as f:
        pickle.dump({"dataset": ds.name, "weights": {"sentence": settings.weight_sentence,
                     "keyword": settings.weight_keyword, "anchor": settings.weight_anchor}, "rows": rows}, f)
    print(f"{len(rows)} questions -> {out}")


Formula = Callable[[dict], float]


def formula(ws: float = 0.75, wk: float = 0.03, wa: float = 0.0, w2: float = 0.0, wl: float = 0.0,
            lcap: float = 3.0) -> Formula:
    """w_chunk * chunk + w_sentence * best sentence (+ w2 * second sentence) + w_keyword * keyword
    + w_anchor * anchor bonus + w_literal * min(shared literals' idf, cap)."""
    def score(c: dict) -> float:
        best = c["sentences"][0] if c["sentences"] else c["floor"]
        second = c["sentences"][1] if len(c["sentences"]) > 1 else c["floor"]
        return ((1 - ws) * c["chunk"] + ws * best + w2 * second + wk * c["keyword"] + wa * c["anchor"]
                + wl * min(c["literal"], lcap))
    return score


def recall(rows: Sequence[dict], score: Formula) -> dict[str, float]:
    out = {1: 0, 2: 0, 5: 0}
    for r in rows:
        ranked = sorted(r["candidates"], key=lambda c: (-score(c), c["id"]))
        top = [c["id"] for c in ranked[:5]]
        for k in out:
            out[k] += any(g in top[:k] for g in r["gold"])
    return {f"R@{k}": v / len(rows) for k, v in out.items()} if rows else {}


def split(rows: Sequence[dict], seed: int = 7) -> tuple[list[dict], list[dict]]:
    """Two halves by group (a question and its translations stay together), seeded."""
    groups = sorted({r["group"] for r in rows})
    random.Random(seed).shuffle(groups)
    tune = set(groups[: len(groups) // 2])
    return [r for r in rows if r["group"] in tune], [r for r in rows if r["group"] not in tune]


def grid() -> dict[str, Formula]:
    out: dict[str, Formula] = {}
    for ws in (0.65, 0.75, 0.85):
        for wl in (0.0, 0.01, 0.02, 0.03, 0.05):
            for w2 in (0.0, 0.1, 0.2):
                for wk in (0.0, 0.03, 0.06):
                    out[f"ws={ws} wk={wk} w2={w2} wl={wl}"] = formula(ws=ws, wk=wk, w2=w2, wl=wl)
    return out


def tune(features: Path, seed: int, top: int) -> None:
    data = pickle.loads(features.read_bytes())
    w = data["weights"]
    rows = data["rows"]
    a, b = split(rows, seed)
    default = formula(ws=w["sentence"], wk=w["keyword"], wa=w["anchor"])
    print(f"{data['dataset']}: {len(rows)} questions; tuning half {len(a)}, held-out half {len(b)} (seed {seed})")
    print(f"{'formula':40} {'tune R@1':>8} {'R@2':>6} {'R@5':>6}   {'held R@1':>8} {'R@2':>6} {'R@5':>6}   {'all R@2':>7}")

    def line(name: str, f: Formula) -> str:
        ra, rb, rall = recall(a, f), recall(b, f), recall(rows, f)
        return (f"{name:40} {ra['R@1']:8.3f} {ra['R@2']:6.3f} {ra['R@5']:6.3f}   {rb['R@1']:8.3f} {rb['R@2']:6.3f} "
                f"{rb['R@5']:6.3f}   {rall['R@2']:7.3f}")

    print(line("default (the product's weights)", default))
    base5 = recall(a, default)["R@5"]
    scored = []
    for name, f in grid().items():
        g = (lambda f: (lambda c: f(c) + w["anchor"] * c["anchor"]))(f)  # anchors at the product's weight
        ra = recall(a, g)
        if ra["R@5"] >= base5:  # never lower recall@5 on the tuning half
            scored.append((ra["R@2"], ra["R@1"], name, g))
    scored.sort(key=lambda t: (-t[0], -t[1], t[2]))
    for _r2, _r1, name, g in scored[:top]:
        print(line(name, g))


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("capture")
    c.add_argument("--dataset", type=Path, default=Path("../shared/eval/xquad-piaf"))
    c.add_argument("--out", type=Path, default=None)
    t = sub.add_parser("tune")
    t.add_argument("--features", type=Path, required=True)
    t.add_argument("--seed", type=int, default=7)
    t.add_argument("--top", type=int, default=12)
    args = ap.parse_args(argv)
    if args.cmd == "capture":
        capture(args.dataset, args.out or Path(".rag/lab") / f"ranking-{args.dataset.name}.pkl")
    else:
        tune(args.features, args.seed, args.top)


if __name__ == "__main__":
    main()
