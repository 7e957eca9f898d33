"""Keyword tokens for fr / en / vi / zh text: what the keyword (BM25) index stores and queries with.

`tokens(text, language)` normalises (NFKC, lowercase, one apostrophe) and then reads the text
left to right, token by token:

- Numbers, in every language: each written number gives all its readings (rag.text.numbers), so
  "2.141", "2,141", "2 141" and "2141" all give "2141" (and "2.141", "2,141" also "2.141");
  "5,7" gives "5.7"; "1207名" gives "1207". A number right after a Latin letter is part of a word
  ("mp3", "h5n1").
- Chinese, whatever the declared language: each run of ideographs is converted to Simplified
  (OpenCC t2s), so Traditional and Simplified give the same tokens, then segmented with jieba.
  The words are kept, plus the character bigrams of the run that are not already a two-character
  word at that place (so "嫌疑人" also gives "嫌疑", "疑人": a question and a passage that jieba cuts
  differently still share tokens). Function characters and question words are dropped, and so
  are bigrams made with a function character.
- Vietnamese (declared "vi", or undeclared Latin text where Vietnamese-only letters are common):
  syllables keep their diacritics (ma, má, mà, mả are different words); the tone mark of
  "oa", "oe", "uy" ending a syllable is put in one place (hòa/hoà -> hoà, thủy/thuỷ -> thuỷ).
  Unigrams: every syllable but the stop syllables (của, là, có, bao, nhiêu ...). Bigrams: each
  pair of neighbouring syllables (not across punctuation or a number), joined by "_"
  ("nghi_phạm"), dropped only when both syllables are stop syllables: "có_thể" and "bao_gồm" stay,
  "của_các" and "bao_nhiêu" go.
- French / English: words (an elided "l'", "d'", "qu'"... is removed: "l'opération" ->
  "opération"; an English "'s", "'t"... too), stop words removed, Snowball stem of the declared
  language, then accents folded (stemming needs them; a question typed without accents should
  still match). When the stem differs, the folded word itself is kept too ("panthers" ->
  "panther", "panthers"): names and cognates are written that way in the other languages'
  passages (measured on the eval set: cross-language recall@10 0.22 -> 0.26, same-language equal).
- Other or undeclared Latin text: words, French and English stop words removed, accents folded,
  no stemming (a wrong stemmer does more harm than none).
- Other scripts: words, lowercased. Single letters are dropped everywhere.

Nothing loads at import: OpenCC, jieba and the stemmers are built on first use. jieba keeps its
dictionary cache in a private directory under the system temporary directory, never in ~ or the
checkout.
"""
from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
import time
import unicodedata
from functools import lru_cache
from pathlib import Path

from rag.text.numbers import NUMBER, readings

log = logging.getLogger(__name__)

# Bump when the tokens of some text change: an index built with another version must be rebuilt.
VERSION = 1

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2032": "'", "`": "'"})
_WORD_CHAR = rf"[^\W_{_HAN}]"  # a letter or digit that is not an ideograph
_LETTER = rf"[^\W\d_{_HAN}]"  # a letter that is not an ideograph
_SCAN = re.compile(
    # a number, unless glued to a preceding letter; then a run of ideographs; then a word
    rf"(?P<num>(?<!{_LETTER})(?:{NUMBER.pattern}))"
    rf"|(?P<han>[{_HAN}]+)"
    rf"|(?P<word>{_WORD_CHAR}+(?:'{_WORD_CHAR}+)*)"
)
_SPACE_ONLY = re.compile(r"\s*")
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae"})

# --- stop lists (short on purpose: BM25's idf already discounts frequent words) -----------------

_EN_STOP = frozenset(
    """a an the and or but if of to in on at by for with from as into about than then so not no nor
    is are was were be been being am do does did done has have had having it its this that these
    those there here he she they them his her hers their theirs we us our you your i me my him
    which who whom whose what when where why how many much also can could would should will shall
    may might must any some such each other more most very s t""".split()
)
_FR_STOP = frozenset(
    """le la les l un une des du de d au aux et ou où en à a est sont été être était étaient avoir
    ont avait ai as il elle ils elles on ce cet cette ces c se s sa son ses leur leurs qui que qu
    quoi quel quelle quels quelles lequel laquelle lesquels dont par pour sur dans avec sans sous
    entre vers chez plus ne n pas y lui je j tu nous vous me m te t mon ma mes ton ta tes notre nos
    votre vos comme mais donc or ni car si combien comment pourquoi quand fait faire""".split()
)
_LATIN_STOP = _EN_STOP | _FR_STOP
# Elided French words before an apostrophe, and English clitics after one.
_ELISIONS = frozenset("l d j m n s t c qu jusqu lorsqu puisqu quoiqu presqu".split())
_CLITICS = frozenset("s t d ll re ve m".split())

_VI_STOP = frozenset(
    """và của là có các những được cho với trong đã này một thì mà để khi từ ra vào sẽ đang bị
    cũng không về theo tại nhưng hoặc nên vì rằng ở lại đó ấy gì nào bao nhiêu đâu sao hay nhiều
    như""".split()
)
# Vietnamese-only letters (not ă â đ ê ô: Romanian, Croatian, French have them).
_VIETNAMESE_LETTER = re.compile(r"[ơư\u1ea0-\u1ef9]")
_VI_SHARE = 0.15  # of the words of undeclared Latin text, for it to count as Vietnamese
# A tone mark on the first vowel of a final "oa", "oe", "uy" (hòa, khỏe, thủy) goes on the second.
_VI_TONE_MOVE = re.compile("(o)([\u0300\u0301\u0303\u0309\u0323])([ae])$|(u)([\u0300\u0301\u0303\u0309\u0323])(y)$")

# Chinese: function characters (dropped alone and from bigrams) and function / question words.
_ZH_STOP_CHARS = frozenset("的地得了着过是在和与及或等个名这那也都就而被把对于为之其以吗呢吧啊么呀哪谁")
_ZH_STOP_WORDS = _ZH_STOP_CHARS | frozenset(
    "什么 多少 哪些 哪个 哪里 为什么 如何 怎么 怎样 什么样 何时 是否 几个 一个 这个 那个 我们 他们 它们 以及 还是 因为 所以".split()
)

_lock = threading.Lock()


def tokens(text: str, language: str | None = None) -> list[str]:
    """Keyword tokens of `text`, in order of appearance (a token may occur several times)."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_APOSTROPHES)
    latin = _latin_mode(text, language)
    out: list[str] = []
    prev_syllable: str | None = None  # Vietnamese: the syllable a bigram may start with
    last_end = 0
    for m in _SCAN.finditer(text):
        if prev_syllable is not None and not _SPACE_ONLY.fullmatch(text, last_end, m.start()):
            prev_syllable = None  # punctuation between: no bigram across it
        last_end = m.end()
        kind = m.lastgroup
        if kind == "num":
            out.extend(sorted(readings(m.group())))
            prev_syllable = None
        elif kind == "han":
            out.extend(_chinese(m.group()))
            prev_syllable = None
        elif latin == "vi":
            for syllable in m.group().split("'"):
                syllable = _vi_syllable(syllable)
                if prev_syllable is not None and not (prev_syllable in _VI_STOP and syllable in _VI_STOP):
                    out.append(f"{prev_syllable}_{syllable}")
                if syllable not in _VI_STOP and len(syllable) > 1:
                    out.append(syllable)
                prev_syllable = syllable
        else:
            out.extend(_latin_words(m.group(), latin))
    return out


def _latin_mode(text: str, language: str | None) -> str:
    """How to read Latin-script words: "fr", "en" (stemmed), "vi" (syllables) or "" (plain)."""
    if language in ("fr", "en", "vi"):
        return language
    words = text.split()
    if words:
        marked = sum(1 for w in words if _VIETNAMESE_LETTER.search(w))
        if marked >= max(1.0, _VI_SHARE * len(words)):
            return "vi"
    return ""


def _latin_words(word: str, mode: str) -> list[str]:
    parts = word.split("'")
    if len(parts) > 1:
        if parts[0] in _ELISIONS:
            parts = parts[1:]  # l'opération, d'interpol, qu'il
        if len(parts) > 1 and parts[-1] in _CLITICS:
            parts = parts[:-1]  # carolina's, don't
    stop = {"fr": _FR_STOP, "en": _EN_STOP}.get(mode, _LATIN_STOP)
    out = []
    for w in parts:
        if len(w) > 1 and w not in stop:
            stem = _stem(w, mode)
            out.append(stem)
            if mode and stem != (plain := fold(w)):
                out.append(plain)  # the unstemmed word too: it is what other languages write
    return out


@lru_cache(maxsize=65536)
def _stem(word: str, mode: str) -> str:
    if mode in ("fr", "en"):
        word = _stemmer(mode).stemWord(word)
    return fold(word)


@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """Remove accents (é -> e, ç -> c) and split œ, æ; other letters without a decomposition (ø, đ) stay."""
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFD", word.translate(_LIGATURES))
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


@lru_cache(maxsize=65536)
def _vi_syllable(syllable: str) -> str:
    if syllable.isascii():
        return syllable
    decomposed = unicodedata.normalize("NFD", syllable)
    return unicodedata.normalize("NFC", _VI_TONE_MOVE.sub(_move_tone, decomposed))


def _move_tone(m: re.Match[str]) -> str:
    first, tone, second = (g for g in m.groups() if g is not None)
    return first + second + tone


def _chinese(run: str) -> list[str]:
    run = _t2s().convert(run)
    out: list[str] = []
    two_char_words: set[int] = set()  # where a two-character word starts (its bigram is the word)
    pos = 0
    for word in _jieba().lcut(run):
        if len(word) == 2:
            two_char_words.add(pos)
        pos += len(word)
        if word not in _ZH_STOP_WORDS and not word.isspace():
            out.append(word)
    for i in range(len(run) - 1):
        bigram = run[i : i + 2]
        if i in two_char_words or bigram in _ZH_STOP_WORDS:
            continue
        if bigram[0] in _ZH_STOP_CHARS or bigram[1] in _ZH_STOP_CHARS:
            continue
        out.append(bigram)
    return out


# --- lazily built helpers ---------------------------------------------------------------------

@lru_cache(maxsize=2)
def _stemmer(language: str):
    import snowballstemmer

    return snowballstemmer.stemmer({"fr": "french", "en": "english"}[language])


@lru_cache(maxsize=1)
def _t2s():
    from opencc import OpenCC

    return OpenCC("t2s")


_segmenter = None


def _jieba():
    """jieba's tokenizer, initialised once; its cache goes to a private temporary directory."""
    global _segmenter
    if _segmenter is None:
        with _lock:
            if _segmenter is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                user = os.getuid() if hasattr(os, "getuid") else "user"
                cache_dir = Path(tempfile.gettempdir()) / f"rag-jieba-{user}"
                cache_dir.mkdir(mode=0o700, exist_ok=True)
                tokenizer = jieba.Tokenizer()
                tokenizer.tmp_dir = str(cache_dir)
                started = time.perf_counter()
                tokenizer.initialize()
                log.info("loaded jieba's dictionary in %.1f s", time.perf_counter() - started)
                _segmenter = tokenizer
    return _segmenter
