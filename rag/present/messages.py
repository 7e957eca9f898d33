"""Words shown to users, in the question's language (refusals, notices)."""
from __future__ import annotations

import logging

from rag.errors import BackendUnavailable, IndexBusy, InvalidInput, UnreadableFile
from rag.present.catalog import reader_language, text
from rag.text.language import name

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
    "ungrounded_number": {
        "en": "The model's answer contained a number that its sources do not hold, so it is not shown.",
        "fr": "La réponse du modèle contenait un nombre absent de ses sources : elle n'est pas affichée.",
        "vi": "Câu trả lời của mô hình chứa một con số không có trong nguồn nên không được hiển thị.",
        "zh-Hans": "模型的回答包含来源中没有的数字，因此不予显示。",
        "zh-Hant": "模型的回答包含來源中沒有的數字，因此不予顯示。",
    },
    "ungrounded_place": {
        "en": "The model's answer named a country that its sources do not mention, so it is not shown.",
        "fr": "La réponse du modèle nommait un pays que ses sources ne mentionnent pas : elle n'est pas affichée.",
        "vi": "Câu trả lời của mô hình nêu một quốc gia mà nguồn không nhắc đến nên không được hiển thị.",
        "zh-Hans": "模型的回答提到了来源中没有的国家，因此不予显示。",
        "zh-Hant": "模型的回答提到了來源中沒有的國家，因此不予顯示。",
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
    "queued": {
        "en": "⏳ Your question is queued: {n} ahead of it. Its sources are already shown.",
        "fr": "⏳ Votre question est en file d'attente : {n} avant elle. Ses sources sont déjà affichées.",
        "vi": "⏳ Câu hỏi của bạn đang chờ: còn {n} câu trước. Nguồn đã được hiển thị.",
        "zh-Hans": "⏳ 您的问题正在排队：前面还有 {n} 个。来源已显示。",
        "zh-Hant": "⏳ 您的問題正在排隊：前面還有 {n} 個。來源已顯示。",
    },
    "searching": {
        "en": "Searching the documents…",
        "fr": "Recherche dans les documents…",
        "vi": "Đang tìm trong tài liệu…",
        "zh-Hans": "正在搜索文档…",
        "zh-Hant": "正在搜尋文件…",
    },
    # Errors: a sentence in the user's language, then the technical detail (names a URL or a file).
    "error_backend": {
        "en": "A service the answer needs is unavailable; try again in a moment. ({detail})",
        "fr": "Un service nécessaire à la réponse est indisponible ; réessayez dans un instant. ({detail})",
        "vi": "Một dịch vụ cần cho câu trả lời hiện không khả dụng; hãy thử lại sau. ({detail})",
        "zh-Hans": "回答所需的服务暂时不可用，请稍后重试。（{detail}）",
        "zh-Hant": "回答所需的服務暫時無法使用，請稍後重試。（{detail}）",
    },
    "error_busy": {
        "en": "The index is being updated; try again when it is done. ({detail})",
        "fr": "L'index est en cours de mise à jour ; réessayez quand ce sera fini. ({detail})",
        "vi": "Chỉ mục đang được cập nhật; hãy thử lại khi xong. ({detail})",
        "zh-Hans": "索引正在更新，请完成后重试。（{detail}）",
        "zh-Hant": "索引正在更新，請完成後重試。（{detail}）",
    },
    "error_input": {
        "en": "This question cannot be used: {detail}",
        "fr": "Cette question ne peut pas être traitée : {detail}",
        "vi": "Không thể xử lý câu hỏi này: {detail}",
        "zh-Hans": "无法处理这个问题：{detail}",
        "zh-Hant": "無法處理這個問題：{detail}",
    },
    "error_other": {
        "en": "Something went wrong: {detail}",
        "fr": "Une erreur s'est produite : {detail}",
        "vi": "Đã xảy ra lỗi: {detail}",
        "zh-Hans": "出现错误：{detail}",
        "zh-Hant": "發生錯誤：{detail}",
    },
    "empty_question": {
        "en": "Type a question first.",
        "fr": "Écrivez d'abord une question.",
        "vi": "Hãy nhập câu hỏi trước.",
        "zh-Hans": "请先输入问题。",
        "zh-Hant": "請先輸入問題。",
    },
    # Shown with an answer (chat, `rag ask`, the exported conversation): in the answer's language.
    "flag_ungrounded_number": {
        "en": "a number in this answer was not found in the passage it cites",
        "fr": "un nombre de cette réponse ne figure pas dans le passage qu'elle cite",
        "vi": "một con số trong câu trả lời này không có trong đoạn văn được trích dẫn",
        "zh-Hans": "此回答中的一个数字没有出现在所引用的段落中",
        "zh-Hant": "此回答中的一個數字沒有出現在所引用的段落中",
    },
    # A refusal that quotes the sentence closest to the question, so the reader still gets the evidence.
    "closest_passage": {
        "en": "The closest passage says: «{quote}» [{n}]",
        "fr": "Le passage le plus proche dit : « {quote} » [{n}]",
        "vi": "Đoạn văn gần nhất viết: «{quote}» [{n}]",
        "zh-Hans": "最接近的段落写道：「{quote}」[{n}]",
        "zh-Hant": "最接近的段落寫道：「{quote}」[{n}]",
    },
    "flag_closest_passage": {
        "en": "not an answer: the passage closest to the question is quoted, read it to judge",
        "fr": "pas une réponse : le passage le plus proche de la question est cité, à vous de juger",
        "vi": "không phải câu trả lời: đoạn văn gần với câu hỏi nhất được trích dẫn để bạn tự đánh giá",
        "zh-Hans": "这不是答案：引用的是与问题最接近的段落，请自行判断",
        "zh-Hant": "這不是答案：引用的是與問題最接近的段落，請自行判斷",
    },
    "flag_ungrounded_place": {
        "en": "a country this answer names is not mentioned in the passages it cites",
        "fr": "un pays nommé dans cette réponse n'est pas mentionné dans les passages qu'elle cite",
        "vi": "một quốc gia được nêu trong câu trả lời này không được nhắc đến trong các đoạn văn được trích dẫn",
        "zh-Hans": "此回答提到的一个国家没有出现在所引用的段落中",
        "zh-Hant": "此回答提到的一個國家沒有出現在所引用的段落中",
    },
    "understood_as": {
        "en": "understood as: {question}",
        "fr": "compris comme : {question}",
        "vi": "được hiểu là: {question}",
        "zh-Hans": "理解为：{question}",
        "zh-Hant": "理解為：{question}",
    },
    "sources": {"en": "Sources", "fr": "Sources", "vi": "Nguồn", "zh-Hans": "来源", "zh-Hant": "來源"},
    "related": {
        "en": "Possibly related (not cited)",
        "fr": "Peut-être liés (non cités)",
        "vi": "Có thể liên quan (không được trích dẫn)",
        "zh-Hans": "可能相关（未引用）",
        "zh-Hant": "可能相關（未引用）",
    },
    "no_passage": {
        "en": "No passage found.",
        "fr": "Aucun passage trouvé.",
        "vi": "Không tìm thấy đoạn văn nào.",
        "zh-Hans": "没有找到段落。",
        "zh-Hant": "沒有找到段落。",
    },
    "cited": {"en": "cited", "fr": "cité", "vi": "được trích dẫn", "zh-Hans": "已引用", "zh-Hant": "已引用"},
    "score": {"en": "score", "fr": "score", "vi": "điểm", "zh-Hans": "相似度", "zh-Hant": "相似度"},
    "conversation": {"en": "Conversation", "fr": "Conversation", "vi": "Cuộc trò chuyện", "zh-Hans": "对话",
                     "zh-Hant": "對話"},
    "choose_source": {
        "en": "Choose a source first.",
        "fr": "Choisissez d'abord une source.",
        "vi": "Hãy chọn một nguồn trước.",
        "zh-Hans": "请先选择一个来源。",
        "zh-Hant": "請先選擇一個來源。",
    },
    "already_in": {
        "en": "This source is already in {name}.",
        "fr": "Cette source est déjà en {name}.",
        "vi": "Nguồn này đã bằng {name}.",
        "zh-Hans": "此来源已经是{name}。",
        "zh-Hant": "此來源已經是{name}。",
    },
    "machine_translation": {
        "en": "Machine translation into {name} by the configured model; it may contain errors. "
              "The source above is what is cited.",
        "fr": "Traduction automatique en {name} par le modèle configuré ; elle peut contenir des erreurs. "
              "C'est la source ci-dessus qui est citée.",
        "vi": "Bản dịch máy sang {name} do mô hình đã cấu hình thực hiện; có thể có lỗi. "
              "Nội dung được trích dẫn là nguồn ở trên.",
        "zh-Hans": "由所配置的模型机器翻译为{name}，可能有误。被引用的是上方的原文。",
        "zh-Hant": "由所設定的模型機器翻譯為{name}，可能有誤。被引用的是上方的原文。",
    },
}

# The corpus's languages named in each of them ("vietnamien", "越南语"); any other code is named
# in English by `rag.text.language.name`.
_LANGUAGE_NAMES: dict[str, dict[str, str]] = {
    "fr": {"fr": "français", "en": "anglais", "vi": "vietnamien", "zh-Hans": "chinois simplifié",
           "zh-Hant": "chinois traditionnel"},
    "vi": {"fr": "tiếng Pháp", "en": "tiếng Anh", "vi": "tiếng Việt", "zh-Hans": "tiếng Trung giản thể",
           "zh-Hant": "tiếng Trung phồn thể"},
    "zh-Hans": {"fr": "法语", "en": "英语", "vi": "越南语", "zh-Hans": "简体中文", "zh-Hant": "繁体中文"},
    "zh-Hant": {"fr": "法語", "en": "英語", "vi": "越南語", "zh-Hans": "簡體中文", "zh-Hant": "繁體中文"},
}


def language_label(code: str, language: str) -> str:
    """The name of language `code` for a reader of `language` ("vi" for a French reader: "vietnamien")."""
    return _LANGUAGE_NAMES.get(reader_language(language), {}).get(code) or name(code)


def public_detail(error: Exception) -> str:
    """What a client of the server may read of an error: what to fix, never where things live.
    A wrong input or an unreadable upload is said as raised (it names what the client sent); a
    backend's URL and its error, the data directory's path, anything else stay in the server's log."""
    if isinstance(error, (InvalidInput, UnreadableFile)):
        return str(error)
    logging.getLogger("rag.server").warning("%s: %s", type(error).__name__, error)  # the whole of it, for the log
    if isinstance(error, BackendUnavailable):
        return "a server it depends on (the language model, the embeddings or the vector store) did not answer; " \
               "the server's log says which and why"
    if isinstance(error, IndexBusy):
        return "another upload, delete or ingestion is running on this collection"
    return "see the server's log"


def error_message(error: Exception, language: str, remote: bool = False) -> str:
    """A RagError as the user reads it: what happened in their language, then the detail, as raised
    for the person who ran the command, as `public_detail` for a client of the server (`remote`)."""
    key = (
        "error_backend" if isinstance(error, BackendUnavailable)
        else "error_busy" if isinstance(error, IndexBusy)
        else "error_input" if isinstance(error, InvalidInput)
        else "error_other"
    )
    return message(key, language, detail=public_detail(error) if remote else str(error))


def message(key: str, language: str, **kwargs: object) -> str:
    return text(_TEXTS, key, language, **kwargs)
