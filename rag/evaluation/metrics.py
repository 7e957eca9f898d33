"""The measures: retrieval recall and MRR, answer correctness, citation and language checks,
refusal rates, and the one percentile that every latency figure (here and in bench/) uses."""
from __future__ import annotations

import math
import statistics
import unicodedata
from typing import Iterable, Sequence

from rag.evaluation.datasets import Case
from rag.text.numbers import NUMBER, readings

KS = (1, 2, 5, 10)  # recall@k cut-offs; 2: the passages the model is shown (context_k)
_SLOT = "\x00"  # stands for one number in a normalised form


# -- statistics ------------------------------------------------------------------------------

def percentile(values: Iterable[float | None], p: float) -> float | None:
    """The p-th percentile by nearest rank: the smallest value with at least p% of the values at or
    below it (an observed value, never an interpolation). Nones are left out; None when none is left."""
    xs = sorted(v for v in values if v is not None)
    if not xs:
        return None
    rank = max(1, math.ceil(p / 100 * len(xs) - 1e-9))  # the epsilon: 0.9 * 10 must be rank 9, not 10
    return xs[min(rank, len(xs)) - 1]


def median(values: Iterable[float | None]) -> float | None:
    """The median (the mean of the two middle values for an even count); None for no values."""
    xs = [v for v in values if v is not None]
    return statistics.median(xs) if xs else None


def latency_summary(values: Iterable[float | None]) -> dict:
    """{"n", "p50": median, "p90": nearest rank}, in the unit given, to one decimal."""
    xs = [v for v in values if v is not None]
    if not xs:
        return {"n": 0, "p50": None, "p90": None}
    return {"n": len(xs), "p50": round(median(xs), 1), "p90": round(percentile(xs, 90), 1)}


def rate(flags: Iterable[bool]) -> float | None:
    """The share of true flags; None for no flags."""
    flags = list(flags)
    return sum(map(bool, flags)) / len(flags) if flags else None


# -- retrieval -------------------------------------------------------------------------------

def language_group(code: str) -> str:
    """zh-Hans, zh-Hant and zh are one group; other codes are their own."""
    return "zh" if code.startswith("zh") else code


def ranking_metrics(ranks: Sequence[int | None]) -> dict:
    """recall@k for each k in KS and MRR@10, over the rank of each question's first correct hit."""
    n = len(ranks)
    out = {"n": n}
    for k in KS:
        out[f"recall@{k}"] = sum(1 for r in ranks if r is not None and r <= k) / n if n else 0.0
    out["mrr@10"] = sum(1.0 / r for r in ranks if r is not None and r <= 10) / n if n else 0.0
    return out


def retrieval_summary(results: Sequence[dict]) -> dict:
    """Overall, same- vs cross-language, and per (question language -> passage language) pair."""
    ranks = [r["rank"] for r in results]
    same = [r["rank"] for r in results if not r["cross"]]
    cross = [r["rank"] for r in results if r["cross"]]
    pairs: dict[str, list] = {}
    for r in results:
        pairs.setdefault(f"{r['lang']}->{r['gold_lang']}", []).append(r["rank"])
    return {
        "overall": ranking_metrics(ranks),
        "same_language": ranking_metrics(same),
        "cross_language": ranking_metrics(cross),
        "pairs": {k: ranking_metrics(v) for k, v in sorted(pairs.items())},
    }


# -- answers ---------------------------------------------------------------------------------

def normalise(text: str) -> str:
    """NFKC, case folded, everything but letters, marks and digits removed."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold()
                   if unicodedata.category(ch)[0] in "LMN")


def _shape(text: str) -> tuple[str, list[set[str]]]:
    """`normalise(text)` with each written number replaced by one slot, and the numbers' readings."""
    text = unicodedata.normalize("NFKC", text).casefold()
    parts, values, last = [], [], 0
    for m in NUMBER.finditer(text):
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
    exact = "zh-Hans" if expected == "zh" else expected
    return language_group(expected) == language_group(detected), exact == detected


def answer_summary(records: Sequence[dict]) -> dict:
    """The metrics of a set of per-question records (see `rag.evaluation.answers`)."""
    ans = [r for r in records if r["answerable"]]
    una = [r for r in records if not r["answerable"]]
    answered = [r for r in ans if not r["refused"]]
    cites = [c for r in answered for c in r["citations"]]
    return {
        "answerable": len(ans),
        "unanswerable": len(una),
        "answered": len(answered),
        "answer_accuracy": rate(r["correct"] for r in ans),
        "answer_accuracy_any_language": rate(r["correct_any_language"] for r in ans),
        "citations": len(cites),
        "citation_precision_answer": rate(c["contains_answer"] for c in cites),
        "citation_precision_gold": rate(c["gold_source"] for c in cites),
        "language_match": rate(r["language_match"] for r in answered),
        "language_match_exact": rate(r["language_exact"] for r in answered),
        # The worst outcome: an answer shown, with a citation, and wrong. Over answerable questions,
        # so accuracy + wrong answers shown + false refusals = 1.
        "wrong_answers_shown": rate(not r["refused"] and not r["correct"] for r in ans),
        "false_refusal_rate": rate(r["refused"] for r in ans),
        "unanswerable_refusal_rate": rate(r["refused"] for r in una),
        # Refusals that quote the closest passage instead (abstain with evidence), and among those of
        # answerable questions, the share whose quoted sentence holds the answer.
        "refusals_with_evidence": rate(bool(r["citations"]) for r in records if r["refused"]),
        "evidence_holds_answer": rate(any(c["contains_answer"] for c in r["citations"])
                                      for r in ans if r["refused"] and r["citations"]),
        "gold_in_context": rate(r["gold_in_context"] for r in ans),
        "latency_ms": {
            k: latency_summary([r["timings_ms"][k] for r in records]) for k in ("sources", "first_token", "total")
        },
    }
