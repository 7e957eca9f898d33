"""The web chat's page (Gradio): its layout and the events that tie the parts together.

The parts live beside it: the chat turn (chat.py), the saved conversations in the sidebar
(conversations.py), the collection picker (collection_picker.py), the source viewer (viewer.py), the
Documents tab (library.py), the export (export.py), the page's words (labels.py). The chat, the
Documents tab and the conversations follow the picker: a question is asked, a document listed,
added or deleted, a turn saved in the chosen collection, and reopening a conversation chooses its
collection. The browser keeps the picker's choice in its localStorage, so a reload chooses it again
while it exists. Every browser tab gets its
own chat history and answers (Gradio keeps component values and State per session); the Assistant
it shares holds no per-user state. Retrieval runs concurrently, and generation passes through a
`Gate`: a user whose question waits for the model sees its sources at once and their place in the
queue in the chat.
"""
from __future__ import annotations

import contextlib
from pathlib import Path

import gradio as gr  # after `rag` (imported by the ui package): the offline switches are set

import rag

from rag.present.messages import error_message

from .chat import SKIP, chat_turn
from .collection_picker import CONFIRM_DELETE_JS as CONFIRM_DELETE_COLLECTION_JS
from .collection_picker import (COLLECTION_KEY, collection_choices, collection_on_load, create_collection,
                               delete_collection, scope_choices)

from .conversations import CONFIRM_DELETE_JS as CONFIRM_DELETE_CONVERSATION_JS
from .conversations import BROWSER_KEY, browser_secret, choices, listed, new_browser_id, owner_of, restore, save_turn
from .export import export_conversation
from .gate import Gate
from .labels import request_language, say, translations
from .library import CONFIRM_DELETE_JS, add_files, delete_document, library_headers, library_rows, library_summary
from .viewer import SCROLL_JS, open_source, source_choices, translate_source

CSS = """
body, .gradio-container { font-family: "Noto Sans", "Noto Sans CJK TC", "Noto Sans CJK SC", sans-serif; }
.sources-panel { max-height: 560px; overflow-y: auto; }
/* The table's default monospace font draws Vietnamese tone marks apart from their letters. */
#library, #library * { font-family: "Noto Sans", "Noto Sans CJK TC", "Noto Sans CJK SC", sans-serif !important; }
#viewer .doc-text { position: relative; max-height: 420px; overflow-y: auto; white-space: pre-wrap; line-height: 1.6; }
#viewer .doc-title { font-weight: 600; margin-bottom: .4em; }
#viewer .gap { color: #888; }
#translation .machine { font-size: .85em; color: #8a5a00; }
mark { background: #ffe58a; color: inherit; }
/* The conversations sidebar: a plain list, one row per conversation (its title, then when it was last
   used, quieter), the open one tinted. */
#conversations-heading h3 { margin: 4px 0 0; font-size: .8em; letter-spacing: .06em; text-transform: uppercase;
  color: var(--body-text-color-subdued); }
#conversations .wrap { flex-direction: column; gap: 2px; }
#conversations label { width: 100%; box-sizing: border-box; margin: 0; padding: 7px 10px; border: 1px solid transparent;
  border-radius: 8px; background: transparent; box-shadow: none; white-space: pre-line; line-height: 1.4;
  font-size: .8em; color: var(--body-text-color-subdued); cursor: pointer; }
#conversations label span::first-line { color: var(--body-text-color); font-size: 1.12em; font-weight: 500; }
#conversations label:hover { background: var(--background-fill-secondary); }
#conversations label.selected { background: var(--color-accent-soft); border-color: var(--color-accent);
  color: var(--body-text-color-subdued); }
#conversations label.selected span { color: inherit; }
#conversations input[type=radio] { display: none; }
#no-conversations { color: var(--body-text-color-subdued); font-size: .9em; }
#collection-row { align-items: end; }
#create-collection { align-self: end; max-height: 42px; }
@media (max-width: 640px) { .gradio-container { padding: 4px !important; } }
"""


class _GoneCollection:
    """Stands for a chosen collection that no longer exists (deleted in another tab): every use raises
    the error that says so, which the Documents tab and the viewer show as they show any."""

    def __init__(self, error: rag.RagError) -> None:
        self.error = error

    def __getattr__(self, name: str):
        def fail(*args, **kwargs):
            raise self.error
        return fail


# The sidebar opens over the page on a phone: there it starts closed (its toggle opens it).
CLOSE_SIDEBAR_ON_PHONE_JS = """() => { if (window.innerWidth < 768) {
  const toggle = document.querySelector('#conversations-panel.open .toggle-button'); if (toggle) toggle.click(); } }"""


CACHE_SWEEP_S, CACHE_AGE_S = 600, 3600


def forget_uploads(paths: list[str], cache: str) -> None:
    """Delete the page's uploaded files from Gradio's cache (and their folders, once empty); a path
    outside the cache is never touched."""
    root = Path(cache).resolve()
    for p in paths:
        path = Path(p).resolve()
        if path.is_relative_to(root) and path != root:
            path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                if path.parent != root:
                    path.parent.rmdir()


def create_app(assistant, gate: Gate | None = None, conversations=None):
    gate = gate or Gate(limit=max(1, assistant.settings.llm_concurrency))
    # Every answered turn is saved here, under its owner: the signed-in user, else the browser.
    conversations = conversations or rag.open_conversations(assistant.settings)
    KEEP = (gr.skip(),) * 6  # the sidebar's outputs and the browser's id, left as they are

    def library_of(collection: str | None):
        """The assistant of the chosen collection (the name comes from the browser: checked here)."""
        try:
            return assistant.in_collection(collection or None)
        except rag.RagError as e:
            return _GoneCollection(e)

    def sidebar(owner: str | None, current: str | None, request, title: str | None = None):
        """current, the list (the open one selected), its empty-state note, the manage group, the title box."""
        infos = listed(conversations, owner)
        if title is None:
            title = next((c.title for c in infos if c.id == current), "")
        listing = choices(infos, request_language(request), default=assistant.settings.collection)
        return (current, gr.update(choices=listing, value=current),
                gr.update(visible=not infos), gr.update(visible=current is not None), gr.update(value=title))

    def respond(message: str, history: list[dict], answers: list, current: str | None, browser_id: str,
                request: gr.Request, collection: str | None = None, documents: list[str] | None = None,
                languages: list[str] | None = None, replaces_last: bool = False):
        """A question asked in the chosen collection, within the chosen scope; saved once answered."""
        answers = list(answers or [])
        if not browser_id:  # asked before the page's load event gave this browser its id
            browser_id = new_browser_id()
        owner = owner_of(request, browser_id)
        for out in chat_turn(assistant, message, history, gate, collection=collection or None,
                             documents=documents, languages=languages):
            chat_out, box_out, panel_out, answer = out
            if answer is not None:
                answers = answers + [answer]
                choices_ = source_choices(answer)
                current = save_turn(conversations, owner, current, collection or assistant.collection, message,
                                    answer, replaces_last=replaces_last)
                yield (chat_out, box_out, panel_out, answers,
                       gr.update(choices=choices_, value=None, visible=bool(choices_)), "", "",
                       *sidebar(owner, current, request), browser_id)
            else:
                yield (chat_out, box_out, gr.skip() if panel_out is SKIP else panel_out, gr.skip(),
                       gr.skip(), gr.skip(), gr.skip(), *KEEP)

    def retry(history: list[dict], answers: list, current: str | None, browser_id: str, request: gr.Request,
              collection: str | None = None, documents: list[str] | None = None, languages: list[str] | None = None):
        history = list(history or [])
        if len(history) < 2 or history[-2].get("role") != "user":
            yield history, "", gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), *KEEP
            return
        question = str(history[-2]["content"])
        kept = list(answers or [])
        asked_again = bool(kept) and kept[-1].question == question
        if asked_again:
            kept = kept[:-1]
        # The new answer takes the saved turn's place, as it takes its place in the chat.
        yield from respond(question, history[:-2], kept, current, browser_id, request, collection, documents,
                           languages, replaces_last=asked_again)

    def last_answer(answers):
        return answers[-1] if answers else None

    types = sorted(assistant.settings.allowed_suffixes)
    # The page's own words follow the browser's language (ui/labels.py); answers follow the question's.
    accepted = ", ".join(types)  # named in the upload box's label
    t = gr.I18n(**translations(types=accepted))
    # Uploads and exports pass through Gradio's cache: what is older than an hour is deleted every
    # ten minutes, and all of it when the server stops (an upload's own copy is deleted once added).
    with gr.Blocks(title="Ask the documents", delete_cache=(CACHE_SWEEP_S, CACHE_AGE_S)) as demo:
        answers = gr.State([])
        current = gr.State(None)  # the id of the open conversation (None: not saved yet)
        # A random id made on the browser's first visit, kept in its localStorage: whose conversations
        # these are when the page has no password.
        secret = browser_secret(assistant.settings)
        browser = gr.BrowserState("", storage_key=BROWSER_KEY, secret=secret)
        # The collection this browser chose last (empty until it chooses one), chosen again on load.
        remembered = gr.BrowserState("", storage_key=COLLECTION_KEY, secret=secret)
        with gr.Sidebar(label=t("conversations"), open=True, width=300, elem_id="conversations-panel"):
            new = gr.Button(t("new_conversation"), variant="primary", size="sm", elem_id="new-conversation")
            heading = gr.Markdown("### " + say("conversations"), elem_id="conversations-heading")
            saved = gr.Radio(choices=[], value=None, show_label=False, container=False, elem_id="conversations")
            none_yet = gr.Markdown(t("no_conversations"), elem_id="no-conversations")
            with gr.Group(visible=False) as manage:  # acts on the open conversation
                title = gr.Textbox(label=t("conversation_title"), max_lines=1, elem_id="conversation-title")
                with gr.Row():
                    rename = gr.Button(t("rename"), size="sm", min_width=60, elem_id="rename-conversation")
                    export_saved = gr.Button(t("export"), size="sm", min_width=60, elem_id="export-conversation")
                    drop = gr.Button(t("delete_conversation"), size="sm", variant="stop", min_width=60,
                                     elem_id="delete-conversation")
        # Shown while the server warms up (rag serve: ui/health.py); a timer looks again every second
        # until it is ready, then stops.
        warming = gr.Markdown(t("warming_up"), visible=False, elem_id="warming")
        warm_timer = gr.Timer(1.0, active=False)
        with gr.Row(equal_height=False, elem_id="collection-row"):
            with gr.Column(scale=3, min_width=320):
                intro = gr.Markdown(t("intro"))
            # Filled with every collection and its document count when the page loads, and set to the
            # one this browser chose last.
            picker = gr.Dropdown(label=t("collection"), choices=[(assistant.collection, assistant.collection)],
                                 value=assistant.collection, scale=1, min_width=320, elem_id="collection")
        with gr.Tabs():
            with gr.Tab(t("tab_chat"), id="chat") as chat_tab:
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=320):
                        # No fixed example questions: the empty chat says what is indexed (set on load).
                        chat = gr.Chatbot(label=t("tab_chat"), height=480, elem_id="chat")
                        box = gr.Textbox(
                            label=t("question"),
                            placeholder=t("placeholder"),
                            lines=2,
                            max_lines=6,
                            elem_id="question",
                        )
                        with gr.Row():
                            send = gr.Button(t("ask"), variant="primary", elem_id="ask", min_width=80)
                            stop = gr.Button(t("stop"), elem_id="stop", min_width=80)
                            again = gr.Button(t("retry"), elem_id="retry", min_width=80)
                            clear = gr.Button(t("clear"), elem_id="clear", min_width=80)
                            export = gr.Button(t("export"), elem_id="export", min_width=80)
                        exported = gr.File(label=say("exported"), visible=False, elem_id="exported")
                        with gr.Accordion(t("scope"), open=False, elem_id="scope"):
                            scope_docs = gr.Dropdown(label=t("scope_documents"), choices=[], value=[],
                                                     multiselect=True, elem_id="scope-documents")
                            scope_langs = gr.Dropdown(label=t("scope_languages"), choices=[], value=[],
                                                      multiselect=True, elem_id="scope-languages")
                    with gr.Column(scale=2, min_width=320):
                        sources = gr.Markdown(t("sources_empty"), elem_classes="sources-panel", elem_id="sources")
                        pick = gr.Radio(label=t("pick"), choices=[], visible=False, elem_id="pick")
                        translate = gr.Button(t("translate"), size="sm", elem_id="translate")
                        translation = gr.HTML("", elem_id="translation")
                        viewer = gr.HTML("", elem_id="viewer")
            with gr.Tab(t("tab_documents"), id="documents") as docs_tab:
                library = gr.Dataframe(  # filled on load with the chosen collection's documents
                    headers=library_headers(),
                    interactive=False,
                    elem_id="library",
                )
                upload = gr.File(label=say("upload", types=accepted),
                                 file_count="multiple", file_types=types, elem_id="upload")
                add = gr.Button(t("add"), variant="primary", elem_id="add")
                added = gr.Markdown("", elem_id="upload-result")
                with gr.Row():
                    victim = gr.Dropdown(label=t("victim"), choices=[], elem_id="victim")
                    remove = gr.Button(t("delete"), variant="stop", elem_id="delete")
                removed = gr.Markdown("", elem_id="delete-result")
                with gr.Accordion(t("collections_manage"), open=False, elem_id="collections"):
                    with gr.Row(equal_height=True):
                        new_name = gr.Textbox(label=t("collection_name"), info=t("collection_name_rule"),
                                              max_lines=1, scale=3, min_width=200, elem_id="collection-name")
                        create = gr.Button(t("create_collection"), scale=1, min_width=80, elem_id="create-collection")
                    drop_collection = gr.Button(t("delete_collection"), variant="stop", size="sm",
                                                elem_id="delete-collection")
                    collection_result = gr.Markdown("", elem_id="collection-result")

        side = [current, saved, none_yet, manage, title]
        outs = [chat, box, sources, answers, pick, translation, viewer, *side, browser]
        scope = [picker, scope_docs, scope_langs]
        asked = [box, chat, answers, current, browser, *scope]
        events = [
            send.click(respond, asked, outs, api_name="ask"),
            box.submit(respond, asked, outs, api_name=False),
            again.click(retry, [chat, answers, current, browser, *scope], outs, api_name=False),
        ]
        stop.click(None, None, None, cancels=events)

        def clear_all(browser_id: str, request: gr.Request):
            """An empty chat: the next question starts a new conversation (the open one stays saved)."""
            empty = say("sources_empty", request_language(request))
            return ([], "", empty, [], gr.update(choices=[], visible=False), "", "",
                    *sidebar(owner_of(request, browser_id), None, request), gr.skip())

        def reopen(cid: str | None, browser_id: str, request: gr.Request):
            """A saved conversation back on the page, in its collection (the picker follows)."""
            owner = owner_of(request, browser_id)
            if not cid or owner is None:
                return (*clear_all(browser_id, request), gr.skip())
            try:
                messages, kept, panel, conversation = restore(conversations, owner, cid)
            except rag.ConversationNotFound:  # deleted in another tab meanwhile
                return (*clear_all(browser_id, request), gr.skip())
            lang = request_language(request)
            library = library_of(conversation.collection)
            if isinstance(library, _GoneCollection):
                # Shown as it was; a follow-up is asked in the chosen collection, and the reader is told.
                gr.Warning(say("collection_gone", lang, name=conversation.collection))
                chosen = gr.skip()
            else:
                chosen = gr.update(choices=collection_choices(assistant, lang), value=conversation.collection)
            choices_ = source_choices(kept[-1]) if kept else []
            return (messages, "", panel or say("sources_empty", lang), kept,
                    gr.update(choices=choices_, value=None, visible=bool(choices_)), "", "",
                    *sidebar(owner, cid, request, conversation.title), gr.skip(), chosen)

        def start(browser_id: str, request: gr.Request):
            """On load: give a new browser its id, and list the owner's conversations."""
            browser_id = browser_id or new_browser_id()
            return (browser_id, *sidebar(owner_of(request, browser_id), None, request)[1:3])

        def rename_open(cid: str | None, text: str, browser_id: str, request: gr.Request):
            owner = owner_of(request, browser_id)
            if cid and owner:
                try:
                    conversations.rename(cid, owner, text)
                except rag.InvalidInput as e:  # an empty title, or a conversation deleted meanwhile
                    gr.Warning(error_message(e, request_language(request)))
            return sidebar(owner, cid, request)

        def delete_open(cid: str | None, browser_id: str, shown_title: str, request: gr.Request):
            owner = owner_of(request, browser_id)
            if not cid or owner is None or not shown_title:  # nothing open, or the confirmation declined
                return tuple(gr.skip() for _ in outs)
            conversations.delete(cid, owner)
            return clear_all(browser_id, request)

        def export_open(cid: str | None, browser_id: str, request: gr.Request):
            owner = owner_of(request, browser_id)
            try:
                kept = conversations.get(cid, owner).answers if cid and owner else []
            except rag.ConversationNotFound:
                kept = []
            return gr.update(value=export_conversation(kept), visible=bool(kept),
                             label=say("exported", request_language(request)))

        def export_file(a, request: gr.Request):
            return gr.update(value=export_conversation(a), visible=bool(a),
                             label=say("exported", request_language(request)))

        clear.click(clear_all, [browser], outs, queue=False, api_name=False)
        new.click(clear_all, [browser], outs, queue=False, api_name=False)
        export.click(export_file, [answers], [exported], api_name=False)
        saved.input(reopen, [saved, browser], [*outs, picker], api_name=False)
        rename.click(rename_open, [current, title, browser], side, api_name=False)
        title.submit(rename_open, [current, title, browser], side, api_name=False)
        export_saved.click(export_open, [current, browser], [exported], api_name=False)
        drop.click(delete_open, [current, browser, title], outs, js=CONFIRM_DELETE_CONVERSATION_JS, api_name=False)
        def warm_notice(request: gr.Request):
            """The warming-up notice while the warm-up runs, and the timer that looks again."""
            warm = assistant.readiness().status != "warming"
            return (gr.update(visible=not warm, value=say("warming_up", request_language(request))),
                    gr.Timer(active=not warm))

        demo.load(warm_notice, None, [warming, warm_timer], queue=False, api_name=False)
        warm_timer.tick(warm_notice, None, [warming, warm_timer], queue=False, api_name=False,
                        show_progress="hidden")
        demo.load(start, [browser], [browser, saved, none_yet], queue=False, api_name=False)
        demo.load(None, None, None, js=CLOSE_SIDEBAR_ON_PHONE_JS, api_name=False)
        pick.change(lambda a, v, c: open_source(library_of(c), last_answer(a), v), [answers, pick, picker], [viewer],
                    api_name=False).then(None, None, None, js=SCROLL_JS)
        translate.click(lambda a, v: translate_source(assistant, last_answer(a), v) if a else "",
                        [answers, pick], [translation], api_name=False)

        def refresh(request: gr.Request, collection: str | None = None):
            lang = request_language(request)
            rows = library_rows(library_of(collection), lang)
            names = [r[0] for r in rows] if rows and rows[0][1] else []  # not the "could not be read" row
            return ({"headers": library_headers(lang), "data": rows},
                    gr.update(choices=names, value=None, label=say("victim", lang)))

        def summary(request: gr.Request, collection: str | None = None):
            return gr.update(placeholder=library_summary(library_of(collection), request_language(request)))

        def counts(request: gr.Request):
            """The picker's choices again (their document counts change); its value stays."""
            return gr.update(choices=collection_choices(assistant, request_language(request)))

        def do_add(paths, request: gr.Request, collection: str | None = None, progress=gr.Progress()):
            paths = [str(p) for p in (paths or [])]
            try:
                msg = add_files(library_of(collection), paths, progress, request_language(request))
            finally:
                forget_uploads(paths, demo.GRADIO_CACHE)  # added ones were copied into the library
            return (msg, None, *refresh(request, collection), *limits(request, collection), counts(request),
                    summary(request, collection))

        def do_delete(name, request: gr.Request, collection: str | None = None):
            msg = delete_document(library_of(collection), name, request_language(request))
            return (msg, *refresh(request, collection), *limits(request, collection), counts(request),
                    summary(request, collection))

        def limits(request: gr.Request, collection: str | None = None):
            """The scope's choices: the chosen collection's documents and their languages, none chosen."""
            names, languages = scope_choices(library_of(collection), request_language(request))
            return (gr.update(choices=names, value=[]), gr.update(choices=languages, value=[]))

        def show_collection(collection: str | None, request: gr.Request):
            """The picker moved (chosen, or a reopened conversation's): its documents, scope and summary."""
            return (*refresh(request, collection), *limits(request, collection), summary(request, collection))

        def restore_collection(stored, request: gr.Request):
            """On load: the collection this browser chose last while it exists (else the default one,
            which it then keeps), and what it holds: its documents, scope and summary."""
            try:
                existing = [c.name for c in assistant.collections()]
            except rag.RagError:  # the picker then offers the default one alone
                existing = None
            chosen, keep = collection_on_load(stored, existing, assistant.collection)
            picked = gr.update(choices=collection_choices(assistant, request_language(request)), value=chosen)
            return (picked, keep, *show_collection(chosen, request))

        def remember(collection: str | None):
            """The picker moved (chosen, created, back to the default after a delete, a reopened
            conversation's): the browser keeps it for its next visit."""
            return collection or gr.skip()

        def do_create(name: str, browser_id: str, request: gr.Request):
            """Make a collection and choose it; the chat starts afresh there. A refused name changes nothing
            but the reply."""
            lang = request_language(request)
            msg, made = create_collection(assistant, name, lang)
            if made is None:
                return (msg, gr.skip(), gr.skip(), *(gr.skip() for _ in outs))
            return (msg, "", gr.update(choices=collection_choices(assistant, lang), value=made),
                    *clear_all(browser_id, request))

        def do_drop(name: str, browser_id: str, request: gr.Request):
            """Delete the chosen collection (once the browser confirmed: else no name comes) and go back to
            the default one, with a fresh chat."""
            lang = request_language(request)
            if not name:
                return (say("nothing_deleted", lang), gr.skip(), *(gr.skip() for _ in outs))
            msg, deleted = delete_collection(assistant, name, lang)
            if not deleted:
                return (msg, gr.skip(), *(gr.skip() for _ in outs))
            return (msg, gr.update(choices=collection_choices(assistant, lang), value=assistant.settings.collection),
                    *clear_all(browser_id, request))

        # gr.I18n shows the labels at once, but only in the locales Gradio ships (French and Chinese,
        # not Vietnamese), and not on file boxes: every label is also set from the request's
        # Accept-Language when the page loads.
        page = [
            (intro, "value", "intro"), (chat_tab, "label", "tab_chat"), (docs_tab, "label", "tab_documents"),
            (chat, "label", "tab_chat"), (box, "label", "question"), (box, "placeholder", "placeholder"),
            (send, "value", "ask"), (stop, "value", "stop"), (again, "value", "retry"), (clear, "value", "clear"),
            (export, "value", "export"), (exported, "label", "exported"),
            (sources, "value", "sources_empty"), (pick, "label", "pick"), (translate, "value", "translate"),
            (upload, "label", "upload"), (add, "value", "add"), (remove, "value", "delete"),
            (new, "value", "new_conversation"), (none_yet, "value", "no_conversations"),
            (heading, "value", "conversations_heading"),
            (title, "label", "conversation_title"), (rename, "value", "rename"), (export_saved, "value", "export"),
            (drop, "value", "delete_conversation"), (picker, "label", "collection"),
            (scope_docs, "label", "scope_documents"), (scope_langs, "label", "scope_languages"),
            (new_name, "label", "collection_name"), (new_name, "info", "collection_name_rule"),
            (create, "value", "create_collection"), (drop_collection, "value", "delete_collection"),
        ]
        targets = list(dict.fromkeys(c for c, _, _ in page))

        def localize(request: gr.Request):
            lang = request_language(request)
            props: dict = {c: {} for c in targets}
            for c, prop, key in page:
                props[c][prop] = say(key, lang, types=accepted)
            props[chat]["placeholder"] = library_summary(assistant, lang)  # what is indexed, now
            props[picker]["choices"] = collection_choices(assistant, lang)
            return [gr.update(**props[c]) for c in targets]

        listing = [library, victim, scope_docs, scope_langs, picker, chat]  # what an upload or a delete changes
        docs_tab.select(refresh, [picker], [library, victim], api_name=False)
        add.click(do_add, [upload, picker], [added, upload, *listing], api_name=False)
        remove.click(do_delete, [victim, picker], [removed, *listing], js=CONFIRM_DELETE_JS, api_name=False)
        # Choosing a collection starts a fresh chat there (a conversation stays in its collection); a
        # reopened conversation moves the picker without clearing it.
        picker.input(clear_all, [browser], outs, queue=False, api_name=False)
        picker.change(show_collection, [picker], [library, victim, scope_docs, scope_langs, chat], api_name=False)
        picker.change(remember, [picker], [remembered], queue=False, api_name=False)
        made = [collection_result, new_name, picker, *outs]
        create.click(do_create, [new_name, browser], made, api_name=False)
        new_name.submit(do_create, [new_name, browser], made, api_name=False)
        drop_collection.click(do_drop, [picker, browser], [collection_result, picker, *outs],
                              js=CONFIRM_DELETE_COLLECTION_JS, api_name=False)
        # After the words: the chosen collection's summary replaces the default one's that localize sets.
        demo.load(localize, None, targets, api_name=False).then(
            restore_collection, [remembered], [picker, remembered, library, victim, scope_docs, scope_langs, chat],
            api_name=False)
    demo.rag_i18n = t  # for ui.server, which mounts the page: Gradio takes the translations there
    return demo

