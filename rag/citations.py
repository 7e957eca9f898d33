"""Turn a model's raw reply into clean text plus citations that point at retrieved passages only.

The model sees passages numbered [1]..[n]. Its markers come in many shapes ([1], [1, 2], [1][2],
【1】, ［1］, [Source 1], [^1]); we keep the numbers that name a retrieved passage, drop the rest,
and rewrite every kept marker as plain `[n]`. A pure function: no model, no store.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# A bracketed group whose content is only numbers, separators and an optional "source"-like word.
_MARKER = re.compile(
    r"\s*[\[【［]\s*\^?(?:(?:sources?|source|refs?|nguồn|来源|來源|出处|出處)\s*)?"
    r"(\d{1,4}(?:\s*(?:[,，;；、]|-|–|and|et|và|和)\s*\d{1,4})*)\s*[\]】］]",
    re.I,
)
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
    # Tidy what marker removal leaves behind: "claim [1] ." -> "claim [1]."
    text = re.sub(r"[ \t]+([.,;:!?。，；：！？])", r"\1", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    text = re.sub(r"(\[\d+\])[ \t]+(?=\[\d+\])", r"\1", text)  # "[2] [3]" -> "[2][3]"
    text = re.sub(r"(?<=[\u3000-\u9fff\uff00-\uffef]) (?=\[)", "", text)  # no space before [n] in CJK
    text = text.strip()
    return ParsedReply(text=text, cited=tuple(cited), refused=False, dropped=tuple(dropped))
