"""`rag eval --answers`: answer quality end to end, through the same `Assistant.ask_stream` as `rag ask`.

The dataset is indexed into a throw-away data directory by the real ingestion, then every question
is asked through `ask_stream`, timed, and scored:

- answer accuracy, over all answerable questions (a refusal counts as wrong): a gold answer is
  contained in the answer after `normalise` (NFKC, case folded, punctuation and spaces removed),
  numbers compared by value (`rag.text.numbers.readings`: "2,141", "2.141" and "2 141" are one number,
  and "1932" does not contain "32"). Gold answers are those in the question's language (`answers`;
  a documents-format question without them uses `passage_answers`). "any language" also accepts
  `passage_answers`, for answers that quote the passage's wording.
- citation precision, over the citations of answered answerable questions: "answer" (strict)
  counts citations whose cited text contains a `passage_answers` string; "gold" (lenient) counts
  citations of the gold passage (benchmark) or of the gold document (documents format).
- language match, over answers that are not refusals: `rag.text.language.detect(answer)` against the
  question's language, zh-Hans / zh-Hant / zh grouped as "zh"; "exact" also tells Traditional
  from Simplified (the benchmark's "zh" is Simplified).
- wrong answers shown, over all answerable questions: answered and not right (accuracy + wrong
  answers shown + false refusals = 1). A wrong answer with a citation looks checked: the worst
  outcome, worse than a refusal.
- refusal rates: on answerable questions (false refusals) and on unanswerable ones (wanted); the
  share of refusals quoting the closest passage (abstain with evidence) and, on answerable
  questions, how often that quote holds the answer.
- latency: time to the sources, to the first text delta (the first visible text: the assistant
  holds back what could still become its refusal sentinel) and to the final answer; median and
  nearest-rank p90. The models are loaded before the first question and that time is reported
  apart. A diagnostic, "gold in context", tells retrieval misses from generation errors: a gold
  passage holding the answer was among the `context_k` passages shown to the model (as excerpts,
  when the assistant shows only their best sentences).

Unanswerable questions: the documents format takes them from `unanswerable.jsonl` beside the
questions. The benchmark has none, so some are made honestly: a sample of questions disjoint from
the answerable ones is asked of a second index built without their gold passages (each benchmark
passage is one file, `<passage id>.txt`, and only one language version of a paragraph is in the
corpus), so the answer is really absent.

Passage embeddings go through the content-hash cache that `rag eval` uses, so the second index and
later runs embed nothing new. Every question's record (answer, citations, timings) is written to a
JSON-lines file under the data directory, to read what the model actually said.

The measures are in `metrics.py`, the throw-away indexes in `harness.py`, the table in `report.py`.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Sequence

from rag.api import Assistant
from rag.backends.embed_cache import CachedEmbedder, EmbeddingCache
from rag.evaluation.datasets import Case, Dataset
from rag.evaluation.harness import build_index, close_assistant, workspace
from rag.evaluation.metrics import answer_correct, answer_summary, citation_checks, language_match
from rag.text.language import detect
from rag.types import Answer, Delta, Final, Passage, Sources

Progress = Callable[[str, int, int], None]
Note = Callable[[str], None]


@dataclass
class AnswerEvalRun:
    dataset: str
    kind: str
    llm: str
    retrieval: tuple[str, ...]
    records_path: Path
    records: list[dict] = field(default_factory=list)
    warm_up_ms: float | None = None  # loading the models before the first question (not in the latencies)

    @property
    def summary(self) -> dict:
        return answer_summary(self.records)

    def per_language(self) -> dict[str, dict]:
        langs = sorted({r["lang"] for r in self.records})
        return {lang: answer_summary([r for r in self.records if r["lang"] == lang]) for lang in langs}

    def to_dict(self) -> dict:
        return {
            "dataset": self.dataset,
            "kind": self.kind,
            "llm": self.llm,
            "retrieval": list(self.retrieval),
            "overall": self.summary,
            "per_language": self.per_language(),
            "warm_up_ms": self.warm_up_ms,
            "records": str(self.records_path),
        }


def records_path(home: Path, dataset: str) -> Path:
    return Path(home) / "eval" / f"answers-{dataset}-{datetime.now().strftime('%Y%m%d-%H%M%S')}.jsonl"


def ask_timed(assistant, case: Case) -> tuple[Answer, tuple[Passage, ...], dict]:
    """Ask through `ask_stream`; times (ms) to the sources, the first delta and the final answer."""
    t0 = time.perf_counter()
    ms = lambda: round((time.perf_counter() - t0) * 1000, 1)  # noqa: E731
    timings = {"sources": None, "first_token": None, "total": None}
    passages: tuple[Passage, ...] = ()
    answer = None
    for event in assistant.ask_stream(case.question):
        if isinstance(event, Sources):
            timings["sources"], passages = ms(), event.passages
        elif isinstance(event, Delta) and timings["first_token"] is None:
            timings["first_token"] = ms()
        elif isinstance(event, Final):
            timings["total"], answer = ms(), event.answer
    assert answer is not None, "ask_stream ended without a final answer"
    return answer, passages, timings


def score(case: Case, answer: Answer, passages: Sequence[Passage], timings: dict, context_k: int) -> dict:
    """One question's record: what was asked, what came back, and how it scores."""
    detected = detect(answer.text)
    grouped, exact = language_match(case.lang, detected)
    answered = not answer.refused
    retrieved = [{"document": p.document, "score": round(p.score, 4), "gold_source": p.document in case.gold_documents,
                  "contains_answer": answer_correct(p.text, case.passage_answers)} for p in passages]
    citations = []
    for c in answer.citations:
        has_answer, gold = citation_checks(c.text, c.document, case)
        citations.append({**c.to_dict(), "contains_answer": has_answer, "gold_source": gold})
    return {
        "id": case.id,
        "lang": case.lang,
        "answerable": case.answerable,
        "question": case.question,
        "gold": {"answers": list(case.answers), "passage_answers": list(case.passage_answers),
                 "documents": sorted(case.gold_documents)},
        "answer": answer.text,
        "refused": answer.refused,
        "correct": answered and case.answerable and answer_correct(answer.text, case.answers),
        "correct_any_language": answered and case.answerable
        and answer_correct(answer.text, (*case.answers, *case.passage_answers)),
        "answer_language": detected,
        "language_match": grouped,
        "language_exact": exact,
        "gold_in_context": any(r["gold_source"] and r["contains_answer"] for r in retrieved[:context_k]),
        "citations": citations,
        "retrieved": retrieved,
        "notices": list(answer.notices),
        "flags": list(getattr(answer, "flags", ())),  # e.g. "ungrounded_number", where the answer has them
        "timings_ms": timings,
    }


def run_answer_eval(
    ds: Dataset,
    answerable: Sequence[Case],
    unanswerable: Sequence[Case],
    assistant,
    out: Path,
    progress: Progress | None = None,
    note: Note | None = None,
) -> AnswerEvalRun:
    """Index `ds` into a throw-away data directory and ask every case through `ask_stream`.

    `assistant` provides the settings, the embedder and the LLM (loaded once, shared). Records are
    appended to `out` as each question is answered, so an interrupted run still leaves them."""
    say = note or (lambda _m: None)
    cache = EmbeddingCache(assistant.settings.home / "cache" / "embeddings.sqlite")
    embedder = CachedEmbedder(assistant.embedder, cache)
    llm = assistant.llm
    run = AnswerEvalRun(ds.name, ds.kind, getattr(llm, "name", type(llm).__name__), tuple(assistant.stages), out)
    out.parent.mkdir(parents=True, exist_ok=True)

    def ask_all(a, cases: Sequence[Case], label: str, f) -> None:
        for i, case in enumerate(cases, 1):
            answer, passages, timings = ask_timed(a, case)
            rec = score(case, answer, passages, timings, a.settings.context_k)
            run.records.append(rec)
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            f.flush()
            verdict = ("refused" if rec["refused"] else "answered") if not case.answerable else (
                "refused" if rec["refused"] else "correct" if rec["correct"] else "wrong")
            say(f"[{label} {i}/{len(cases)}] {case.lang:7} {verdict:8} {timings['total'] / 1000:5.1f} s  {case.id}")
            if progress:
                progress(label, i, len(cases))

    with workspace("rag-answer-eval-") as work:
        opened: list[Assistant] = []

        def index(name: str, without: frozenset[str] = frozenset()) -> Assistant:
            opened.append(build_index(ds, assistant.settings, work / name, embedder, llm, without, progress, say))
            return opened[-1]

        try:
            with out.open("w", encoding="utf-8") as f:
                full = index("index")
                if answerable or unanswerable:
                    # Load the models and the query-side tables first: the latencies are per question,
                    # as a running assistant sees them; the one-time load is reported on its own.
                    say("loading the models (not counted in the latencies)")
                    t = time.perf_counter()
                    full.search((answerable or unanswerable)[0].question)
                    getattr(llm, "warm_up", lambda: None)()
                    run.warm_up_ms = round((time.perf_counter() - t) * 1000, 1)
                ask_all(full, answerable, "answerable", f)
                if unanswerable:
                    target = full
                    if ds.kind == "benchmark":
                        removed = frozenset().union(*(c.gold_documents for c in unanswerable))
                        say(f"unanswerable: {len(unanswerable)} questions asked of an index without their "
                            f"{len(removed)} gold passages")
                        target = index("without-gold", without=removed)
                    ask_all(target, unanswerable, "unanswerable", f)
            return run
        finally:
            for a in opened:
                close_assistant(a)
            cache.close()
