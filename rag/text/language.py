"""Language of a text: an ISO 639-1 code, "zh-Hans"/"zh-Hant" for Chinese, "und" when unknown.

Script comes first (Chinese characters, kana, hangul, Vietnamese letters are decisive on their own),
then py3langid, restricted to common languages and nudged towards the corpus's languages, because
a three-word question carries little evidence ("Combien de cas en 2022 ?" scores as Spanish).
Both the langid model and the OpenCC tables load on first use, not at import.
"""
from __future__ import annotations

import re
from functools import lru_cache

# The languages the assistant answers in, and whose words its catalogs hold: the one home of this list.
SUPPORTED: tuple[str, ...] = ("en", "fr", "vi", "zh-Hans", "zh-Hant")

LANGUAGE_NAMES: dict[str, str] = {
    "fr": "French",
    "en": "English",
    "vi": "Vietnamese",
    "zh-Hans": "Simplified Chinese",
    "zh-Hant": "Traditional Chinese",
    "ja": "Japanese",
    "ko": "Korean",
    "af": "Afrikaans",
    "ar": "Arabic",
    "bg": "Bulgarian",
    "bn": "Bengali",
    "ca": "Catalan",
    "cs": "Czech",
    "da": "Danish",
    "de": "German",
    "el": "Greek",
    "es": "Spanish",
    "et": "Estonian",
    "fa": "Persian",
    "fi": "Finnish",
    "he": "Hebrew",
    "hi": "Hindi",
    "hr": "Croatian",
    "hu": "Hungarian",
    "id": "Indonesian",
    "it": "Italian",
    "km": "Khmer",
    "lo": "Lao",
    "lt": "Lithuanian",
    "lv": "Latvian",
    "ms": "Malay",
    "my": "Burmese",
    "nl": "Dutch",
    "no": "Norwegian",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sk": "Slovak",
    "sl": "Slovenian",
    "sr": "Serbian",
    "sv": "Swedish",
    "sw": "Swahili",
    "ta": "Tamil",
    "th": "Thai",
    "tl": "Tagalog",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "ur": "Urdu",
    "und": "an undetermined language",
}

# The languages langid may answer: common written languages only. The full model also knows
# regional languages and dialects (Pidgin, Ligurian, Walloon...) that win on short inputs by chance.
_CANDIDATES = tuple(c for c in LANGUAGE_NAMES if "-" not in c and c not in ("und",)) + ("zh",)
# The corpus's languages get this prior weight over the others.
_FAVOURED = {"fr": 4.0, "en": 4.0, "vi": 4.0, "zh": 4.0}
_MIN_CONFIDENCE = 0.15  # below this (after priors), there is not enough text to tell
_CLEARLY = 0.5

# Letters that, among the candidate languages, only Vietnamese writes: ơ ư and the toned vowels of
# the "Latin Extended Additional" Vietnamese block (ạ ả ấ ề ộ ữ ...). Not ă â đ: Romanian and
# Croatian have them. Counted in lowercase words only, so that Vietnamese names in an English
# question ("What did Nguyễn say?") do not decide; almost every Vietnamese sentence has such words.
_VIETNAMESE = re.compile(r"[ơưƠƯ\u1ea0-\u1ef9]")
_VIETNAMESE_SHARE = 0.1  # of the words
_FRENCH_SPACING = re.compile(r"\w[ \u00a0\u202f][?!;:»]")  # French typography: "Quoi ?"


def name(code: str) -> str:
    """English name of a language code ("zh-Hant" -> "Traditional Chinese"); unknown codes come back as given."""
    return LANGUAGE_NAMES.get(code, code)


def detect(text: str) -> str:
    """Language code of `text`: "fr", "en", "vi", "zh-Hans", "zh-Hant", another ISO 639-1 code, or "und"."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return "und"
    han = sum(_is_han(ch) for ch in letters)
    kana = sum(0x3040 <= ord(ch) <= 0x30FF for ch in letters)
    hangul = sum(0xAC00 <= ord(ch) <= 0xD7AF or 0x1100 <= ord(ch) <= 0x11FF for ch in letters)
    if kana and (kana + han) >= 0.3 * len(letters):
        return "ja"
    if hangul >= 0.3 * len(letters):
        return "ko"
    if han >= 0.3 * len(letters):
        return chinese_variant(text)
    words = (text.lower() if text.isupper() else text).split()
    toned = [w for w in words if _VIETNAMESE.search(w)]
    if toned:
        if sum(1 for w in toned if not w[:1].isupper()) >= max(1.0, _VIETNAMESE_SHARE * len(words)):
            return "vi"
        # Only capitalised words carry Vietnamese letters: names, or a Vietnamese title. Judge the
        # rest; unless it is clearly another language, the text is Vietnamese.
        rest = " ".join(w for w in words if not _VIETNAMESE.search(w))
        code, confidence = _langid(rest)
        return code if code not in ("und", "vi") and confidence >= _CLEARLY else "vi"
    code, confidence = _langid(text)
    if confidence < _MIN_CONFIDENCE:
        return "und"
    if code == "zh":
        return chinese_variant(text)
    return code


def chinese_variant(text: str) -> str:
    """"zh-Hant" when more characters are Traditional-only than Simplified-only, else "zh-Hans"."""
    t2s, s2t = _converters()
    traditional = simplified = 0
    counts: dict[str, int] = {}
    for ch in text:
        if _is_han(ch):
            counts[ch] = counts.get(ch, 0) + 1
    for ch, n in counts.items():
        if t2s.convert(ch) != ch:
            traditional += n  # has a simpler form: written in Traditional
        elif s2t.convert(ch) != ch:
            simplified += n  # has a traditional form: written in Simplified
    return "zh-Hant" if traditional > simplified else "zh-Hans"


def _is_han(ch: str) -> bool:
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x2FA1F


def _langid(text: str) -> tuple[str, float]:
    """Best candidate language and its probability after the priors; ("und", 0.0) without letters."""
    if not any(ch.isalpha() for ch in text):
        return "und", 0.0
    identifier = _identifier()
    scores = dict(identifier.rank(text))
    if _FRENCH_SPACING.search(text):
        scores["fr"] = scores.get("fr", 0.0) * 4.0
    weighted = {code: p * _FAVOURED.get(code, 1.0) for code, p in scores.items()}
    total = sum(weighted.values()) or 1.0
    code, best = max(weighted.items(), key=lambda kv: kv[1])
    return code, best / total


@lru_cache(maxsize=1)
def _identifier():
    # py3langid ships its model inside the package: no download, about 0.4 s to load.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages([c for c in _CANDIDATES if c in identifier.labels])
    return identifier


@lru_cache(maxsize=1)
def _converters():
    from opencc import OpenCC

    return OpenCC("t2s"), OpenCC("s2t")


def to_script(text: str, language: str) -> str:
    """Chinese text in the script of `language` (zh-Hant: Traditional, zh-Hans: Simplified).

    The local model often answers a Traditional question in Simplified characters; converting its
    answer is exact where the question's script is known. Other languages are returned unchanged.
    """
    if language not in ("zh-Hans", "zh-Hant") or not _HAN_ANY.search(text):
        return text
    t2s, s2t = _converters()
    return (t2s if language == "zh-Hans" else s2t).convert(text)


_HAN_ANY = re.compile(r"[\u3400-\u9fff]")
