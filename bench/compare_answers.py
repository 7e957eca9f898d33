"""Two or more `rag eval --answers --json` outputs side by side: one table, one column per run.

    rag eval --answers --json > local.json
    RAG_LLM_BACKEND=openai RAG_OPENAI_BASE_URL=... rag eval --answers --json > served.json
    python -m bench.compare_answers local.json served.json

Rows: the overall metrics, then accuracy / wrong answers shown / false refusals per language. When
the runs' per-question records are still on disk, the questions that one run got right and another
did not are listed, so a difference can be read, not only counted. Runs of different datasets are
refused: their figures do not compare.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

# (label, key in the summary, format); rates print as 0.000, counts as integers.
ROWS = (
    ("answerable", "answerable", "{:d}"),
    ("unanswerable", "unanswerable", "{:d}"),
    ("accuracy", "answer_accuracy", "{:.3f}"),
    ("accuracy, any language", "answer_accuracy_any_language", "{:.3f}"),
    ("wrong answers shown", "wrong_answers_shown", "{:.3f}"),
    ("false refusals", "false_refusal_rate", "{:.3f}"),
    ("unanswerable refused", "unanswerable_refusal_rate", "{:.3f}"),
    ("citation precision, strict", "citation_precision_answer", "{:.3f}"),
    ("citation precision, lenient", "citation_precision_gold", "{:.3f}"),
    ("language match", "language_match", "{:.3f}"),
    ("gold in context", "gold_in_context", "{:.3f}"),
)
PER_LANGUAGE = (("accuracy", "answer_accuracy"), ("wrong", "wrong_answers_shown"), ("false-ref", "false_refusal_rate"))
LATENCIES = (("first token p50 (s)", "first_token"), ("full answer p50 (s)", "total"))


class Mismatch(ValueError):
    """Runs that cannot share a table."""


def _cell(value, fmt: str) -> str:
    return "-" if value is None else fmt.format(value)


def _name(run: dict, path: str) -> str:
    return f"{Path(path).stem} ({run.get('llm', '?')})"


def table(runs: Sequence[dict], names: Sequence[str]) -> str:
    """The runs' metrics as one text table, a column per run."""
    datasets = {(r["dataset"], r["overall"]["answerable"], r["overall"]["unanswerable"]) for r in runs}
    if len(datasets) > 1:
        raise Mismatch("the runs are not of the same questions: " + ", ".join(
            f"{d} ({a} + {u})" for d, a, u in sorted(datasets)))
    width = max(12, *(len(n) for n in names))
    label_w = 30
    lines = [f"dataset {runs[0]['dataset']}", "", f"{'':{label_w}} " + " ".join(f"{n:>{width}}" for n in names)]
    for label, key, fmt in ROWS:
        lines.append(f"{label:{label_w}} " + " ".join(f"{_cell(r['overall'].get(key), fmt):>{width}}" for r in runs))
    for label, key in LATENCIES:
        cells = []
        for r in runs:
            p50 = r["overall"]["latency_ms"][key]["p50"]
            cells.append(f"{_cell(None if p50 is None else p50 / 1000, '{:.1f}'):>{width}}")
        lines.append(f"{label:{label_w}} " + " ".join(cells))
    langs = sorted({lang for r in runs for lang in r.get("per_language", {})})
    for lang in langs:
        for label, key in PER_LANGUAGE:
            cells = [_cell(r.get("per_language", {}).get(lang, {}).get(key), "{:.3f}") for r in runs]
            lines.append(f"{lang + ' ' + label:{label_w}} " + " ".join(f"{c:>{width}}" for c in cells))
    return "\n".join(lines)


def outcome(record: dict) -> str:
    if not record["answerable"]:
        return "refused" if record["refused"] else "answered"
    return "refused" if record["refused"] else "right" if record["correct"] else "WRONG"


def differences(records: Sequence[Sequence[dict]], names: Sequence[str]) -> list[str]:
    """One line per question whose outcome differs between the runs (matched by id and answerability)."""
    keyed = [{(r["id"], r["answerable"]): r for r in recs} for recs in records]
    common = [k for k in keyed[0] if all(k in other for other in keyed[1:])]
    lines = []
    for k in common:
        outcomes = [outcome(recs[k]) for recs in keyed]
        if len(set(outcomes)) > 1:
            lines.append(f"{k[0]:32} " + "  ".join(f"{n}: {o}" for n, o in zip(names, outcomes)))
    return lines


def _records(run: dict) -> list[dict] | None:
    path = Path(run.get("records") or "")
    if not path.is_file():
        return None
    return [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", help="JSON files written by `rag eval --answers --json`")
    ap.add_argument("--no-questions", action="store_true", help="only the table, not the questions that differ")
    args = ap.parse_args(argv)
    if len(args.runs) < 2:
        print("error: give two runs or more", file=sys.stderr)
        return 2
    runs = [json.loads(Path(p).read_text(encoding="utf-8")) for p in args.runs]
    names = [_name(r, p) for r, p in zip(runs, args.runs)]
    try:
        print(table(runs, names))
    except Mismatch as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if not args.no_questions:
        records = [_records(r) for r in runs]
        if all(records):
            diff = differences(records, names)
            print(f"\nquestions with different outcomes ({len(diff)}):")
            print("\n".join(diff) if diff else "(none)")
        else:
            print("\n(per-question records not found: questions not compared)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
