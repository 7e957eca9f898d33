"""Cleaning: find the paragraphs worth indexing in a page saved as text, by offsets into the original.

Nothing is rewritten: `clean` returns spans of the original text (kept paragraphs) and the lines it
dropped with a reason, so citations keep pointing at the file as it is on disk. It works line by
line with general rules about what page boilerplate and SEO spam look like (markup, keyword lists,
navigation and comment-form phrases, pagination, breadcrumbs, copyright notices). The phrase
vocabulary is generic site furniture in English, French, Vietnamese and Chinese, not the lines of
any particular site. Short lines that are not caught (titles, bylines, captions, "Speaker:") stay.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator


@dataclass(frozen=True)
class Span:
    """text[start:end] of the text it was computed on."""

    start: int
    end: int


@dataclass(frozen=True)
class Dropped:
    """A line left out, with why (for reports and debugging the rules)."""

    start: int
    end: int
    reason: str


@dataclass(frozen=True)
class Cleaned:
    kept: tuple[Span, ...]  # paragraphs, in order, trimmed
    dropped: tuple[Dropped, ...]


def clean(text: str) -> Cleaned:
    """Split `text` into kept paragraphs and dropped lines; every offset is into `text` itself."""
    kept: list[Span] = []
    dropped: list[Dropped] = []
    start: int | None = None  # the paragraph being built
    end = 0
    for line_start, line_end in _lines(text):
        s, e = trim(text, line_start, line_end)
        reason = _reason(text[s:e]) if s < e else None
        if s == e or reason:
            # A blank or dropped line ends the paragraph: chunks must never bridge boilerplate.
            if start is not None:
                kept.append(Span(start, end))
                start = None
            if reason:
                dropped.append(Dropped(s, e, reason))
            continue
        if start is None:
            start = s
        end = e
    if start is not None:
        kept.append(Span(start, end))
    return Cleaned(tuple(kept), tuple(dropped))


# Whitespace for trimming: str.isspace() covers NBSP and the ideographic space U+3000; zero-width
# space and a stray BOM are invisible too.
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"


def is_blank_char(ch: str) -> bool:
    return ch.isspace() or ch in INVISIBLE


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Narrow [start, end) past leading and trailing whitespace; (x, x) when nothing is left."""
    while start < end and is_blank_char(text[start]):
        start += 1
    while end > start and is_blank_char(text[end - 1]):
        end -= 1
    return start, end


_NEWLINE = re.compile(r"\r\n|\r|\n")


def _lines(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each line without its terminator; \\r\\n, \\r and \\n all end a line."""
    pos = 0
    for m in _NEWLINE.finditer(text):
        yield pos, m.start()
        pos = m.end()
    yield pos, len(text)


# --- the rules --------------------------------------------------------------------------------

def _reason(line: str) -> str | None:
    """Why this (trimmed, non-empty) line is boilerplate, or None to keep it."""
    line = _LIST_MARKER.sub("", line)  # "• Your Comment", "1. <dfn>": judge what the bullet holds
    if not any(ch.isalnum() for ch in line):
        return "no words (punctuation or symbols only)"
    if _is_markup(line):
        return "HTML markup debris"
    if _COPYRIGHT_START.search(line) or (len(line) <= _SHORT and _COPYRIGHT_ANY.search(line)):
        return "copyright notice"
    if _is_pagination(line):
        return "pagination"
    if _is_breadcrumb(line):
        return "breadcrumb"
    if len(line) <= _SHORT:
        m = _FURNITURE.search(line) or (None if _CJK_STOP.search(line) else _FURNITURE_CJK.search(line))
        if m:
            return f"page furniture ({m.group(0).strip()!r})"
        if _is_nav_words_only(line):
            return "navigation or sharing links"
        if _is_glued_links(line):
            return "navigation links run together"
    if _is_keyword_salad(line):
        return "keyword list without sentences (SEO spam)"
    return None


# Furniture phrases are only looked for in lines this short: a real paragraph may quote them.
_SHORT = 160

# A line that ends like a sentence (closing quotes and brackets may follow the punctuation).
_SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’»)\]」』）]*$")
_CJK_STOP = re.compile(r"[。！？]")
_LIST_MARKER = re.compile(r"^(?:[-*•·▪◦]|\d{1,3}[.)])\s+")


def is_wide(ch: str) -> bool:
    """A CJK ideograph, kana or hangul: scripts that write words without spaces, densely."""
    o = ord(ch)
    return (
        0x4E00 <= o <= 0x9FFF  # CJK unified ideographs
        or 0x3400 <= o <= 0x4DBF  # extension A
        or 0xF900 <= o <= 0xFAFF  # compatibility ideographs
        or 0x20000 <= o <= 0x2FA1F  # extensions B.. and compatibility supplement
        or 0x3040 <= o <= 0x30FF  # hiragana, katakana
        or 0x31F0 <= o <= 0x31FF  # katakana extensions
        or 0x1100 <= o <= 0x11FF  # hangul jamo
        or 0xAC00 <= o <= 0xD7AF  # hangul syllables
    )


# Tags, comments and character entities: what is left of a page's HTML after a bad text export.
# A comment left open runs to the end of the line: else each "<!--" of a run would rescan the line.
_MARKUP = re.compile(
    r"<!--.*?(?:-->|$)|</?[A-Za-z][\w:-]*(?:\s[^<>]*)?/?>|&(?:[A-Za-z]{2,8}|#\d{1,6}|#x[0-9A-Fa-f]{1,6});"
)


def _is_markup(line: str) -> bool:
    tags = _MARKUP.findall(line)
    if not tags:
        return False
    solid = sum(1 for ch in line if not ch.isspace())
    markup = sum(sum(1 for ch in t if not ch.isspace()) for t in tags)
    rest = _LIST_MARKER.sub("", _MARKUP.sub(" ", line).strip())
    return markup >= 0.5 * solid or (len(tags) >= 2 and sum(ch.isalpha() for ch in rest) < 3)


_COPYRIGHT_START = re.compile(
    r"^(?:©|\(c\)\s*\d{4}|copyright\s*(?:©|\(c\)|\d{4}|:)|(?:版權聲明|版权声明|免責聲明|免责声明)\s*[:：]"
    r"|版權所有|版权所有|bản quyền thuộc)",
    re.IGNORECASE,
)
_COPYRIGHT_ANY = re.compile(
    r"all rights reserved|tous droits réservés|bảo lưu mọi quyền|保留所有权利|保留所有權利|©\s*\d{4}",
    re.IGNORECASE,
)

_PAGE_TOKEN = re.compile(
    r"^(?:\d{1,4}|[<>«»‹›|…·.\-–—]+|prev(?:ious)?|next|first|last|page|suivant|précédent|trang|tiếp|trước"
    r"|上一页|下一页|上一頁|下一頁|首页|首頁|尾页|尾頁|末页|末頁)$",
    re.IGNORECASE,
)


def _is_pagination(line: str) -> bool:
    tokens = line.split()
    return sum(t.isdigit() for t in tokens) >= 2 and all(_PAGE_TOKEN.match(t) for t in tokens)


_CRUMB_SEP = re.compile(r">+|»|›|→|＞|\s/\s")


def _is_breadcrumb(line: str) -> bool:
    if _SENTENCE_END.search(line):
        return False
    parts = [p.strip() for p in _CRUMB_SEP.split(line)]
    if len(parts) < 3 or not all(any(ch.isalpha() for ch in p) for p in parts):
        return False  # "14 / 11 / 2025" is a date, not a trail of links
    return all(len(p) <= 30 and len(p.split()) <= 4 for p in parts)


def _alternation(items: tuple[str, ...], literal: bool) -> str:
    """One regex for many phrases; literal Latin ones must stand as whole words (CJK has no word breaks)."""
    out = []
    for p in sorted(items, key=len, reverse=True):
        if not literal:
            out.append(p)  # a regex says where its word boundaries are
            continue
        body = re.escape(p)
        if not any(is_wide(ch) for ch in p):
            body = rf"(?<!\w){body}(?!\w)"
        out.append(body)
    return "|".join(out)


# Sharing, printing, comment forms, font controls, "read also" teasers, app promotions: phrases that
# page templates put around articles, in the four languages of this corpus. In a short line they
# mark the line as furniture whatever else it holds (a site name, a date, a counter).
_FURNITURE = re.compile(
    _alternation((
        # English
        r"\bcomments?\s*\(s\)", r"^\d+\s*comments?\b", r"\bprint\s*[|/·•-]?\s*e-?mail\b",
        r"\bbookmark and share\b", r"^share(?: this(?: article| story| page| post)?| on| via)?\W*$",
        r"\bshare (?:on|via|to) (?:facebook|twitter|x|linkedin|whatsapp|e-?mail|weibo|wechat|zalo)\b", r"\badd (?:your|a) comments?\b",
        r"\bleave a (?:comment|reply)\b", r"\bpost a comment\b", r"^no comments?(?: yet)?\W*$",
        r"\badjust font size\b", r"\bfont size\s*:", r"^text size\b",
        r"\bfollow (?:us|[\w.-]+(?: [\w.-]+){0,3}) on (?:twitter|facebook|x|instagram|linkedin|youtube|weibo|wechat|telegram|tiktok)\b",
        r"\bapp download\b", r"\bdownload (?:our|the) app\b", r"\bget the app\b",
        r"^(?:user ?name|e-?mail|your name|name)\s*(?:is )?(?:required|\*)\W*$",
        r"\benter the (?:words|characters|code|text) (?:you see|shown|above|below)\b",
        r"\bcomments? (?:may|will) be (?:removed|deleted|moderated)\b", r"\bgo to forum\b",
        r"^(?:read|see) (?:more|also)\b", r"^related (?:articles?|stories|news|posts|links|content)\b",
        r"^(?:back to top|skip to (?:main )?content)\b", r"^(?:advertisement|sponsored content)\W*$",
        # French
        r"^(?:à|a) lire (?:également|egalement|aussi|ensuite)\b", r"^lire (?:aussi|également|la suite)\b",
        r"^voir aussi\b", r"\bpartager sur (?:twitter|facebook|x|linkedin|whatsapp)\b", r"\bsuivez-nous\b",
        r"\btaille (?:de la )?police\b", r"\b(?:ajouter|laisser) un commentaire\b",
        r"^(?:\d+\s+)?commentaires?\s*:?$", r"^articles? (?:liés|similaires|connexes)\b",
        r"\btélécharger l['’]application\b", r"\benvoyer (?:par|à un) (?:e-?mail|ami)\b",
        # Vietnamese
        r"^xem thêm\b", r"^tin (?:liên quan|cùng chuyên mục|mới nhất|khác)\b", r"^bài viết liên quan\b",
        r"\bcỡ chữ\b", r"\bgửi bình luận\b", r"^bình luận\s*(?:\(\d+\))?\s*:?$", r"\btải ứng dụng\b",
        r"^theo dõi (?:chúng tôi )?trên\b",
    ), literal=False),
    re.IGNORECASE,
)

# The same in Chinese, where word boundaries cannot protect prose ("把经验分享到各地。"): only in
# lines without a sentence stop.
_FURNITURE_CJK = re.compile(
    _alternation((
        "^(?:相关|相關)(?:阅读|閱讀|新闻|新聞|文章|推荐|推薦|链接|鏈接)",
        "^(?:延伸阅读|延伸閱讀|推荐阅读|推薦閱讀|阅读更多|閱讀更多)",
        "(?:字号|字號|字体大小|字體大小)\\s*[:：]", "分享到", "分享至", "客户端下载", "客戶端下載", "下载客户端",
        "下載客戶端", "APP下载", "APP下載", "发表评论", "發表評論", "我要评论", "我要評論", "网友评论", "網友評論",
        "打印本页", "列印本頁", "关闭窗口", "關閉窗口", "返回顶部", "返回頂部",
    ), literal=False),
    re.IGNORECASE,
)

# Single links that share/print/menu bars are made of. A line made only of these (and separators,
# bullets, counters) is a navigation bar: "Chia sẻ | In bài | Bình luận", "Share · Print · 12".
_NAV_WORD = re.compile(
    _alternation((
        "share", "print", "e-mail", "email", "mail", "bookmark", "comments", "comment", "comment(s)", "your comment",
        "tweet", "like", "follow", "follow us", "subscribe", "newsletter", "rss", "mobile", "home", "login",
        "log in", "sign in", "sign up", "register", "contact", "contact us", "about us", "search", "menu",
        "back", "top", "next", "previous", "prev", "more", "related", "tags", "forum", "send", "save",
        "copy link", "facebook", "twitter", "linkedin", "whatsapp", "weibo", "wechat", "reddit",
        "telegram", "youtube", "instagram", "pinterest", "zalo",
        "partager", "imprimer", "envoyer", "commentaire", "commentaires", "commenter", "réagir",
        "s'abonner", "abonnez-vous", "accueil", "recherche", "connexion", "suivant", "précédent",
        "retour", "haut de page", "plus", "lire la suite",
        "chia sẻ", "in bài", "bình luận", "gửi", "lưu", "trang chủ", "đăng nhập", "đăng ký", "theo dõi",
        "liên hệ", "tìm kiếm", "thích", "xem thêm", "quay lại", "trở về", "in",
        "分享", "打印", "列印", "评论", "評論", "收藏", "首页", "首頁", "登录", "登錄", "注册", "註冊",
        "返回", "顶部", "頂部", "关注", "關注", "点赞", "點讚", "转发", "轉發", "微博", "微信", "更多",
    ), literal=True),
    re.IGNORECASE,
)


def _is_nav_words_only(line: str) -> bool:
    if _SENTENCE_END.search(line):
        return False  # "Next." is a sentence; link bars do not end with a full stop
    rest, n = _NAV_WORD.subn(" ", line)
    return n > 0 and not any(ch.isalpha() for ch in rest)


_GLUE = re.compile(r"[a-z][A-Z]|[A-Z]{2,}(?=[A-Z][a-z])")


def _is_glued_links(line: str) -> bool:
    # Link texts exported without spaces ("storiesGet more", "MobileRSSNewsletter"): several
    # lowercase-to-capital joins inside words, in a line that is not a sentence.
    return not _SENTENCE_END.search(line) and len(_GLUE.findall(line)) >= 3


_SALAD_SEP = re.compile(r"[,，|｜;；/、·•]+")
_CJK_SALAD_SEP = re.compile(r"[,，|｜;；/、·•\s]+")


def _is_keyword_salad(line: str) -> bool:
    """Many short items between separators and no sentence: search keywords stuffed by SEO spam.

    In Chinese the items are 2-20 character phrases separated by commas, bars or spaces, and a real
    paragraph ends its sentences with 。！？; in alphabetic scripts they are items of a few words
    between commas or bars, in a line that does not end like a sentence.
    """
    if _SENTENCE_END.search(line) or _CJK_STOP.search(line):
        return False
    body = _LIST_MARKER.sub("", line)
    letters = sum(ch.isalpha() for ch in body)
    cjk = sum(is_wide(ch) for ch in body)
    if letters and cjk >= 0.5 * letters:
        items = [f for f in _CJK_SALAD_SEP.split(body) if f]
        short = sum(2 <= len(f) <= 20 for f in items)
        return len(items) >= 5 and short >= 0.8 * len(items)
    items = [f.strip() for f in _SALAD_SEP.split(body) if f.strip()]
    words = len(body.split())
    short = sum(len(f.split()) <= 4 for f in items)
    # separator density: at least one separator per four words
    return len(items) >= 5 and short >= 0.8 * len(items) and words <= 4 * len(items)

