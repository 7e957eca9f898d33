"""Words shown to users, in the question's language (refusals, notices)."""
from __future__ import annotations

_TEXTS: dict[str, dict[str, str]] = {
    "refusal": {
        "en": "I could not find the answer in the documents.",
        "fr": "Je n'ai pas trouvé la réponse dans les documents.",
        "vi": "Tôi không tìm thấy câu trả lời trong các tài liệu.",
        "zh-Hans": "我在文档中没有找到答案。",
        "zh-Hant": "我在文件中沒有找到答案。",
    },
    "truncated": {
        "en": "Your question was too long and was shortened to {n} characters.",
        "fr": "Votre question était trop longue et a été raccourcie à {n} caractères.",
        "vi": "Câu hỏi quá dài và đã được rút gọn còn {n} ký tự.",
        "zh-Hans": "问题过长，已截断为 {n} 个字符。",
        "zh-Hant": "問題過長，已截斷為 {n} 個字元。",
    },
    "uncited": {
        "en": "The model's answer cited no source, so it is not shown.",
        "fr": "La réponse du modèle ne citait aucune source : elle n'est pas affichée.",
        "vi": "Câu trả lời của mô hình không trích dẫn nguồn nào nên không được hiển thị.",
        "zh-Hans": "模型的回答没有引用任何来源，因此不予显示。",
        "zh-Hant": "模型的回答沒有引用任何來源，因此不予顯示。",
    },
    "ungrounded": {
        "en": "The model's answer contained a number that its sources do not hold, so it is not shown.",
        "fr": "La réponse du modèle contenait un nombre absent de ses sources : elle n'est pas affichée.",
        "vi": "Câu trả lời của mô hình chứa một con số không có trong nguồn nên không được hiển thị.",
        "zh-Hans": "模型的回答包含来源中没有的数字，因此不予显示。",
        "zh-Hant": "模型的回答包含來源中沒有的數字，因此不予顯示。",
    },
    "echo": {
        "en": "The model only repeated the question, so its reply is not shown.",
        "fr": "Le modèle n'a fait que répéter la question : sa réponse n'est pas affichée.",
        "vi": "Mô hình chỉ lặp lại câu hỏi nên câu trả lời không được hiển thị.",
        "zh-Hans": "模型只是重复了问题，因此不予显示。",
        "zh-Hant": "模型只是重複了問題，因此不予顯示。",
    },
    # Only in English: the reader's language is the one we cannot write.
    "unsupported_language": {
        "en": "Questions in {name} are not supported (French, English, Vietnamese and Chinese are): "
              "the answer is in English.",
    },
    "empty_index": {
        "en": "No documents are indexed yet: run `rag ingest` first.",
        "fr": "Aucun document n'est encore indexé : lancez d'abord `rag ingest`.",
        "vi": "Chưa có tài liệu nào được lập chỉ mục: hãy chạy `rag ingest` trước.",
        "zh-Hans": "尚未索引任何文档：请先运行 `rag ingest`。",
        "zh-Hant": "尚未索引任何文件：請先執行 `rag ingest`。",
    },
}


def message(key: str, language: str, **kwargs: object) -> str:
    table = _TEXTS[key]
    lang = language if language in table else ("zh-Hans" if language.startswith("zh") else "en")
    return table[lang].format(**kwargs)
