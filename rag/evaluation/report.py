"""The evaluation reports as text tables: `rag eval` (retrieval) and `rag eval --answers`."""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from rag.evaluation.metrics import KS

if TYPE_CHECKING:
    from rag.evaluation.answers import AnswerEvalRun
    from rag.evaluation.retrieval import EvalRun


def retrieval_table(runs: Sequence[EvalRun]) -> str:
    """`rag eval`: recall and MRR per stage combination, then per language pair for the last one."""
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


_COLUMNS = (
    ("n", "answerable", "{:d}"),
    ("accuracy", "answer_accuracy", "{:.3f}"),
    ("acc(any)", "answer_accuracy_any_language", "{:.3f}"),
    ("wrong", "wrong_answers_shown", "{:.3f}"),
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


def answers_table(run: AnswerEvalRun) -> str:
    """`rag eval --answers`: overall and per-language metrics, latencies, and what each column means."""
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
        "wrong: answers shown to the user and wrong (answerable, not refused, not right): accuracy + wrong +",
        "  false-ref = 1 over the answerable questions",
        "false-ref: refusals of answerable questions; unans-ref: refusals of unanswerable ones (higher is better)",
        "gold-ctx: a gold passage holding the answer was among the passages shown to the model",
    ]
    lines.append(f"per-question records: {run.records_path}")
    return "\n".join(lines)
