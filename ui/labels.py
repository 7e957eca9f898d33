"""The web page's own words in the five languages it serves (answers carry theirs: rag.present.messages).

Static labels go through Gradio's I18n, which picks them by the browser's language. The few
places Gradio cannot translate (table headers, a file box's label) and the replies of the
Documents tab are chosen on the server from the request's Accept-Language (`request_language`).
"""
from __future__ import annotations

from rag.text.language import SUPPORTED as LANGUAGES  # the order of each entry's texts below

_TEXTS: dict[str, tuple[str, str, str, str, str]] = {
    # key: (en, fr, vi, zh-Hans, zh-Hant)
    "intro": (
        "### Ask the documents\nQuestions in French, English, Vietnamese or Chinese; "
        "answers cite the passages they come from.",
        "### Interroger les documents\nQuestions en français, anglais, vietnamien ou chinois ; "
        "les réponses citent les passages dont elles viennent.",
        "### Hỏi đáp tài liệu\nĐặt câu hỏi bằng tiếng Pháp, tiếng Anh, tiếng Việt hoặc tiếng Trung; "
        "câu trả lời trích dẫn các đoạn văn làm nguồn.",
        "### 文档问答\n可用法语、英语、越南语或中文提问；回答会注明其出处段落。",
        "### 文件問答\n可用法語、英語、越南語或中文提問；回答會註明其出處段落。",
    ),
    "tab_chat": ("Chat", "Discussion", "Trò chuyện", "对话", "對話"),
    "tab_documents": ("Documents", "Documents", "Tài liệu", "文档", "文件"),
    "question": ("Your question", "Votre question", "Câu hỏi của bạn", "您的问题", "您的問題"),
    "placeholder": (
        "Ask in French, English, Vietnamese or Chinese…",
        "Posez votre question en français, anglais, vietnamien ou chinois…",
        "Hỏi bằng tiếng Pháp, tiếng Anh, tiếng Việt hoặc tiếng Trung…",
        "用法语、英语、越南语或中文提问…",
        "用法語、英語、越南語或中文提問…",
    ),
    "ask": ("Ask", "Demander", "Hỏi", "提问", "提問"),
    "stop": ("Stop", "Arrêter", "Dừng", "停止", "停止"),
    "retry": ("Retry", "Réessayer", "Thử lại", "重试", "重試"),
    "clear": ("Clear", "Effacer", "Xóa", "清空", "清除"),
    "export": ("Export", "Exporter", "Xuất", "导出", "匯出"),
    "exported": ("Conversation (Markdown)", "Conversation (Markdown)", "Cuộc trò chuyện (Markdown)",
                 "对话（Markdown）", "對話（Markdown）"),
    "examples": ("Examples", "Exemples", "Ví dụ", "示例", "範例"),
    "sources_empty": ("_Sources appear here._", "_Les sources s'affichent ici._", "_Nguồn sẽ hiện ở đây._",
                      "_来源将显示在这里。_", "_來源將顯示在這裡。_"),
    "pick": ("Open a source in its document", "Ouvrir une source dans son document", "Mở nguồn trong tài liệu gốc",
             "在原文档中打开来源", "在原文件中開啟來源"),
    "translate": ("Translate this source into the answer's language", "Traduire cette source dans la langue de la réponse",
                  "Dịch nguồn này sang ngôn ngữ của câu trả lời", "将此来源翻译成回答的语言", "將此來源翻譯成回答的語言"),
    "col_document": ("document", "document", "tài liệu", "文档", "文件"),
    "col_language": ("language", "langue", "ngôn ngữ", "语言", "語言"),
    "col_passages": ("passages", "passages", "số đoạn", "段落数", "段落數"),
    "col_ingested": ("ingested at (UTC)", "indexé le (UTC)", "lập chỉ mục lúc (UTC)", "索引时间（UTC）", "索引時間（UTC）"),
    "upload": ("Add documents ({types})", "Ajouter des documents ({types})", "Thêm tài liệu ({types})",
               "添加文档（{types}）", "新增文件（{types}）"),
    "add": ("Add to the library", "Ajouter à la bibliothèque", "Thêm vào thư viện", "添加到文档库", "新增到文件庫"),
    "victim": ("Document to delete", "Document à supprimer", "Tài liệu cần xóa", "要删除的文档", "要刪除的文件"),
    "delete": ("Delete", "Supprimer", "Xóa", "删除", "刪除"),
    "confirm_delete": ("Delete {name} from the library?", "Supprimer {name} de la bibliothèque ?",
                       "Xóa {name} khỏi thư viện?", "从文档库中删除 {name}？", "從文件庫中刪除 {name}？"),
    # Replies of the Documents tab.
    "choose_files": ("Choose one or more files first.", "Choisissez d'abord un ou plusieurs fichiers.",
                     "Hãy chọn một hoặc nhiều tệp trước.", "请先选择一个或多个文件。", "請先選擇一個或多個檔案。"),
    "indexing": ("Indexing {name}", "Indexation de {name}", "Đang lập chỉ mục {name}", "正在索引 {name}",
                 "正在索引 {name}"),
    "added": ("{name}: added ({n} passages)", "{name} : ajouté ({n} passages)", "{name}: đã thêm ({n} đoạn)",
              "{name}：已添加（{n} 个段落）", "{name}：已新增（{n} 個段落）"),
    "unchanged": ("{name}: already in the library, unchanged", "{name} : déjà dans la bibliothèque, inchangé",
                  "{name}: đã có trong thư viện, không thay đổi", "{name}：已在文档库中，未更改",
                  "{name}：已在文件庫中，未變更"),
    "nothing_stored": ("{name}: no text left after cleaning; nothing stored",
                       "{name} : aucun texte après le nettoyage ; rien n'a été enregistré",
                       "{name}: không còn văn bản sau khi làm sạch; không lưu gì",
                       "{name}：清理后没有剩余文本，未保存任何内容", "{name}：清理後沒有剩餘文字，未儲存任何內容"),
    "not_added": ("{detail}", "Non ajouté : {detail}", "Không thêm được: {detail}", "未添加：{detail}",
                  "未新增：{detail}"),
    "nothing_deleted": ("Nothing deleted.", "Rien n'a été supprimé.", "Không có gì bị xóa.", "未删除任何内容。",
                        "未刪除任何內容。"),
    "deleted": ("Deleted {name}.", "{name} a été supprimé.", "Đã xóa {name}.", "已删除 {name}。", "已刪除 {name}。"),
    "not_in_library": ("{name} was not in the library.", "{name} n'était pas dans la bibliothèque.",
                       "{name} không có trong thư viện.", "{name} 不在文档库中。", "{name} 不在文件庫中。"),
    "library_unreadable": ("⚠️ The library could not be read: {detail}",
                           "⚠️ La bibliothèque n'a pas pu être lue : {detail}",
                           "⚠️ Không đọc được thư viện: {detail}", "⚠️ 无法读取文档库：{detail}",
                           "⚠️ 無法讀取文件庫：{detail}"),
}

# Browser locales Gradio may report, and the table each one reads (Singapore and Malaysia write
# Simplified Chinese; Taiwan, Hong Kong and Macau Traditional).
_LOCALES = {
    "en": "en", "fr": "fr", "vi": "vi",
    "zh": "zh-Hans", "zh-CN": "zh-Hans", "zh-SG": "zh-Hans", "zh-MY": "zh-Hans", "zh-Hans": "zh-Hans",
    "zh-TW": "zh-Hant", "zh-HK": "zh-Hant", "zh-MO": "zh-Hant", "zh-Hant": "zh-Hant",
}


def say(key: str, language: str = "en", **kwargs: object) -> str:
    """The text of `key` in `language` (one of LANGUAGES; anything else reads English)."""
    row = _TEXTS[key]
    i = LANGUAGES.index(language) if language in LANGUAGES else 0
    return row[i].format(**kwargs)


class _Keep(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def translations(**kwargs: object) -> dict[str, dict[str, str]]:
    """Every key in every browser locale, for `gr.I18n`; `kwargs` fill the placeholders they name."""
    by_language = {lang: {k: row[i].format_map(_Keep(kwargs)) for k, row in _TEXTS.items()}
                   for i, lang in enumerate(LANGUAGES)}
    return {locale: by_language[lang] for locale, lang in _LOCALES.items()}


def language_of_header(accept_language: str | None) -> str:
    """The first language of an Accept-Language header that the page speaks ("vi-VN,vi;q=0.9" -> "vi";
    "zh-TW" -> "zh-Hant"); English when none is."""
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip()
        if not tag:
            continue
        if tag in _LOCALES:
            return _LOCALES[tag]
        base, _, region = tag.partition("-")
        base = base.lower()
        if base == "zh":
            region_up = region.split("-")[-1].upper() if region else ""
            if region.lower().startswith("hant") or region_up in ("TW", "HK", "MO"):
                return "zh-Hant"
            return "zh-Hans"
        if base in _LOCALES:
            return _LOCALES[base]
    return "en"


def request_language(request) -> str:
    """The page language for a Gradio request (English without one)."""
    headers = getattr(request, "headers", None) or {}
    try:
        value = headers.get("accept-language")
    except AttributeError:
        value = None
    return language_of_header(value)
