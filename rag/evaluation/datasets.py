"""Evaluation datasets: reading them, and the questions and cases taken from them.

Two formats:
- benchmark (`passages.jsonl` + `questions.jsonl`, as in shared/eval/xquad-piaf): a hit is correct
  when its id is in `gold_passage_ids`;
- documents (`dataset.json` with `"documents": DIR` + `questions.jsonl`, optionally
  `unanswerable.jsonl`): a hit is correct when it comes from `gold_document` and contains one of
  `passage_answers`.
A `Question` is what retrieval is scored on; a `Case` adds what answer scoring needs.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from rag.errors import InvalidInput


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
