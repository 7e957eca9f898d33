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
- refusal rates: on answerable questions (false refusals) and on unanswerable ones (wanted).
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
"""
from __future__ import annotations

import json
import math
import random
import re
import shutil
import statistics
import tempfile
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable, Sequence

from rag.answering.generate import Delta, Final, Sources
from rag.backends.embed_cache import CachedEmbedder
from rag.evaluation.retrieval import Dataset, Question, require_fields, read_jsonl, load_dataset, sample
from rag.text.language import detect
from rag.text.numbers import readings
from rag.types import Answer, Passage

Progress = Callable[[str, int, int], None]
Note = Callable[[str], None]

# A written number: thousands groups (. , space, NBSP, narrow NBSP) and an optional decimal part,
# or plain digits with an optional decimal part. Its value is `rag.text.numbers.readings`' business.
_NUMBER = re.compile(
    r"(?<![\d.,])\d{1,3}(?:[.,\u00a0\u202f ]\d{3})+(?:[.,]\d+)?(?!\d)|(?<!\d)\d+(?:[.,]\d+)?(?!\d)"
)
_SLOT = "\x00"  # stands for one number in a normalised form


# -- cases -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """One question to ask, with what counts as a right answer and a right source."""

    id: str
    lang: str
    question: str
    answers: tuple[str, ...] = ()  # gold answers in the question's language
    passage_answers: tuple[str, ...] = ()  # the same, verbatim in the gold passage's language
    gold_documents: frozenset[str] = frozenset()  # document names as ingested (benchmark: "<id>.txt")
    answerable: bool = True


def load_cases(path: Path, limit: int | None, unanswerable: int) -> tuple[Dataset, list[Case], list[Case]]:
    """The dataset, its answerable cases (`sample(limit)` of the questions) and up to `unanswerable`
    unanswerable ones (documents: from unanswerable.jsonl; benchmark: other questions, disjoint)."""
    path = Path(path)
    ds = load_dataset(path)
    rows = {r["id"]: r for r in read_jsonl(path / "questions.jsonl")}  # the fields load_dataset leaves out
    picked = sample(ds.questions, limit)

    def case(q: Question, answerable: bool = True) -> Case:
        row = rows.get(q.id, {})
        passage_answers = tuple(row.get("passage_answers", q.answers))
        gold = frozenset(f"{g}.txt" for g in q.gold_ids) if ds.kind == "benchmark" else frozenset({q.gold_document})
        return Case(q.id, q.lang, q.text, tuple(row.get("answers") or passage_answers), passage_answers,
                    gold, answerable)

    answerable = [case(q) for q in picked]
    if unanswerable <= 0:
        return ds, answerable, []
    if ds.kind == "benchmark":
        taken = {q.id for q in picked}
        rest = [q for q in ds.questions if q.id not in taken]
        return ds, answerable, [case(q, answerable=False) for q in spread(rest, unanswerable)]
    extra = path / "unanswerable.jsonl"
    if not extra.is_file():
        return ds, answerable, []
    unans = []
    for i, r in enumerate(read_jsonl(extra), 1):
        require_fields(r, ("id", "lang", "question"), f"unanswerable.jsonl:{i}")
        unans.append(Question(r["id"], r["lang"], r["question"]))
    return ds, answerable, [Case(q.id, q.lang, q.text, answerable=False) for q in spread(unans, unanswerable)]


def spread(questions: Sequence[Question], n: int, seed: int = 1) -> list[Question]:
    """A deterministic sample of `n` questions taking the languages in turn (zh variants apart), so
    a small sample still covers every language; kept in dataset order."""
    order = list(range(len(questions)))
    random.Random(seed).shuffle(order)
    queues: dict[str, list[int]] = {}
    for i in order:
        queues.setdefault(questions[i].lang, []).append(i)
    picked: list[int] = []
    while len(picked) < n and any(queues.values()):
        for lang in sorted(queues):
            if queues[lang] and len(picked) < n:
                picked.append(queues[lang].pop(0))
    return [questions[i] for i in sorted(picked)]


# -- metrics ---------------------------------------------------------------------------------

def normalise(text: str) -> str:
    """NFKC, case folded, everything but letters, marks and digits removed."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold()
                   if unicodedata.category(ch)[0] in "LMN")


def _shape(text: str) -> tuple[str, list[set[str]]]:
    """`normalise(text)` with each written number replaced by one slot, and the numbers' readings."""
    text = unicodedata.normalize("NFKC", text).casefold()
    parts, values, last = [], [], 0
    for m in _NUMBER.finditer(text):
        parts.append(normalise(text[last : m.start()]))
        parts.append(_SLOT)
        values.append(readings(m.group(0)) or {m.group(0)})
        last = m.end()
    parts.append(normalise(text[last:]))
    return "".join(parts), values


def contains_answer(text: str, gold: str) -> bool:
    """True when `gold` occurs in `text` after normalisation, numbers compared by value
    ("2.141 nghi phạm" contains "2,141"; "1932" does not contain "32")."""
    g_form, g_nums = _shape(gold)
    if not g_form:
        return False
    t_form, t_nums = _shape(text)
    start = t_form.find(g_form)
    while start >= 0:
        first = t_form.count(_SLOT, 0, start)  # numbers of `text` before this occurrence
        if all(g & t_nums[first + i] for i, g in enumerate(g_nums)):
            return True
        start = t_form.find(g_form, start + 1)
    return False


def answer_correct(text: str, golds: Iterable[str]) -> bool:
    return any(contains_answer(text, g) for g in golds)


def citation_checks(text: str, document: str, case: Case) -> tuple[bool, bool]:
    """(the cited text contains a passage answer, the citation is of the gold passage/document)."""
    return answer_correct(text, case.passage_answers), document in case.gold_documents


def language_match(expected: str, detected: str) -> tuple[bool, bool]:
    """(same language with zh-Hans/zh-Hant/zh grouped, same exact code). A bare "zh" (the benchmark's)
    means Simplified."""
    group = lambda code: "zh" if code.startswith("zh") else code  # noqa: E731
    exact = "zh-Hans" if expected == "zh" else expected
    return group(expected) == group(detected), exact == detected


def _rate(flags: Iterable[bool]) -> float | None:
    flags = list(flags)
    return sum(map(bool, flags)) / len(flags) if flags else None


def _percentiles(values: Sequence[float]) -> dict:
    values = sorted(v for v in values if v is not None)
    if not values:
        return {"n": 0, "p50": None, "p90": None}
    return {"n": len(values), "p50": round(statistics.median(values), 1),
            "p90": round(values[max(0, math.ceil(0.9 * len(values)) - 1)], 1)}  # nearest rank


def summarize(records: Sequence[dict]) -> dict:
    """The metrics of a set of per-question records (see the module docstring)."""
    ans = [r for r in records if r["answerable"]]
    una = [r for r in records if not r["answerable"]]
    answered = [r for r in ans if not r["refused"]]
    cites = [c for r in answered for c in r["citations"]]
    return {
        "answerable": len(ans),
        "unanswerable": len(una),
        "answered": len(answered),
        "answer_accuracy": _rate(r["correct"] for r in ans),
        "answer_accuracy_any_language": _rate(r["correct_any_language"] for r in ans),
        "citations": len(cites),
        "citation_precision_answer": _rate(c["contains_answer"] for c in cites),
        "citation_precision_gold": _rate(c["gold_source"] for c in cites),
        "language_match": _rate(r["language_match"] for r in answered),
        "language_match_exact": _rate(r["language_exact"] for r in answered),
        "false_refusal_rate": _rate(r["refused"] for r in ans),
        "unanswerable_refusal_rate": _rate(r["refused"] for r in una),
        "gold_in_context": _rate(r["gold_in_context"] for r in ans),
        "latency_ms": {
            k: _percentiles([r["timings_ms"][k] for r in records]) for k in ("sources", "first_token", "total")
        },
    }


# -- running ---------------------------------------------------------------------------------

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
        return summarize(self.records)

    def per_language(self) -> dict[str, dict]:
        langs = sorted({r["lang"] for r in self.records})
        return {lang: summarize([r for r in self.records if r["lang"] == lang]) for lang in langs}

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


def build_index(ds: Dataset, settings, home: Path, embedder, llm=None, without: frozenset[str] = frozenset(),
                progress: Progress | None = None, note: Note | None = None):
    """A fresh Assistant over its own data directory `home`, with `ds` ingested (benchmark passages
    named in `without` left out), sharing the given embedder and LLM."""
    from rag.api import Assistant

    say = note or (lambda _m: None)
    a = Assistant(settings.model_copy(update={"home": home, "chroma_url": None}), embedder=embedder, llm=llm)
    if ds.kind == "benchmark":
        # The passages are not files: one file per passage, so a citation's document is "<id>.txt".
        sources = home / "docs"
        sources.mkdir(parents=True)
        kept = [p for p in ds.passages if f"{p['id']}.txt" not in without]
        for p in kept:
            (sources / f"{p['id']}.txt").write_text(p["text"], encoding="utf-8")
        say(f"indexing {len(kept)} passages into a throw-away index ({home})" + (
            "; embeddings come from the cache" if without else
            "; the first run embeds them (about a minute for the benchmark's 383), later ones use the cache"))
    else:
        sources = ds.documents
        say(f"indexing {sources} into a throw-away index ({home})")
    report = a.ingest([sources], progress=(lambda d, t: progress("indexing", d, t)) if progress else None)
    for path, reason in report.skipped:
        say(f"skipped {path}: {reason}")
    return a


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
    from rag.api import Assistant
    from rag.backends.embed_cache import EmbeddingCache

    say = note or (lambda _m: None)
    cache = EmbeddingCache(assistant.settings.home / "cache" / "embeddings.sqlite")
    embedder = CachedEmbedder(assistant.embedder, cache)
    llm = assistant.llm
    run = AnswerEvalRun(ds.name, ds.kind, getattr(llm, "name", type(llm).__name__), tuple(assistant.stages), out)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="rag-answer-eval-"))
    opened: list = []

    def index(name: str, without: frozenset[str] = frozenset()) -> Assistant:
        a = build_index(ds, assistant.settings, work / name, embedder, llm, without, progress, say)
        opened.append(a)
        return a

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
            for part in (a.store, a.sentences, a.keywords):  # None for a stage that is off
                if part is not None:
                    part.close()
        cache.close()
        shutil.rmtree(work, ignore_errors=True)


# -- rendering -------------------------------------------------------------------------------

_COLUMNS = (
    ("n", "answerable", "{:d}"),
    ("accuracy", "answer_accuracy", "{:.3f}"),
    ("acc(any)", "answer_accuracy_any_language", "{:.3f}"),
    ("cite:ans", "citation_precision_answer", "{:.3f}"),
    ("cite:gold", "citation_precision_gold", "{:.3f}"),
    ("lang", "language_match", "{:.3f}"),
    ("lang=", "language_match_exact", "{:.3f}"),
    ("false-ref", "false_refusal_rate", "{:.3f}"),
    ("gold-ctx", "gold_in_context", "{:.3f}"),
    ("unans", "unanswerable", "{:d}"),
    ("unans-ref", "unanswerable_refusal_rate", "{:.3f}"),
)


def _cells(m: dict) -> str:
    out = []
    for head, key, fmt in _COLUMNS:
        v = m[key]
        out.append(f"{(fmt.format(v) if v is not None else '-'):>{max(len(head), 5)}}")
    total = m["latency_ms"]["total"]["p50"]
    out.append(f"{(f'{total / 1000:.1f} s' if total is not None else '-'):>9}")
    return " ".join(out)


def table(run: AnswerEvalRun) -> str:
    s = run.summary
    lines = [
        f"dataset {run.dataset}: {s['answerable']} answerable + {s['unanswerable']} unanswerable questions "
        f"({run.kind}); LLM {run.llm}; retrieval {','.join(run.retrieval)}",
        "",
        f"{'':8} " + " ".join(f"{head:>{max(len(head), 5)}}" for head, _, _ in _COLUMNS) + f" {'total p50':>9}",
        f"{'overall':8} {_cells(s)}",
    ]
    for lang, m in run.per_language().items():
        lines.append(f"{lang:8} {_cells(m)}")
    lines.append("")
    lat = s["latency_ms"]
    parts = []
    for key, label in (("sources", "sources"), ("first_token", "first token"), ("total", "total")):
        m = lat[key]
        parts.append(f"{label} p50 {m['p50']:.0f} ms / p90 {m['p90']:.0f} ms (n={m['n']})" if m["n"]
                     else f"{label} -")
    lines.append("latency: " + "; ".join(parts))
    if run.warm_up_ms is not None:
        lines.append(f"  (loading the models before the first question: {run.warm_up_ms / 1000:.1f} s, not counted)")
    lines += [
        "accuracy: a gold answer in the question's language is in the answer (normalised, numbers by value);",
        "  acc(any): a gold answer in either language; refusals count as wrong",
        "cite:ans / cite:gold: share of the citations whose text holds a passage answer / that cite the gold",
        "  passage (benchmark) or document",
        "lang: the answer's language is the question's (zh variants grouped); lang=: exact (Simplified vs",
        "  Traditional); both over answers that are not refusals",
        "false-ref: refusals of answerable questions; unans-ref: refusals of unanswerable ones (higher is better)",
        "gold-ctx: a gold passage holding the answer was among the passages shown to the model",
    ]
    lines.append(f"per-question records: {run.records_path}")
    return "\n".join(lines)
