"""Chunks: exact trimmed spans, cut at sentence ends, inside kept text, nothing lost."""
from __future__ import annotations

import statistics
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from rag.ingestion.chunk import chunk_spans, split_sentences, weighted_len
from rag.ingestion.clean import Span, clean, is_blank_char

SEEDS = sorted((Path(__file__).resolve().parent.parent / "seeds").glob("*.txt"))
SIZE, MAX = 600, 900
ENDS = ".!?…。！？;；"
CLOSERS = "\"'”’»)]」』）"


def load(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def sentences(text: str) -> list[str]:
    return [text[s.start : s.end] for s in split_sentences(text, Span(0, len(text)))]


def ends_sentence(piece: str) -> bool:
    return piece.rstrip(CLOSERS + " \u00a0")[-1:] in ENDS


# --- weighted length ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("s", "n"),
    [("", 0), ("abc", 3), ("é ô", 3), ("中文", 6), ("かなカナ", 12), ("한국", 6), ("88名", 5), ("中，文。", 8)],
)
def test_weighted_len(s, n):
    assert weighted_len(s) == n


# --- sentences ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # French: space before ? and !, decimals, thousands, initials, guillemets
        ("Il a arrêté 2 000 suspects. Puis ? Oui !", ["Il a arrêté 2 000 suspects.", "Puis ?", "Oui !"]),
        ("Ils ont résolu 391.000 cas, en hausse de 5,7% sur un an. M. Dupont l’a confirmé.",
         ["Ils ont résolu 391.000 cas, en hausse de 5,7% sur un an.", "M. Dupont l’a confirmé."]),
        ("« C’est fini. » Puis il est parti.", ["« C’est fini. »", "Puis il est parti."]),
        ("Quoi ?! Non… Enfin… la fin.", ["Quoi ?!", "Non…", "Enfin… la fin."]),
        ("1. Premier point. 2. Second point.", ["1. Premier point.", "2. Second point."]),
        # English: titles, initials, dotted abbreviations, quotes
        ("Mr. Smith met Dr. Jones at 5 p.m. today. Did he? Yes!",
         ["Mr. Smith met Dr. Jones at 5 p.m. today.", "Did he?", "Yes!"]),
        ('The U.S. team said "Stop." Then it left (quietly.) The end.',
         ['The U.S. team said "Stop."', "Then it left (quietly.)", "The end."]),
        ("Nearly 1,000 suspects were sent back. 80% of cases start abroad.",
         ["Nearly 1,000 suspects were sent back.", "80% of cases start abroad."]),
        # Vietnamese: thousands with dots, dates with slashes
        ("Myanmar đã trao trả hơn 5.500 nghi phạm. Campuchia bắt giữ 2.141 nghi phạm vào ngày 14/11. Bao nhiêu?",
         ["Myanmar đã trao trả hơn 5.500 nghi phạm.", "Campuchia bắt giữ 2.141 nghi phạm vào ngày 14/11.", "Bao nhiêu?"]),
        # Traditional Chinese: 。！？ with closing quotes, no spaces
        ("他說：「我們抓了88人。」然後離開了。真的嗎？是的！",
         ["他說：「我們抓了88人。」", "然後離開了。", "真的嗎？", "是的！"]),
        ("近期,中國警方積極開展警務合作。打掉多個窩點,抓獲嫌疑人。", ["近期,中國警方積極開展警務合作。", "打掉多個窩點,抓獲嫌疑人。"]),
        ("  \n  ", []),
    ],
)
def test_split_sentences(text, expected):
    assert sentences(text) == expected


def test_semicolon_ends_only_a_long_sentence():
    short = "Il pleut; il vente."
    assert sentences(short) == [short]
    long = "，".join(["各國對電信網絡詐騙執法標準以及重視程度不同"] * 5) + ";有的犯罪分子在境外地區長期居住。"
    assert sentences(long) == [long[: long.index(";") + 1], long[long.index(";") + 1 :]]


def test_sentence_spans_are_offsets_into_the_text():
    text = "xx [Une phrase. Une autre !] yy"
    span = Span(text.index("[") + 1, text.index("]"))
    assert [text[s.start : s.end] for s in split_sentences(text, span)] == ["Une phrase.", "Une autre !"]


def test_overlong_sentence_is_cut_at_commas_within_max_size():
    long = "，".join(["電信網絡詐騙犯罪呈現出產業化"] * 30) + "。"
    pieces = [long[s.start : s.end] for s in split_sentences(long, Span(0, len(long)), max_size=200)]
    assert "".join(pieces) == long
    assert all(weighted_len(p) <= 200 for p in pieces)
    assert all(p.endswith("，") for p in pieces[:-1])


def test_overlong_piece_without_commas_stays_whole():
    long = "a" * 50
    assert [long[s.start : s.end] for s in split_sentences(long, Span(0, 50), max_size=10)] == [long]


def test_thousands_separators_are_not_cut_points():
    text = "Between 1,000 and 2,000 suspects, mostly men, were held"
    pieces = [text[s.start : s.end] for s in split_sentences(text, Span(0, len(text)), max_size=30)]
    assert pieces == ["Between 1,000 and 2,000 suspects,", "mostly men, were held"]


# --- chunks over the seeds -----------------------------------------------------------------------

def seed_chunks(path: Path) -> tuple[str, list[Span], list[Span]]:
    text = load(path)
    kept = list(clean(text).kept)
    return text, kept, chunk_spans(text, kept, size=SIZE, max_size=MAX)


def containing(paragraphs: list[Span], pos: int) -> Span:
    return next(p for p in paragraphs if p.start <= pos < p.end)


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name[:3])
def test_seed_chunks_are_well_formed(path):
    text, kept, chunks = seed_chunks(path)
    dropped = clean(text).dropped
    assert chunks
    for a, b in zip(chunks, chunks[1:]):
        assert a.end <= b.start  # ordered, no overlap
    for c in chunks:
        piece = text[c.start : c.end]
        assert piece == piece.strip()
        first, last = containing(kept, c.start), containing(kept, c.end - 1)
        assert not any(c.start < d.end and d.start < c.end for d in dropped)  # never bridges a dropped line
        inner = [p for p in kept if c.start < p.end and p.start < c.end]
        assert all(text[p.end : q.start].strip() == "" for p, q in zip(inner, inner[1:]))  # only blank lines between
        # starts and ends at sentence boundaries
        assert c.end == last.end or ends_sentence(piece), piece[-40:]
        assert c.start == first.start or ends_sentence(text[first.start : c.start].rstrip()), piece[:40]
        if weighted_len(piece) > MAX:
            assert len(split_sentences(text, c, max_size=MAX)) == 1


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name[:3])
def test_seed_chunks_lose_nothing(path):
    text, kept, chunks = seed_chunks(path)
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    for p in kept:
        assert all(i in covered for i in range(p.start, p.end) if not text[i].isspace())


def test_chinese_chunks_hold_as_much_as_french_ones():
    def mean_size(prefix: str) -> float:
        text, _, chunks = seed_chunks(next(p for p in SEEDS if p.name.startswith(prefix)))
        return statistics.mean(weighted_len(text[c.start : c.end]) for c in chunks)

    french = statistics.mean([mean_size("000"), mean_size("001")])
    assert mean_size("004") >= 0.5 * french


def test_title_joins_the_first_chunk():
    text, _, chunks = seed_chunks(next(p for p in SEEDS if p.name.startswith("001")))
    assert text[chunks[0].start : chunks[0].end].startswith("Les organes de sécurité publique chinois ont résolu")
    assert "\n\nDes suspects" in text[chunks[0].start : chunks[0].end]


# --- chunks on small texts -----------------------------------------------------------------------

def chunk_texts(text: str, size: int = SIZE, max_size: int = MAX) -> list[str]:
    return [text[c.start : c.end] for c in chunk_spans(text, clean(text).kept, size=size, max_size=max_size)]


def test_short_adjacent_paragraphs_share_a_chunk():
    assert chunk_texts("Titre\n\nUn. Deux.\n\nTrois.") == ["Titre\n\nUn. Deux.\n\nTrois."]


def test_chunks_never_bridge_a_dropped_line():
    assert chunk_texts("Un. Deux.\n\nShare | Print | Email\n\nTrois.") == ["Un. Deux.", "Trois."]


def test_speaker_label_goes_with_what_follows():
    text = "Question: what happened? " * 8 + "\n\nSun Maoli:\n\nThank you. " + "We acted. " * 20
    chunks = chunk_texts(text, size=200, max_size=300)
    assert any(c.startswith("Sun Maoli:\n\nThank you.") for c in chunks)


def test_long_paragraph_is_packed_by_sentences():
    text = " ".join(f"Sentence number {i} is here." for i in range(60))
    chunks = chunk_texts(text, size=100, max_size=150)
    assert len(chunks) > 5
    assert all(weighted_len(c) <= 150 and c.endswith(".") for c in chunks)
    assert " ".join(chunks) == text


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError):
        chunk_spans("x", [Span(0, 1)], size=100, max_size=50)


# --- property: nothing lost, nothing outside paragraphs ------------------------------------------

WORDS = st.one_of(
    st.text(alphabet="abcdéèçđơưạấ", min_size=1, max_size=8),
    st.text(alphabet="電信網絡詐騙犯罪人", min_size=1, max_size=6),
    st.sampled_from(["5,7%", "391.000", "M.", "Mr.", "2 000", "“quoted”", "(x)", "1,000"]),
)
SENTENCE = st.tuples(
    st.lists(WORDS, min_size=1, max_size=25),
    st.sampled_from([".", "!", "?", " ?", "…", "。", "！", "", ";", ",", "。」"]),
).map(lambda t: " ".join(t[0]) + t[1])
PARAGRAPH = st.lists(SENTENCE, min_size=1, max_size=8).map(" ".join)
GAP = st.sampled_from(["\n\n", "\n \n", "\n\u3000\n", "\nJUNK LINE\n"])


@st.composite
def documents(draw):
    paras = draw(st.lists(PARAGRAPH, min_size=1, max_size=6))
    text, spans = draw(st.sampled_from(["", "  ", "HEAD\n"])), []
    for i, p in enumerate(paras):
        if i:
            text += draw(GAP)
        spans.append(Span(len(text), len(text) + len(p)))
        text += p
    return text + draw(st.sampled_from(["", "\n", "  \n"])), spans


@given(doc=documents(), size=st.integers(10, 300), extra=st.integers(0, 300))
def test_chunks_are_exact_and_lose_nothing(doc, size, extra):
    text, paragraphs = doc
    max_size = size + extra
    chunks = chunk_spans(text, paragraphs, size=size, max_size=max_size)
    pieces = {(s.start, s.end) for p in paragraphs for s in split_sentences(text, p, max_size=max_size)}
    piece_starts = {a for a, _ in pieces}
    piece_ends = {b for _, b in pieces}
    covered = set()
    for a, b in zip(chunks, chunks[1:]):
        assert a.end <= b.start
    for c in chunks:
        assert c.start < c.end
        assert text[c.start : c.end] == text[c.start : c.end].strip()
        # inside paragraphs: every non-blank character of the chunk belongs to one
        for i in range(c.start, c.end):
            if not text[i].isspace():
                assert any(p.start <= i < p.end for p in paragraphs), (text[c.start : c.end], i)
        # made of whole sentence pieces
        assert c.start in piece_starts and c.end in piece_ends
        if weighted_len(text[c.start : c.end]) > max_size:
            assert (c.start, c.end) in pieces  # only a single unsplittable piece may exceed max_size
        covered.update(range(c.start, c.end))
    for p in paragraphs:
        for i in range(p.start, p.end):
            if not text[i].isspace():
                assert i in covered


@given(text=st.text(max_size=400), size=st.integers(10, 200), extra=st.integers(0, 200))
def test_clean_then_chunk_offsets_on_any_text(text, size, extra):
    # The whole pipeline on arbitrary Unicode: chunks are trimmed slices inside kept paragraphs.
    kept = clean(text).kept
    for c in chunk_spans(text, kept, size=size, max_size=size + extra):
        assert 0 <= c.start < c.end <= len(text)
        piece = text[c.start : c.end]
        assert not is_blank_char(piece[0]) and not is_blank_char(piece[-1])  # trimmed
        assert any(p.start <= c.start and c.end <= p.end for p in kept)
