"""Chunking: kept paragraphs -> passages of about `size` weighted characters, cut at sentence ends.

Every result is a Span of the original text (trimmed), so text[start:end] is the chunk and the
offsets are what citations point at. Chunks are built inside runs of paragraphs that only
whitespace separates: a chunk never bridges a line that cleaning dropped.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from typing import Sequence

from rag.ingestion.clean import INVISIBLE, Span, is_blank_char, is_wide, trim


def weighted_len(s: str) -> int:
    """Length where a CJK ideograph, kana or hangul syllable counts 3 and anything else 1.

    In a parallel multilingual benchmark, Chinese passages are about 2.9x shorter in characters than
    the French, English or Vietnamese versions of the same content; weighting by 3 makes one chunk
    size hold about the same amount of meaning in every language.
    """
    return len(s) + 2 * len(_WIDE.findall(s))


# The characters is_wide() accepts, counted by the regex engine: chunking weighs the same text often.
_WIDE = re.compile("[\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff\U00020000-\U0002fa1f\u3040-\u30ff"
                   "\u31f0-\u31ff\u1100-\u11ff\uac00-\ud7af]")


# --- sentences --------------------------------------------------------------------------------

_CLOSERS = "\"'”’»)]}」』）〕】〉》"
# Latin-script ends: . ! ? … (possibly repeated), closing quotes/brackets, then whitespace or the end.
# French puts a (narrow) no-break space before ? ! and inside « »: "Quoi ?" and "… fin. »" both end here.
# A run of marks is tried from its first mark only (the lookbehind): from each mark of a long run of
# dots, the run would be rescanned, which is quadratic. Every pattern here is linear in its input.
# Group 1 is the word just before the marks, when there is one (for _is_false_end), taken whole from
# its first character only; group 2 the marks.
_LATIN_END = re.compile(
    rf"(?:(?<!\w)(\w++))?(?<![.!?…])([.!?…]+)(?:[{re.escape(_CLOSERS)}]|[ \u00a0\u202f]+»)*(?=\s|$)")
# CJK ends need no space after them (nor do ASCII ! ? typed between Chinese characters).
_CJK_END = re.compile(rf"(?:[。！？｡]+|(?<![!?])[!?]+(?=[\u3400-\u9fff]))[{re.escape(_CLOSERS)}]*")
_SEMICOLON = re.compile(r"[;；]")
# Where an over-long sentence may be cut: after a comma, semicolon or colon, but not inside "1,000".
_SOFT = re.compile(r"[，；：、]|[,;:](?=\s|[\u3400-\u9fff])")

# A full stop after these is an abbreviation, not a sentence end ("Mr. Smith", "M. Dupont").
# Only words that are rarely the last word of a sentence are listed ("etc", "no", "art" are not).
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st mt vs vol fig cf al approx dept "  # English
    "mme mlle pr "  # French ("M." is an initial, below)
    "tp ths ts pgs gs".split()  # Vietnamese titles and "TP." (thành phố, city)
)
_NOT_BLANK = re.compile(r"\S")

# A semicolon ends a sentence only when what precedes it is already this long (weighted).
_LONG_SENTENCE = 240


def split_sentences(text: str, span: Span, *, max_size: int = 900) -> list[Span]:
    """Sentence spans (trimmed, in order) covering every non-blank character of text[span].

    A sentence longer than `max_size` (weighted) is further cut after commas, semicolons or colons;
    a piece with none of those stays whole.
    """
    start, end = trim(text, span.start, span.end)
    if start >= end:
        return []
    cuts = sorted(_sentence_ends(text, start, end))
    out: list[Span] = []
    pos = start
    for cut in [*cuts, end]:
        s, e = pos, cut
        # trim(), inlined: a run of tiny sentences makes this loop the hot path of chunking
        while s < e and (text[s].isspace() or text[s] in INVISIBLE):
            s += 1
        while e > s and (text[e - 1].isspace() or text[e - 1] in INVISIBLE):
            e -= 1
        if s < e:
            if 3 * (e - s) <= max_size:
                out.append(Span(s, e))  # short enough whatever its script
            else:
                out.extend(_split_long(text, Span(s, e), max_size))
        pos = cut
    return out


def _sentence_ends(text: str, start: int, end: int) -> set[int]:
    piece = text[start:end]
    ends: set[int] = set()
    last = 0  # where the current sentence began, in piece
    for m in _LATIN_END.finditer(piece):
        if not _is_false_end(piece, m, last):
            ends.add(start + m.end())
            last = m.end()
    for m in _CJK_END.finditer(piece):
        ends.add(start + m.end())
    # A semicolon ends a sentence only once the running sentence is long (measured from the last end).
    sorted_ends = sorted(ends)
    semicolon_end = start
    for m in _SEMICOLON.finditer(piece):
        i = bisect_right(sorted_ends, start + m.start())
        last = max(sorted_ends[i - 1] if i else start, semicolon_end) - start
        # The weight is at least the length: past _LONG_SENTENCE characters, no need to count.
        if m.start() - last >= _LONG_SENTENCE or weighted_len(piece[last : m.start()]) >= _LONG_SENTENCE:
            ends.add(start + m.end())
            semicolon_end = start + m.end()
    return {e for e in ends if start < e < end}


def _is_false_end(piece: str, m: re.Match[str], sentence_start: int) -> bool:
    """A full stop or ellipsis that does not end a sentence: abbreviations, initials, list numbers."""
    punct = m.group(2)
    if "…" in punct or punct.startswith(".."):
        # "Enfin… la fin": an ellipsis followed by a lowercase word goes on with the sentence
        rest = _NOT_BLANK.search(piece, m.end())
        return rest is not None and rest.group(0).islower()
    word = m.group(1)
    if not word or punct[0] != ".":
        return False
    at = m.start(2)
    if word.isdigit():
        # "1. " opening a sentence (or a line) is a list number
        return piece[sentence_start : at - len(word)].strip() == ""
    if len(word) == 1 and word.isupper():
        return True  # an initial: "M. Dupont", "J. Smith"
    if at - len(word) > 0 and piece[at - len(word) - 1] == ".":
        return True  # a dotted abbreviation: "e.g.", "U.S.", "p.m."
    return word.lower() in _ABBREVIATIONS


def _split_long(text: str, sentence: Span, max_size: int) -> list[Span]:
    """Cut an over-long sentence after soft punctuation so that pieces fit max_size where possible."""
    def over(a: int, b: int) -> bool:
        # The weight is at least the length: a long remainder needs no counting (which, at each
        # piece, would make a long sentence cost its length squared).
        n = b - a
        return n > max_size or (3 * n > max_size and weighted_len(text[a:b]) > max_size)

    if not over(sentence.start, sentence.end):
        return [sentence]
    pieces: list[Span] = []
    start = sentence.start
    while over(start, sentence.end):
        best = None
        size = 0
        for i in range(start, sentence.end):
            size += 3 if is_wide(text[i]) else 1
            if size > max_size:
                break
            if i + 1 < sentence.end and _SOFT.match(text, i):
                best = i + 1
        if best is None:
            # Nothing to cut at within max_size: take the piece up to the next soft mark whole.
            m = _SOFT.search(text, start, sentence.end - 1)
            if not m:
                break
            best = m.end()
        s, e = trim(text, start, best)
        if s < e:
            pieces.append(Span(s, e))
        start = best
    s, e = trim(text, start, sentence.end)
    if s < e:
        pieces.append(Span(s, e))
    return pieces


# --- chunks -----------------------------------------------------------------------------------

def chunk_spans(text: str, paragraphs: Sequence[Span], size: int = 600, max_size: int = 900) -> list[Span]:
    """Pack sentences into chunks of about `size` weighted characters (up to `max_size` to avoid a tiny tail).

    A chunk ends at a sentence end, stays inside one run of whitespace-separated paragraphs, and
    exceeds `max_size` only when a single sentence piece does. Consecutive short paragraphs share a
    chunk; a short lead (a title, a "Speaker:" line) joins the start of the paragraph after it.
    """
    if size <= 0 or max_size < size:
        raise ValueError(f"need 0 < size <= max_size, got size={size}, max_size={max_size}")
    chunks: list[Span] = []
    cur: Span | None = None  # chunk being built

    wide = _WIDE.search(text) is not None  # without CJK, the weight is the length

    def weight(a: int, b: int) -> int:
        # Past max_size characters the exact weight changes no decision below (it is at least the length).
        return b - a if not wide or b - a > max_size else weighted_len(text[a:b])

    paras = [Span(*trim(text, p.start, p.end)) for p in paragraphs]
    paras = [p for p in paras if p.start < p.end]
    # joined[i]: only whitespace separates paragraph i from paragraph i + 1 (nothing was dropped there)
    joined = [all(is_blank_char(c) for c in text[a.end : b.start]) for a, b in zip(paras, paras[1:])] + [False]
    short = size // 4
    for k, para in enumerate(paras):
        if cur is not None:
            small = weight(para.start, para.end) < short
            lead = small and joined[k] and text[para.end - 1] in ":："  # "Speaker:" introduces what follows
            if not joined[k - 1]:
                chunks.append(cur)
                cur = None
            elif not lead and weight(cur.start, para.end) <= size:
                cur = Span(cur.start, para.end)  # the whole paragraph fits: merge it
                continue
            elif small and not joined[k] and weight(cur.start, para.end) <= max_size:
                cur = Span(cur.start, para.end)  # a short last line (byline, source) stays with the text
                continue
            elif weight(cur.start, cur.end) >= short:
                chunks.append(cur)  # a substantial chunk ends with its paragraph
                cur = None
            # else: a short lead (title, byline, "Speaker:") continues into this paragraph
        sentences = split_sentences(text, para, max_size=max_size)
        cur_weight = weight(cur.start, cur.end) if cur is not None else 0  # kept up to date: no re-counting
        for i, sent in enumerate(sentences):
            sent_weight = weight(sent.start, sent.end)
            if cur is None:
                cur, cur_weight = sent, sent_weight
                continue
            grown = cur_weight + (sent.start - cur.end) + sent_weight  # only spaces lie between sentences
            # a short last sentence may push the chunk past size (up to max_size) rather than stand alone
            tail = i == len(sentences) - 1 and sent_weight < short
            if grown <= size or (tail and grown <= max_size):
                cur, cur_weight = Span(cur.start, sent.end), grown
            else:
                chunks.append(cur)
                cur, cur_weight = sent, sent_weight
    if cur is not None:
        chunks.append(cur)
    return chunks
