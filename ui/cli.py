"""The `rag` command: ingest, search, ask, chat, documents, collections, conversations, settings,
serve. Every command has `--json`.

Errors from the library (`RagError`) become one line on stderr and an exit code; nothing else here
knows about Chroma or models.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Sequence

# Names are read as `rag.X` where they are used: the pipeline behind them loads on first use, so
# `rag --help` stays fast.
import rag
from rag.present.messages import error_message
from rag.present.render import answer_text, conversation_markdown, passage_line

# `rag eval --compare`: every retrieval stage combination worth a row.
STAGE_COMBINATIONS = [
    ("dense",), ("dense", "keyword"), ("dense", "center"), ("dense", "center", "keyword"),
    ("dense", "center", "sentence"), ("dense", "center", "sentence", "keyword"),
    ("dense", "center", "sentence", "keyword", "anchor"),
]


def _print_json(obj: object) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2))


class _ProgressBar:
    """A tqdm bar on stderr (count, rate, elapsed), created on the first report. The total may grow
    while it runs (ingestion learns it as files are prepared), so it is closed by the caller."""

    def __init__(self, label: str, unit: str) -> None:
        self.label, self.unit, self.bar = label, unit, None

    def __call__(self, done: int, total: int) -> None:
        from tqdm import tqdm

        if self.bar is None:
            if total == 0:
                return
            self.bar = tqdm(total=total, desc=self.label, unit=self.unit, file=sys.stderr)
        if total != self.bar.total:
            self.bar.total = total
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _assistant(args: argparse.Namespace):
    """The assistant of the collection `--collection` names (the default one without it)."""
    return rag.get_assistant(getattr(args, "collection", None))


def cmd_ingest(args: argparse.Namespace) -> int:
    if not args.paths:
        # No default folder: what to index is the user's to say, never a corpus of ours.
        raise rag.InvalidInput("rag ingest: give the files or folders to index, e.g. `rag ingest seeds/`")
    assistant = _assistant(args)
    paths = args.paths
    # Counts every embedded text: the chunks and, for the sentence index, their sentences.
    bar = None if args.json else _ProgressBar("embedding chunks+sentences", "text")
    try:
        report = assistant.ingest(paths, prune=args.prune, progress=bar)
    finally:
        if bar is not None:
            bar.close()
    if args.json:
        _print_json(report.to_dict())
        return 1 if report.skipped else 0
    print(
        f"added {len(report.added)}, updated {len(report.updated)}, unchanged {len(report.unchanged)}, "
        f"removed {len(report.removed)}, repaired {len(report.repaired)}; {report.chunks} chunks written "
        f"({assistant.describe_store()})"
    )
    for note in report.notices:
        print(f"note: {note}")
    for path, doc in report.duplicates:
        print(f"duplicate {path}: same content as {doc}, already indexed; not stored again")
    for doc, warning in report.warnings:
        print(f"warning {doc}: {warning}")
    for path, reason in report.ignored:
        print(f"ignored {path}: {reason}")
    for path, reason in report.skipped:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    return 1 if report.skipped else 0


def cmd_search(args: argparse.Namespace) -> int:
    passages = _assistant(args).search(args.query, args.k, documents=args.documents, languages=args.languages)
    if args.json:
        _print_json([p.to_dict() for p in passages])
    elif not passages:
        print("no passages: the index is empty (run `rag ingest`)")
    else:
        for i, p in enumerate(passages, 1):
            print(passage_line(i, p))
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    assistant = _assistant(args)
    try:
        answer = assistant.ask(args.question, documents=args.documents, languages=args.languages)
    except rag.RagError as e:
        # Said in the asker's language (the detail, naming a URL or a setting, stays as raised).
        language = assistant.language_of(args.question) if args.question.strip() else "en"
        if language == "en":
            raise
        print(f"error: {error_message(e, language)}", file=sys.stderr)
        return e.exit_code
    if args.json:
        _print_json(answer.to_dict())
    else:
        print(answer_text(answer))
    return 0


def cmd_documents(args: argparse.Namespace) -> int:
    docs = _assistant(args).documents()
    if args.json:
        _print_json([d.to_dict() for d in docs])
    elif not docs:
        print("no documents indexed (run `rag ingest`)")
    else:
        for d in docs:
            print(f"{d.document}\t{d.language}\t{d.chunks} chunks\t{d.ingested_at}")
    return 0


def cmd_document(args: argparse.Namespace) -> int:
    """The exact text a document's citation offsets index into (`text[start:end]` is what is cited)."""
    text = _assistant(args).document_text(args.name)
    if args.json:
        _print_json({"document": args.name, "length": len(text), "text": text})
    else:
        sys.stdout.write(text)  # exactly: offsets count its characters
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    assistant = _assistant(args)
    results = {name: assistant.delete(name) for name in args.names}
    if args.json:
        _print_json({"deleted": [n for n, ok in results.items() if ok],
                     "not_found": [n for n, ok in results.items() if not ok]})
    else:
        for name, ok in results.items():
            print(f"deleted {name}" if ok else f"not in the index: {name}", file=sys.stdout if ok else sys.stderr)
    return 0 if all(results.values()) else 1


def cmd_model(args: argparse.Namespace) -> int:
    path = rag.ensure_model(_assistant(args).settings.model_dir, progress=not args.json, verify=args.verify)
    if args.json:
        _print_json({"path": str(path), "verified": True})
    else:
        print(f"local model ready: {path}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    if args.unanswerable < 0:
        raise rag.InvalidInput(f"--unanswerable must be 0 or more, got {args.unanswerable}")
    if args.answers and (args.stages or args.compare):
        raise rag.InvalidInput("--stages and --compare apply to retrieval recall; --answers measures the "
                               "configured pipeline (set RAG_RETRIEVAL to try other stages)")
    assistant = _assistant(args)
    bars: dict = {}

    def progress(stage: str, done: int, total: int) -> None:
        if args.json:
            return
        from tqdm import tqdm

        bar = bars.get(stage)
        if bar is None and total:
            bar = bars[stage] = tqdm(total=total, desc=stage, file=sys.stderr, leave=False)
        if bar is not None:
            bar.update(done - bar.n)
            if done >= total:
                bar.close()
                bars.pop(stage)

    if args.answers:
        def say(line: str) -> None:  # one line per question: a bar would hide what each one did
            if not args.json:
                print(line, file=sys.stderr, flush=True)

        def indexing(stage: str, done: int, total: int) -> None:
            if stage == "indexing":
                progress(stage, done, total)

        ds, answerable, unanswerable = rag.load_answer_cases(Path(args.dataset), args.limit, args.unanswerable)
        out = rag.answer_records_path(assistant.settings.home, ds.name)
        run = rag.evaluate_answers(ds, answerable, unanswerable, assistant, out, progress=indexing, note=say)
        if args.json:
            _print_json(run.to_dict())
        else:
            print(rag.answers_table(run))
        return 0

    ds = rag.load_dataset(Path(args.dataset))
    questions = rag.sample_questions(ds.questions, args.limit)
    configs = [tuple(c.split(",")) for c in args.stages] if args.stages else [tuple(assistant.stages)]
    if args.compare:
        configs = STAGE_COMBINATIONS
    cache = rag.EmbeddingCache(assistant.settings.home / "cache" / "embeddings.sqlite")
    runs = []
    for stages in configs:
        runs.append(rag.evaluate_retrieval(ds, assistant.settings, assistant.embedder, stages, questions, cache,
                                           progress))
    if args.json:
        _print_json({
            "dataset": str(args.dataset), "questions": len(questions),
            "runs": [{"stages": list(r.stages), **r.summary, "latency_ms": r.latency_ms} for r in runs],
        })
    else:
        print(f"dataset {ds.name}: {len(questions)} questions ({ds.kind})")
        print(rag.retrieval_table(runs))
    return 0


def cmd_collections(args: argparse.Namespace) -> int:
    if args.action == "create":
        info = rag.create_collection(args.name)
        if args.json:
            _print_json(info.to_dict())
        else:
            print(f"created collection {info.name}")
        return 0
    if args.action == "delete":
        if not args.yes:
            if not sys.stdin.isatty():
                raise rag.InvalidInput(f"rag collections delete: confirm with --yes to delete {args.name!r} "
                                       "(standard input is not a terminal to ask on)")
            found = {c.name: c for c in rag.collections()}.get(args.name)
            if found is not None:
                answer = input(f"delete collection {found.name} ({found.documents} documents, {found.chunks} "
                               "chunks, its keyword index and uploads)? [y/N] ")
                if answer.strip().lower() not in ("y", "yes"):
                    print("nothing deleted")
                    return 1
        deleted = rag.delete_collection(args.name)
        if args.json:
            _print_json({"collection": args.name, "deleted": deleted})
        elif deleted:
            print(f"deleted collection {args.name}")
        else:
            print(f"no collection named {args.name}", file=sys.stderr)
        return 0 if deleted else 1
    found = rag.collections()
    if args.json:
        _print_json([c.to_dict() for c in found])
    else:
        for c in found:
            print(f"{c.name}\t{c.documents} documents\t{c.chunks} chunks" + ("\t(default)" if c.default else ""))
    return 0


# The terminal's user. The page's conversations belong to its signed-in users or browsers
# (ui/conversations.py), so `rag conversations` lists what was said here, in the terminal.
OWNER = "local"


def cmd_chat(args: argparse.Namespace) -> int:
    from ui.terminal import TerminalChat, prompt_lines

    store = rag.open_conversations()
    resumed = store.get(store.resolve(args.resume, OWNER), OWNER) if args.resume else None
    # A reopened conversation goes on in the collection it was asked in.
    assistant = rag.get_assistant(resumed.collection) if resumed else _assistant(args)
    interactive = sys.stdin.isatty()
    chat = TerminalChat(assistant, store, OWNER, assistant.collection, sys.stdout, as_json=args.json,
                        interactive=interactive and not args.json)
    if resumed is not None:
        chat.resume(resumed)
    code = chat.run(prompt_lines() if interactive else sys.stdin)
    if chat.conversation_id and not args.json:
        print(f"saved as conversation {chat.conversation_id[:8]}: `rag chat --continue "
              f"{chat.conversation_id[:8]}` goes on with it", file=sys.stderr)
    return code


def _local_time(stamp: str) -> str:
    from datetime import datetime

    return datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")


def cmd_conversations(args: argparse.Namespace) -> int:
    store = rag.open_conversations()
    if args.action == "show":
        conversation = store.get(store.resolve(args.id, OWNER), OWNER)
        if args.json:
            _print_json(conversation.to_dict())
        else:
            sys.stdout.write(conversation_markdown(conversation.answers, when=_local_time(conversation.created_at)))
        return 0
    if args.action == "delete":
        cid = store.resolve(args.id, OWNER)
        title = store.get(cid, OWNER).title
        store.delete(cid, OWNER)
        if args.json:
            _print_json({"deleted": cid})
        else:
            print(f"deleted conversation {cid[:8]}: {title}")
        return 0
    if args.action == "rename":
        cid = store.resolve(args.id, OWNER)
        store.rename(cid, OWNER, args.title)
        title = store.get(cid, OWNER).title
        if args.json:
            _print_json({"id": cid, "title": title})
        else:
            print(f"renamed conversation {cid[:8]}: {title}")
        return 0
    found = store.list(OWNER, collection=getattr(args, "collection", None))
    if args.json:
        _print_json([c.to_dict() for c in found])
    elif not found:
        print("no conversations yet: start one with `rag chat`")
    else:
        for c in found:
            turns = f"{c.turns} turn" + ("" if c.turns == 1 else "s")
            print(f"{c.id[:8]}\t{_local_time(c.updated_at)}\t{turns}\t{c.collection}\t{c.title}")
    return 0


def cmd_settings(args: argparse.Namespace) -> int:
    values = rag.explain_settings()
    if args.json:
        _print_json([v.to_dict() for v in values])
        return 0
    # As rag.toml lines (unset ones as ""), so that any of them can be copied into the file.
    lines = [(f"{v.name} = {json.dumps('' if v.value is None else v.value, ensure_ascii=False)}",
              v.source + (" (unset)" if v.value is None else "")) for v in values]
    width = max(len(line) for line, _ in lines)
    for line, source in lines:
        print(f"{line:<{width}}  # {source}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    # The one upward edge: the CLI is the program's top, and `serve` starts the page and the API.
    from ui.server import api_keys, check_exposure, page_login, serve

    assistant = _assistant(args)
    login = page_login(assistant.settings, args.auth)
    keys = api_keys(assistant.settings)
    check_exposure(args.host, login, keys, args.no_auth)
    serve(assistant, host=args.host, port=args.port, keys=keys, login=login)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rag", description="Ask questions about your documents, with cited answers.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("ingest", help="index files or directories")
    s.add_argument("paths", nargs="*", help="files or directories to ingest (at least one)")
    s.add_argument("--prune", action="store_true", help="remove indexed documents whose files are gone")
    s.add_argument("--json", action="store_true", help="print the report as JSON")
    s.set_defaults(func=cmd_ingest)

    s = sub.add_parser("search", help="show the passages retrieved for a query")
    s.add_argument("query")
    s.add_argument("-k", type=int, default=None, help="number of passages (default: RAG_TOP_K)")
    _scope_options(s)
    s.add_argument("--json", action="store_true", help="print passages as JSON")
    s.set_defaults(func=cmd_search)

    s = sub.add_parser("ask", help="answer a question from the indexed documents, with citations")
    s.add_argument("question")
    _scope_options(s)
    s.add_argument("--json", action="store_true", help="print the answer as JSON")
    s.set_defaults(func=cmd_ask)

    s = sub.add_parser("documents", help="list indexed documents")
    s.add_argument("--json", action="store_true", help="print the list as JSON")
    s.set_defaults(func=cmd_documents)

    s = sub.add_parser("document", help="print one document's text, the one citation offsets (start, end) index into")
    s.add_argument("name", metavar="NAME", help="the document's name, as `rag documents` lists it")
    s.add_argument("--json", action="store_true", help="print the name, length and text as JSON")
    s.set_defaults(func=cmd_document)

    s = sub.add_parser("delete", help="remove documents from the index, by name as `rag documents` lists them")
    s.add_argument("names", nargs="+", metavar="NAME")
    s.add_argument("--json", action="store_true", help="print what was deleted as JSON")
    s.set_defaults(func=cmd_delete)

    s = sub.add_parser("eval", help="measure retrieval recall (or, with --answers, answer quality) on a dataset")
    s.add_argument("--dataset", default="eval/seeds", help="dataset directory (default: eval/seeds)")
    s.add_argument("--limit", type=int, default=None, help="a deterministic sample of N questions")
    s.add_argument("--answers", action="store_true",
                   help="answer quality end to end (accuracy, citations, language, refusals, latency) through "
                        "the same code as `rag ask`; runs the LLM on every question")
    s.add_argument("--unanswerable", type=int, default=20, metavar="N",
                   help="with --answers: also ask N unanswerable questions (default 20; 0: none)")
    s.add_argument("--stages", action="append", help="retrieval stages to run, e.g. dense,center (repeatable)")
    s.add_argument("--compare", action="store_true", help="run every stage combination, one table")
    s.add_argument("--json", action="store_true", help="print the results as JSON")
    s.set_defaults(func=cmd_eval)

    s = sub.add_parser("model", help="assemble and verify the packaged local model (done on first use otherwise)")
    s.add_argument("--verify", action="store_true", help="re-hash the model file even if it was verified before")
    s.add_argument("--json", action="store_true", help="print the result as JSON")
    s.set_defaults(func=cmd_model)

    s = sub.add_parser("serve", help="serve the web chat and the OpenAI-compatible API (/v1) on one port")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    s.add_argument("--port", type=int, default=7860)
    s.add_argument("--auth", metavar="USER:PASSWORD",
                   help="the page's login (prefer RAG_AUTH or RAG_AUTH_FILE: a command line shows in `ps`); "
                        "off 127.0.0.1 a login and API keys (RAG_API_KEYS, RAG_API_KEYS_FILE) are needed")
    s.add_argument("--no-auth", action="store_true", help="serve off 127.0.0.1 without a login or API keys")
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("collections", help="list the collections (separate libraries), or create or delete one")
    s.add_argument("--json", action="store_true", help="print the list as JSON")
    s.set_defaults(func=cmd_collections, action=None)
    actions = s.add_subparsers(dest="action", metavar="ACTION")
    a = actions.add_parser("create", help="create an empty collection")
    a.add_argument("name", metavar="NAME", help=f"its name: {rag.COLLECTION_NAME_RULE}")
    a.add_argument("--json", action="store_true", help="print the new collection as JSON")
    a = actions.add_parser("delete", help="delete a collection: its index, keyword index and uploads, nothing else")
    a.add_argument("name", metavar="NAME")
    a.add_argument("--yes", action="store_true", help="do not ask for confirmation (needed off a terminal)")
    a.add_argument("--json", action="store_true", help="print what was deleted as JSON")

    s = sub.add_parser("chat", help="a conversation in the terminal, or one answer per line of standard input")
    s.add_argument("--continue", dest="resume", metavar="ID",
                   help="go on with a saved conversation (its id, or the start of it, as `rag conversations` "
                        "lists it), in its collection")
    s.add_argument("--json", action="store_true", help="one JSON object per answer (one line each)")
    s.set_defaults(func=cmd_chat)

    s = sub.add_parser("conversations", help="list the conversations of `rag chat`, or show, rename or delete one")
    s.add_argument("--json", action="store_true", help="print the list as JSON")
    s.set_defaults(func=cmd_conversations, action=None)
    actions = s.add_subparsers(dest="action", metavar="ACTION")
    a = actions.add_parser("show", help="print a conversation as Markdown (footnotes for citations)")
    a.add_argument("id", metavar="ID", help="its id, or the start of it (6 characters at least)")
    a.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                   help="every turn with its answer, citations and flags, as JSON")
    a = actions.add_parser("rename", help="give a conversation a title")
    a.add_argument("id", metavar="ID")
    a.add_argument("title", metavar="TITLE")
    a.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print the result as JSON")
    a = actions.add_parser("delete", help="delete a conversation")
    a.add_argument("id", metavar="ID")
    a.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print the result as JSON")

    # Every command that reads or writes a library works on one collection (`rag collections`).
    for name, command in sub.choices.items():
        if name not in ("collections", "model", "eval"):
            what = ("only the conversations of this collection (default: all of them)" if name == "conversations"
                    else "the collection to use (default: RAG_COLLECTION)"
                    + ("; the page's choice for a browser that has not chosen one" if name == "serve" else ""))
            command.add_argument("--collection", metavar="NAME", default=None, help=what)

    # After the loop above: settings are not a collection's.
    s = sub.add_parser("settings", help="print the settings in force and where each comes from (default, "
                                        "rag.toml, .env, environment)")
    s.add_argument("--json", action="store_true", help="print them as JSON: name, value and source of each")
    s.set_defaults(func=cmd_settings)
    return p


def _scope_options(s: argparse.ArgumentParser) -> None:
    s.add_argument("--document", dest="documents", action="append", metavar="NAME",
                   help="only passages of this document, as `rag documents` lists it (repeatable)")
    s.add_argument("--language", dest="languages", action="append", metavar="CODE",
                   help="only passages of documents in this language, e.g. fr, vi, zh (repeatable)")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
        sys.stdout.flush()  # here, where a closed pipe is caught, not at exit
        return code
    except BrokenPipeError:
        # The reader went away (`rag settings | head`): stop quietly, as other tools do, and send what
        # is still buffered nowhere so that Python does not complain about it at exit.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):  # stdout is no file (a test's capture)
            pass
        return 141  # 128 + SIGPIPE, what a shell reports for a tool the closed pipe stopped
    except rag.RagError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
