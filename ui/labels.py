"""The web page's own words in the five languages it serves (answers carry theirs: rag.present.messages).

Static labels go through Gradio's I18n, which picks them by the browser's language. The few
places Gradio cannot translate (table headers, a file box's label, the chat's empty state) and the
replies of the Documents tab are chosen on the server from the request's Accept-Language
(`request_language`). The table has the shape of every string catalog (rag.present.catalog).
"""
from __future__ import annotations

import json

from rag import SUPPORTED_LANGUAGES as LANGUAGES
from rag.present.catalog import text

_TEXTS: dict[str, dict[str, str]] = {
    "intro": {
        "en": "### Ask the documents\nQuestions in French, English, Vietnamese or Chinese; "
              "answers cite the passages they come from.",
        "fr": "### Interroger les documents\nQuestions en français, anglais, vietnamien ou chinois ; "
              "les réponses citent les passages dont elles viennent.",
        "vi": "### Hỏi đáp tài liệu\nĐặt câu hỏi bằng tiếng Pháp, tiếng Anh, tiếng Việt hoặc tiếng Trung; "
              "câu trả lời trích dẫn các đoạn văn làm nguồn.",
        "zh-Hans": "### 文档问答\n可用法语、英语、越南语或中文提问；回答会注明其出处段落。",
        "zh-Hant": "### 文件問答\n可用法語、英語、越南語或中文提問；回答會註明其出處段落。",
    },
    "tab_chat": {
        "en": "Chat",
        "fr": "Discussion",
        "vi": "Trò chuyện",
        "zh-Hans": "对话",
        "zh-Hant": "對話",
    },
    "tab_documents": {
        "en": "Documents",
        "fr": "Documents",
        "vi": "Tài liệu",
        "zh-Hans": "文档",
        "zh-Hant": "文件",
    },
    "question": {
        "en": "Your question",
        "fr": "Votre question",
        "vi": "Câu hỏi của bạn",
        "zh-Hans": "您的问题",
        "zh-Hant": "您的問題",
    },
    "placeholder": {
        "en": "Ask in French, English, Vietnamese or Chinese…",
        "fr": "Posez votre question en français, anglais, vietnamien ou chinois…",
        "vi": "Hỏi bằng tiếng Pháp, tiếng Anh, tiếng Việt hoặc tiếng Trung…",
        "zh-Hans": "用法语、英语、越南语或中文提问…",
        "zh-Hant": "用法語、英語、越南語或中文提問…",
    },
    "ask": {
        "en": "Ask",
        "fr": "Demander",
        "vi": "Hỏi",
        "zh-Hans": "提问",
        "zh-Hant": "提問",
    },
    "stop": {
        "en": "Stop",
        "fr": "Arrêter",
        "vi": "Dừng",
        "zh-Hans": "停止",
        "zh-Hant": "停止",
    },
    "retry": {
        "en": "Retry",
        "fr": "Réessayer",
        "vi": "Thử lại",
        "zh-Hans": "重试",
        "zh-Hant": "重試",
    },
    "clear": {
        "en": "Clear",
        "fr": "Effacer",
        "vi": "Xóa",
        "zh-Hans": "清空",
        "zh-Hant": "清除",
    },
    "export": {
        "en": "Export",
        "fr": "Exporter",
        "vi": "Xuất",
        "zh-Hans": "导出",
        "zh-Hant": "匯出",
    },
    "exported": {
        "en": "Conversation (Markdown)",
        "fr": "Conversation (Markdown)",
        "vi": "Cuộc trò chuyện (Markdown)",
        "zh-Hans": "对话（Markdown）",
        "zh-Hant": "對話（Markdown）",
    },
    "warming_up": {
        "en": "⏳ Warming up: loading the models and the index. A question asked now is answered once they are ready.",
        "fr": "⏳ Démarrage : chargement des modèles et de l'index. Une question posée maintenant reçoit sa "
              "réponse dès qu'ils sont prêts.",
        "vi": "⏳ Đang khởi động: đang tải mô hình và chỉ mục. Câu hỏi đặt lúc này sẽ được trả lời khi chúng sẵn sàng.",
        "zh-Hans": "⏳ 正在启动：加载模型和索引。现在提出的问题将在准备就绪后得到回答。",
        "zh-Hant": "⏳ 正在啟動：載入模型和索引。現在提出的問題將在準備就緒後得到回答。",
    },
    "sources_empty": {
        "en": "_Sources appear here._",
        "fr": "_Les sources s'affichent ici._",
        "vi": "_Nguồn sẽ hiện ở đây._",
        "zh-Hans": "_来源将显示在这里。_",
        "zh-Hant": "_來源將顯示在這裡。_",
    },
    "pick": {
        "en": "Open a source in its document",
        "fr": "Ouvrir une source dans son document",
        "vi": "Mở nguồn trong tài liệu gốc",
        "zh-Hans": "在原文档中打开来源",
        "zh-Hant": "在原文件中開啟來源",
    },
    "translate": {
        "en": "Translate this source into the answer's language",
        "fr": "Traduire cette source dans la langue de la réponse",
        "vi": "Dịch nguồn này sang ngôn ngữ của câu trả lời",
        "zh-Hans": "将此来源翻译成回答的语言",
        "zh-Hant": "將此來源翻譯成回答的語言",
    },
    "col_document": {
        "en": "document",
        "fr": "document",
        "vi": "tài liệu",
        "zh-Hans": "文档",
        "zh-Hant": "文件",
    },
    "col_language": {
        "en": "language",
        "fr": "langue",
        "vi": "ngôn ngữ",
        "zh-Hans": "语言",
        "zh-Hant": "語言",
    },
    "col_passages": {
        "en": "passages",
        "fr": "passages",
        "vi": "số đoạn",
        "zh-Hans": "段落数",
        "zh-Hant": "段落數",
    },
    "col_ingested": {
        "en": "ingested at (UTC)",
        "fr": "indexé le (UTC)",
        "vi": "lập chỉ mục lúc (UTC)",
        "zh-Hans": "索引时间（UTC）",
        "zh-Hant": "索引時間（UTC）",
    },
    "upload": {
        "en": "Add documents ({types})",
        "fr": "Ajouter des documents ({types})",
        "vi": "Thêm tài liệu ({types})",
        "zh-Hans": "添加文档（{types}）",
        "zh-Hant": "新增文件（{types}）",
    },
    "add": {
        "en": "Add to the library",
        "fr": "Ajouter à la bibliothèque",
        "vi": "Thêm vào thư viện",
        "zh-Hans": "添加到文档库",
        "zh-Hant": "新增到文件庫",
    },
    "victim": {
        "en": "Document to delete",
        "fr": "Document à supprimer",
        "vi": "Tài liệu cần xóa",
        "zh-Hans": "要删除的文档",
        "zh-Hant": "要刪除的文件",
    },
    "delete": {
        "en": "Delete",
        "fr": "Supprimer",
        "vi": "Xóa",
        "zh-Hans": "删除",
        "zh-Hant": "刪除",
    },
    "confirm_delete": {
        "en": "Delete {name} from the library?",
        "fr": "Supprimer {name} de la bibliothèque ?",
        "vi": "Xóa {name} khỏi thư viện?",
        "zh-Hans": "从文档库中删除 {name}？",
        "zh-Hant": "從文件庫中刪除 {name}？",
    },
    # The chat's empty state: what is indexed, so a reader knows what can be asked about.
    "library_one": {
        "en": "1 document is indexed ({languages}). Ask about it in French, English, Vietnamese or Chinese.",
        "fr": "1 document est indexé ({languages}). Posez vos questions en français, anglais, vietnamien ou chinois.",
        "vi": "Đã lập chỉ mục 1 tài liệu ({languages}). Hãy hỏi bằng tiếng Pháp, tiếng Anh, tiếng Việt hoặc "
              "tiếng Trung.",
        "zh-Hans": "已索引 1 个文档（{languages}）。可用法语、英语、越南语或中文提问。",
        "zh-Hant": "已索引 1 份文件（{languages}）。可用法語、英語、越南語或中文提問。",
    },
    "library_many": {
        "en": "{n} documents are indexed ({languages}). Ask about them in French, English, Vietnamese or Chinese.",
        "fr": "{n} documents sont indexés ({languages}). Posez vos questions en français, anglais, vietnamien "
              "ou chinois.",
        "vi": "Đã lập chỉ mục {n} tài liệu ({languages}). Hãy hỏi bằng tiếng Pháp, tiếng Anh, tiếng Việt hoặc "
              "tiếng Trung.",
        "zh-Hans": "已索引 {n} 个文档（{languages}）。可用法语、英语、越南语或中文提问。",
        "zh-Hant": "已索引 {n} 份文件（{languages}）。可用法語、英語、越南語或中文提問。",
    },
    "library_empty": {
        "en": "No documents are indexed yet: add some in the Documents tab.",
        "fr": "Aucun document n'est encore indexé : ajoutez-en dans l'onglet Documents.",
        "vi": "Chưa có tài liệu nào được lập chỉ mục: hãy thêm tài liệu ở thẻ Tài liệu.",
        "zh-Hans": "尚未索引任何文档：请在“文档”标签页中添加。",
        "zh-Hant": "尚未索引任何文件：請在「文件」分頁中新增。",
    },
    "list_separator": {"en": ", ", "fr": ", ", "vi": ", ", "zh-Hans": "、", "zh-Hant": "、"},
    # Replies of the Documents tab.
    "choose_files": {
        "en": "Choose one or more files first.",
        "fr": "Choisissez d'abord un ou plusieurs fichiers.",
        "vi": "Hãy chọn một hoặc nhiều tệp trước.",
        "zh-Hans": "请先选择一个或多个文件。",
        "zh-Hant": "請先選擇一個或多個檔案。",
    },
    "indexing": {
        "en": "Indexing {name}",
        "fr": "Indexation de {name}",
        "vi": "Đang lập chỉ mục {name}",
        "zh-Hans": "正在索引 {name}",
        "zh-Hant": "正在索引 {name}",
    },
    "added": {
        "en": "{name}: added ({n} passages)",
        "fr": "{name} : ajouté ({n} passages)",
        "vi": "{name}: đã thêm ({n} đoạn)",
        "zh-Hans": "{name}：已添加（{n} 个段落）",
        "zh-Hant": "{name}：已新增（{n} 個段落）",
    },
    "unchanged": {
        "en": "{name}: already in the library, unchanged",
        "fr": "{name} : déjà dans la bibliothèque, inchangé",
        "vi": "{name}: đã có trong thư viện, không thay đổi",
        "zh-Hans": "{name}：已在文档库中，未更改",
        "zh-Hant": "{name}：已在文件庫中，未變更",
    },
    "nothing_stored": {
        "en": "{name}: no text left after cleaning; nothing stored",
        "fr": "{name} : aucun texte après le nettoyage ; rien n'a été enregistré",
        "vi": "{name}: không còn văn bản sau khi làm sạch; không lưu gì",
        "zh-Hans": "{name}：清理后没有剩余文本，未保存任何内容",
        "zh-Hant": "{name}：清理後沒有剩餘文字，未儲存任何內容",
    },
    "not_added": {
        "en": "{detail}",
        "fr": "Non ajouté : {detail}",
        "vi": "Không thêm được: {detail}",
        "zh-Hans": "未添加：{detail}",
        "zh-Hant": "未新增：{detail}",
    },
    "nothing_deleted": {
        "en": "Nothing deleted.",
        "fr": "Rien n'a été supprimé.",
        "vi": "Không có gì bị xóa.",
        "zh-Hans": "未删除任何内容。",
        "zh-Hant": "未刪除任何內容。",
    },
    "deleted": {
        "en": "Deleted {name}.",
        "fr": "{name} a été supprimé.",
        "vi": "Đã xóa {name}.",
        "zh-Hans": "已删除 {name}。",
        "zh-Hant": "已刪除 {name}。",
    },
    "not_in_library": {
        "en": "{name} was not in the library.",
        "fr": "{name} n'était pas dans la bibliothèque.",
        "vi": "{name} không có trong thư viện.",
        "zh-Hans": "{name} 不在文档库中。",
        "zh-Hant": "{name} 不在文件庫中。",
    },
    "library_unreadable": {
        "en": "⚠️ The library could not be read: {detail}",
        "fr": "⚠️ La bibliothèque n'a pas pu être lue : {detail}",
        "vi": "⚠️ Không đọc được thư viện: {detail}",
        "zh-Hans": "⚠️ 无法读取文档库：{detail}",
        "zh-Hant": "⚠️ 無法讀取文件庫：{detail}",
    },
    # The conversations sidebar (ui/conversations.py).
    "conversations": {
        "en": "Conversations", "fr": "Vos conversations", "vi": "Các cuộc trò chuyện",
        "zh-Hans": "对话记录", "zh-Hant": "對話記錄",
    },
    "conversations_heading": {
        "en": "### Conversations", "fr": "### Vos conversations", "vi": "### Các cuộc trò chuyện",
        "zh-Hans": "### 对话记录", "zh-Hant": "### 對話記錄",
    },
    "new_conversation": {
        "en": "＋ New conversation", "fr": "＋ Nouvelle conversation", "vi": "＋ Cuộc trò chuyện mới",
        "zh-Hans": "＋ 新对话", "zh-Hant": "＋ 新對話",
    },
    "no_conversations": {
        "en": "_Your conversations are saved here as you ask._",
        "fr": "_Vos conversations sont enregistrées ici au fil de vos questions._",
        "vi": "_Các cuộc trò chuyện của bạn được lưu ở đây khi bạn hỏi._",
        "zh-Hans": "_您的对话会在提问时自动保存在这里。_",
        "zh-Hant": "_您的對話會在提問時自動儲存在這裡。_",
    },
    "conversation_title": {
        "en": "Title of the open conversation", "fr": "Titre de la conversation ouverte",
        "vi": "Tiêu đề cuộc trò chuyện đang mở", "zh-Hans": "当前对话的标题", "zh-Hant": "目前對話的標題",
    },
    "rename": {"en": "Rename", "fr": "Renommer", "vi": "Đổi tên", "zh-Hans": "重命名", "zh-Hant": "重新命名"},
    "delete_conversation": {
        "en": "Delete", "fr": "Supprimer", "vi": "Xóa", "zh-Hans": "删除", "zh-Hant": "刪除",
    },
    "confirm_delete_conversation": {
        "en": "Delete the conversation “{name}”? This cannot be undone.",
        "fr": "Supprimer la conversation « {name} » ? C'est définitif.",
        "vi": "Xóa cuộc trò chuyện “{name}”? Không thể hoàn tác.",
        "zh-Hans": "删除对话“{name}”？此操作无法撤销。",
        "zh-Hant": "刪除對話「{name}」？此操作無法復原。",
    },
    # The collection picker (ui/collections.py): separate libraries, each with its documents.
    "collection": {
        "en": "Collection", "fr": "Collection de documents", "vi": "Bộ sưu tập", "zh-Hans": "文档集",
        "zh-Hant": "文件集",
    },
    "collection_choice": {
        "en": "{name} ({n} documents)", "fr": "{name} ({n} documents indexés)", "vi": "{name} ({n} tài liệu)",
        "zh-Hans": "{name}（{n} 个文档）", "zh-Hant": "{name}（{n} 份文件）",
    },
    "collection_choice_one": {
        "en": "{name} (1 document)", "fr": "{name} (1 document indexé)", "vi": "{name} (1 tài liệu)",
        "zh-Hans": "{name}（1 个文档）", "zh-Hant": "{name}（1 份文件）",
    },
    "collection_default_mark": {
        "en": " · default", "fr": " · par défaut", "vi": " · mặc định", "zh-Hans": " · 默认", "zh-Hant": " · 預設",
    },
    "collections_manage": {
        "en": "Manage collections", "fr": "Gérer les collections", "vi": "Quản lý bộ sưu tập",
        "zh-Hans": "管理文档集", "zh-Hant": "管理文件集",
    },
    "collection_name": {
        "en": "Name of a new collection", "fr": "Nom d'une nouvelle collection", "vi": "Tên bộ sưu tập mới",
        "zh-Hans": "新文档集的名称", "zh-Hant": "新文件集的名稱",
    },
    "collection_name_rule": {
        "en": "3 to 63 lowercase letters, digits, - or _",
        "fr": "3 à 63 lettres minuscules, chiffres, - ou _",
        "vi": "3 đến 63 ký tự: chữ thường, chữ số, - hoặc _",
        "zh-Hans": "3 至 63 个小写字母、数字、- 或 _",
        "zh-Hant": "3 至 63 個小寫字母、數字、- 或 _",
    },
    "create_collection": {
        "en": "Create", "fr": "Créer", "vi": "Tạo", "zh-Hans": "创建", "zh-Hant": "建立",
    },
    "delete_collection": {
        "en": "Delete the chosen collection", "fr": "Supprimer la collection choisie",
        "vi": "Xóa bộ sưu tập đang chọn", "zh-Hans": "删除所选文档集", "zh-Hant": "刪除所選文件集",
    },
    "confirm_delete_collection": {
        "en": "Delete the collection {name} and every document in it? Conversations are kept. This cannot be undone.",
        "fr": "Supprimer la collection {name} et tous ses documents ? Les conversations sont gardées. "
              "C'est définitif.",
        "vi": "Xóa bộ sưu tập {name} cùng mọi tài liệu trong đó? Các cuộc trò chuyện vẫn được giữ. "
              "Không thể hoàn tác.",
        "zh-Hans": "删除文档集 {name} 及其中的所有文档？对话记录会保留。此操作无法撤销。",
        "zh-Hant": "刪除文件集 {name} 及其中的所有文件？對話記錄會保留。此操作無法復原。",
    },
    "collection_name_needed": {
        "en": "Type the new collection's name first.", "fr": "Saisissez d'abord le nom de la nouvelle collection.",
        "vi": "Hãy nhập tên bộ sưu tập mới trước.", "zh-Hans": "请先输入新文档集的名称。",
        "zh-Hant": "請先輸入新文件集的名稱。",
    },
    "collection_created": {
        "en": "Created the collection {name}; it is now the chosen one: add its documents here.",
        "fr": "La collection {name} a été créée et choisie : ajoutez-y des documents ici.",
        "vi": "Đã tạo bộ sưu tập {name} và đang chọn nó: hãy thêm tài liệu vào đây.",
        "zh-Hans": "已创建文档集 {name} 并已选中：请在此添加文档。",
        "zh-Hant": "已建立文件集 {name} 並已選取：請在此新增文件。",
    },
    "collection_deleted": {
        "en": "Deleted the collection {name}.", "fr": "La collection {name} a été supprimée.",
        "vi": "Đã xóa bộ sưu tập {name}.", "zh-Hans": "已删除文档集 {name}。", "zh-Hant": "已刪除文件集 {name}。",
    },
    "collection_not_found": {
        "en": "There is no collection named {name}.", "fr": "Il n'y a pas de collection nommée {name}.",
        "vi": "Không có bộ sưu tập nào tên {name}.", "zh-Hans": "没有名为 {name} 的文档集。",
        "zh-Hant": "沒有名為 {name} 的文件集。",
    },
    "collection_default_kept": {
        "en": "{name} is the default collection: it cannot be deleted (delete its documents instead).",
        "fr": "{name} est la collection par défaut : elle ne peut pas être supprimée (supprimez plutôt ses "
              "documents).",
        "vi": "{name} là bộ sưu tập mặc định: không thể xóa nó (hãy xóa các tài liệu của nó).",
        "zh-Hans": "{name} 是默认文档集，不能删除（可删除其中的文档）。",
        "zh-Hant": "{name} 是預設文件集，不能刪除（可刪除其中的文件）。",
    },
    "collection_gone": {
        "en": "This conversation was held in the collection {name}, which no longer exists: a question asked "
              "now goes to the chosen collection.",
        "fr": "Cette conversation a eu lieu dans la collection {name}, qui n'existe plus : une question posée "
              "maintenant ira à la collection choisie.",
        "vi": "Cuộc trò chuyện này diễn ra trong bộ sưu tập {name}, hiện không còn nữa: câu hỏi mới sẽ được "
              "hỏi trong bộ sưu tập đang chọn.",
        "zh-Hans": "此对话所在的文档集 {name} 已不存在：现在提出的问题将在所选文档集中回答。",
        "zh-Hant": "此對話所在的文件集 {name} 已不存在：現在提出的問題將在所選文件集中回答。",
    },
    # The chat's options: a question limited to some documents and/or languages of the collection.
    "scope": {
        "en": "Limit the search", "fr": "Limiter la recherche", "vi": "Giới hạn phạm vi tìm kiếm",
        "zh-Hans": "限定搜索范围", "zh-Hant": "限定搜尋範圍",
    },
    "scope_documents": {
        "en": "Only in these documents (none chosen: all)",
        "fr": "Seulement dans ces documents (aucun choisi : tous)",
        "vi": "Chỉ trong các tài liệu này (không chọn: tất cả)",
        "zh-Hans": "仅在这些文档中（不选：全部）",
        "zh-Hant": "僅在這些文件中（不選：全部）",
    },
    "scope_languages": {
        "en": "Only in documents in these languages (none chosen: all)",
        "fr": "Seulement dans les documents en ces langues (aucune choisie : toutes)",
        "vi": "Chỉ trong tài liệu bằng các ngôn ngữ này (không chọn: tất cả)",
        "zh-Hans": "仅在这些语言的文档中（不选：全部）",
        "zh-Hant": "僅在這些語言的文件中（不選：全部）",
    },
}

# Browser locales Gradio may report, and the table each one reads (Singapore and Malaysia write
# Simplified Chinese; Taiwan, Hong Kong and Macau Traditional).
_LOCALES = {
    "en": "en", "fr": "fr", "vi": "vi",
    "zh": "zh-Hans", "zh-CN": "zh-Hans", "zh-SG": "zh-Hans", "zh-MY": "zh-Hans", "zh-Hans": "zh-Hans",
    "zh-TW": "zh-Hant", "zh-HK": "zh-Hant", "zh-MO": "zh-Hant", "zh-Hant": "zh-Hant",
}


def say(key: str, language: str = "en", **kwargs: object) -> str:
    """The text of `key` in `language` (one of LANGUAGES; other Chinese reads Simplified, the rest English)."""
    return text(_TEXTS, key, language, **kwargs)


class _Keep(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def translations(**kwargs: object) -> dict[str, dict[str, str]]:
    """Every key in every browser locale, for `gr.I18n`; `kwargs` fill the placeholders they name."""
    by_language = {lang: {k: entry[lang].format_map(_Keep(kwargs)) for k, entry in _TEXTS.items()}
                   for lang in LANGUAGES}
    return {locale: by_language[lang] for locale, lang in _LOCALES.items()}


def browser_text_js(key: str, **kwargs: object) -> str:
    """A JavaScript expression: the text of `key` in the browser's language, as gr.I18n picks the page's
    (for a confirmation asked in the browser before an event reaches the server)."""
    texts = {lang: say(key, lang, **kwargs) for lang in LANGUAGES}
    return (
        "((t) => { const l = (navigator.language || 'en');"
        " const z = /^zh-(TW|HK|MO|Hant)/i.test(l) ? 'zh-Hant' : 'zh-Hans';"
        " return l.startsWith('zh') ? t[z] : (t[l.slice(0, 2)] || t.en); })("
        + json.dumps(texts, ensure_ascii=False) + ")"
    )


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
