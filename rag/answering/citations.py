"""Turn a model's raw reply into clean text plus citations that point at retrieved passages only.

The model sees passages numbered [1]..[n]. Its markers come in many shapes ([1], [1, 2], [1][2],
【1】, ［1］, [Source 1], [^1]); we keep the numbers that name a retrieved passage, drop the rest,
and rewrite every kept marker as plain `[n]`. A pure function: no model, no store.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from rag.text.numbers import all_found, numbers_in
from rag.text.overlap import bigrams, containment
from rag.text.patterns import CITED, MARKER, SENTENCE

# A marker and the blanks before it: a kept marker is written back as " [n]", a dropped one leaves none.
_MARKER = re.compile(rf"\s*(?:{MARKER.pattern})", re.I)
_REFUSAL = re.compile(r"\bNO[_ ]?ANSWER\b", re.I)


@dataclass(frozen=True)
class ParsedReply:
    text: str
    cited: tuple[int, ...]  # passage numbers, in order of first use
    refused: bool
    dropped: tuple[int, ...] = ()  # numbers the model invented


def _numbers(group: str) -> list[int]:
    out: list[int] = []
    for a, b in re.findall(r"(\d+)\s*(?:[-–]\s*(\d+))?", group):
        lo = int(a)
        hi = int(b) if b else lo
        if hi < lo or hi - lo > 20:
            hi = lo
        out.extend(range(lo, hi + 1))
    return out


def parse_reply(raw: str, n_passages: int) -> ParsedReply:
    """Clean `raw`; valid passage numbers are 1..n_passages."""
    if _REFUSAL.search(raw):
        return ParsedReply(text="", cited=(), refused=True)
    cited: list[int] = []
    dropped: list[int] = []

    def repl(m: re.Match) -> str:
        keep = []
        for n in _numbers(m.group(1)):
            if 1 <= n <= n_passages:
                if n not in keep:
                    keep.append(n)
                if n not in cited:
                    cited.append(n)
            elif n not in dropped:
                dropped.append(n)
        return (" " + "".join(f"[{n}]" for n in keep)) if keep else ""

    text = _MARKER.sub(repl, raw)
    # A marker placed after the full stop belongs to the sentence before it: "claim. [1]" and
    # "主张。[1]" become "claim [1]." and "主张[1]。", so each sentence carries its own citation.
    text = re.sub(
        r"([.!?。！？])[ \t]*((?:[ \t]*\[\d+\])+)",
        lambda m: (" " if m.group(1) in ".!?" else "") + m.group(2).strip() + m.group(1),
        text,
    )
    # Tidy what marker removal leaves behind: "claim [1] ." -> "claim [1]."
    text = re.sub(r"[ \t]+([.,;:!?。，；：！？])", r"\1", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    text = re.sub(r"(\[\d+\])[ \t]+(?=\[\d+\])", r"\1", text)  # "[2] [3]" -> "[2][3]"
    text = re.sub(r"(?<=[\u3000-\u9fff\uff00-\uffef]) (?=\[)", "", text)  # no space before [n] in CJK
    text = text.strip()
    return ParsedReply(text=text, cited=tuple(cited), refused=False, dropped=tuple(dropped))


def _distinctive(numbers: list[set[str]]) -> bool:
    """True when some number has 3 or more digits: "2141" identifies a source, "5" or "14" do not."""
    return any(len(r.replace(".", "")) >= 3 for readings in numbers for r in readings)


def attribute(text: str, passages: list[str], threshold: float = 0.6) -> tuple[str, tuple[int, ...]]:
    """Add `[n]` to sentences that carry no marker but are (nearly) copied from passage n.

    Small models often quote a source without citing it. A sentence whose character bigrams are
    mostly (>= threshold) found in one passage is attributed to the best such passage; others are
    left alone, so nothing is cited on a guess. A bare value ("80%", "1 770") goes to the one
    passage holding it, if only one does.
    """
    if not passages:
        return text, ()
    grams = [bigrams(p) for p in passages]
    out: list[str] = []
    added: list[int] = []
    for m in SENTENCE.finditer(text):
        sentence = m.group(0)
        body = sentence.strip()
        if not body or CITED.search(body):
            out.append(sentence)
            continue
        mine = bigrams(body)
        nums = numbers_in(body)
        bare = len(mine) < 3
        if bare and not nums:
            out.append(sentence)
            continue
        scores = [len(mine & g) / len(mine) if mine else 0.0 for g in grams]
        best = max(range(len(scores)), key=scores.__getitem__)
        if bare or scores[best] < threshold:
            # A translated quote shares few words, but its numbers: one passage holding them all
            # (and some words) is the source.
            holders = [i for i, p in enumerate(passages) if nums and all_found(body, p)]
            if len(holders) != 1 or (not bare and scores[holders[0]] < 0.2 and not _distinctive(nums)):
                out.append(sentence)
                continue
            best = holders[0]
        n = best + 1
        added.append(n)
        out.append(add_marker(sentence, n))
    return "".join(out), tuple(dict.fromkeys(added))


def add_marker(sentence: str, n: int) -> str:
    """`sentence` with `[n]` before its final punctuation ("claim [2]." / "主张[2]。")."""
    stripped = sentence.rstrip()
    tail = sentence[len(stripped):]
    punct = re.search(r"[.!?。！？]+$", stripped)
    if punct:
        cjk = re.search(r"[\u3000-\u9fff]", stripped) is not None
        sep = "" if cjk else " "
        stripped = f"{stripped[: punct.start()]}{sep}[{n}]{punct.group(0)}"
    else:
        stripped = f"{stripped} [{n}]"
    return stripped + tail


def verify(text: str, passages: list[str]) -> tuple[str, tuple[int, ...], int]:
    """Check each sentence's `[n]` against the passages and move it when the evidence is elsewhere.

    A sentence's markers are replaced when its cited passages do not hold its numbers but another
    passage does (the best of several when a number is distinctive, else only a single holder), or
    when it is a near copy (>= 0.6 bigram overlap) of another passage while sharing little (< 0.3)
    with the cited ones. Returns (text, cited numbers in order, sentences corrected).
    """
    grams = [bigrams(p) for p in passages]
    out: list[str] = []
    fixed = 0
    for m in SENTENCE.finditer(text):
        sentence = m.group(0)
        cited = [int(n) for n in CITED.findall(sentence) if 1 <= int(n) <= len(passages)]
        if not cited:
            out.append(sentence)
            continue
        body = CITED.sub("", sentence)
        nums = numbers_in(body)
        missing = bool(nums) and not any(all_found(body, passages[n - 1]) for n in cited)
        holders = [i for i, p in enumerate(passages, 1) if all_found(body, p)] if missing else []
        better: int | None = None
        if missing and _distinctive(nums):
            if holders:
                better = max(holders, key=lambda i: containment(body, grams[i - 1]))
        elif missing and len(holders) == 1:
            better = holders[0]
        elif max(containment(body, grams[n - 1]) for n in cited) < 0.3:
            scores = [containment(body, g) for g in grams]
            best = max(range(len(scores)), key=scores.__getitem__) + 1
            if scores[best - 1] >= 0.6:
                better = best
        if better is not None:
            fixed += 1
            first = CITED.search(sentence)
            assert first is not None
            sentence = sentence[: first.start()] + f"[{better}]" + CITED.sub("", sentence[first.end():])
        out.append(sentence)
    new = "".join(out)
    order = tuple(dict.fromkeys(int(n) for n in CITED.findall(new)))
    return new, order, fixed


def claims(text: str) -> list[tuple[str, tuple[int, ...]]]:
    """Each sentence of a cleaned answer with the passage numbers it cites (markers removed)."""
    out = []
    for m in SENTENCE.finditer(text):
        sentence = m.group(0)
        ns = tuple(dict.fromkeys(int(n) for n in CITED.findall(sentence)))
        body = CITED.sub("", sentence).strip()
        if body:
            out.append((body, ns))
    return out
