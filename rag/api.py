"""The public Python API: `ask`, `ask_stream`, `search`, `ingest`, `documents`, `document_text`.

An `Assistant` owns one settings object, one store, one embedder and one LLM, each built on first
use. The CLI and the web UI both call these functions; neither touches Chroma or a model directly.
The module-level functions use a default Assistant built on first call, never at import; their
`collection=` is served by that assistant's sibling for the collection (`in_collection`), built once
and sharing its models, and `documents=` / `languages=` scope a question (`Assistant.scope`).
"""
from __future__ import annotations

import dataclasses
import shutil
import threading
from contextlib import closing
from pathlib import Path
from typing import Callable, Iterable, Iterator

from store import VectorStore

from rag.answering import generate as answering
from rag.ingestion import pipeline as ingestion, uploads

from rag.retrieval import stages as retrieval
from rag.answering.checks import sentence_similarity
from rag.answering.excerpts import with_sentences
from rag.answering.followup import History, rewrite_followup
from rag.answering.prompts import DEFAULT as DEFAULT_PROMPTS, Prompts
from rag.backends.embeddings import make_embedder
from rag.errors import (
    DocumentNotFound, EmptyQuestion, InvalidInput, QuestionWithoutWords, RagError, UnreadableFile,
)
from rag.text.language import SUPPORTED, detect, name as language_name
from rag.text.tokenize import tokens
from rag.backends.llm import LLM, make_llm
from rag.present.messages import message
from rag.readiness import SAMPLES, Readiness, WarmUp
from rag.settings import Settings, get_settings
from rag.collection import SIDE_SUFFIXES, CollectionInfo, CollectionNotFound, check_name
from rag.collection import place as collection_place
from rag.ingestion.lock import ingestion_lock
from rag.stores import GuardedStore, collection_names, describe, drop_collection, open_collection, store_kind
from rag.types import Answer, Chunk, DocumentInfo, Event, Final, IngestReport, Passage, Sources


class Assistant:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        store: VectorStore | None = None,
        embedder=None,
        llm: LLM | None = None,
        prompts: Prompts | None = None,
        collection: str | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self.prompts = prompts or DEFAULT_PROMPTS  # what the model is asked, and how (rag.answering.prompts)
        # The collection this assistant reads and writes (None: RAG_COLLECTION), and where its files are.
        self.place = collection_place(self.settings, collection)
        self._store = GuardedStore(store) if store is not None else None
        self._embedder = embedder
        self._llm = llm
        self._keywords = None
        self._centering = None
        self._sentences = None
        self._keyword_sync = None
        self._init_lock = threading.RLock()
        self._warm = WarmUp()  # one per process: siblings use their root's, whose models they share
        # Assistants of the other collections, built on first use and sharing this one's models.
        self._root = self
        self._siblings: dict[str, Assistant] = {self.collection: self}

    @property
    def collection(self) -> str:
        return self.place.name

    # -- lazily built parts -------------------------------------------------------------------
    @property
    def store(self) -> VectorStore:
        with self._init_lock:
            if self._store is None:
                self._store = open_collection(self.settings, self.collection)
            return self._store

    @property
    def embedder(self):
        with self._init_lock:
            return self._embedder_unlocked()

    def _embedder_unlocked(self):
        if self._embedder is None and self._root is not self:
            self._embedder = self._root.embedder  # one model in memory, whichever the collection
        if self._embedder is None:
            self._embedder = make_embedder(self.settings.embed_backend, self.settings)
        return self._embedder

    @property
    def stages(self) -> tuple[str, ...]:
        return tuple(self.settings.retrieval.split(","))

    @property
    def keywords(self):
        """The keyword index beside the vector store (one file per collection), when enabled."""
        with self._init_lock:
            if self._keywords is None and "keyword" in self.stages and self.settings.shared_database:
                # In the shared database: every worker reads and writes the same rows.
                from rag.database.engine import database
                from rag.retrieval.keywords_pg import PostgresKeywordIndex

                self._keywords = PostgresKeywordIndex(database(self._own_settings), self.collection)
            elif self._keywords is None and "keyword" in self.stages:
                from rag.retrieval.keywords import KeywordIndex

                self._keywords = KeywordIndex(self.place.keywords(store_kind(self.settings)))
            return self._keywords

    @property
    def centering(self):
        with self._init_lock:
            if self._centering is None and "center" in self.stages and self._root is not self:
                self._centering = self._root.centering
            if self._centering is None and "center" in self.stages:
                from rag.retrieval.centering import LanguageCentering

                self._centering = LanguageCentering.for_embedder(self._embedder_unlocked())
            return self._centering

    @property
    def sentences(self) -> VectorStore | None:
        """Sentence vectors beside the chunk store (a second collection), when enabled."""
        with self._init_lock:
            if self._sentences is None and "sentence" in self.stages:
                self._sentences = open_collection(self.settings, f"{self.collection}_sentences")
            return self._sentences

    @property
    def keyword_sync(self):
        """The shared store's change token, and this worker's keyword-index resync (keyword_sync.py)."""
        keywords = self.keywords
        with self._init_lock:
            if self._keyword_sync is None:
                from rag.ingestion.keyword_sync import KeywordSync

                # A keyword index in the shared database needs no resync: the changes are announced
                # still, for workers that keep one of their own (the SQLite default).
                own = None if self.settings.shared_database else keywords
                self._keyword_sync = KeywordSync(self.store, open_collection(self.settings, f"{self.collection}_state"),
                                                 own)
            return self._keyword_sync

    @property
    def retriever(self) -> retrieval.Retriever:
        return retrieval.Retriever.from_settings(
            self.settings, store=self.store, embedder=self.embedder, keywords=self.keywords,
            centering=self.centering, sentences=self.sentences,
        )

    @property
    def llm(self) -> LLM:
        with self._init_lock:
            if self._llm is None:
                self._llm = self._root.llm if self._root is not self else make_llm(self.settings)
            return self._llm

    def describe_store(self) -> str:
        return describe(self.settings)

    # -- collections --------------------------------------------------------------------------
    def in_collection(self, name: str | None) -> Assistant:
        """The assistant of collection `name` (None: this one), built once and sharing this one's
        settings, embedder and LLM; CollectionNotFound when no such collection exists."""
        if name is None or name == self.collection:
            return self
        root = self._root
        with root._init_lock:
            found = root._siblings.get(name)
            if found is not None:
                return found
        if name != self.settings.collection:
            check_name(name)  # a malformed name is said so, not "not found"
        known = collection_names(self.settings)
        if name not in known:
            raise CollectionNotFound(name, known)
        with root._init_lock:
            if name not in root._siblings:
                sibling = Assistant(self.settings, prompts=self.prompts, collection=name)
                sibling._root, sibling._siblings = root, root._siblings
                root._siblings[name] = sibling
            return root._siblings[name]

    def collections(self) -> list[CollectionInfo]:
        """Every collection at the configured store, with its document and chunk counts."""
        out = []
        for name in collection_names(self.settings):
            with closing(open_collection(self.settings, name)) as store:
                out.append(CollectionInfo(name, len(store.documents()), store.count(),
                                          name == self.settings.collection))
        return out

    def create_collection(self, name: str) -> CollectionInfo:
        """A new, empty collection (InvalidInput if `name` breaks the rule or is taken)."""
        check_name(name)
        if name in collection_names(self.settings):
            raise InvalidInput(f"a collection named {name!r} already exists")
        for suffix in ("", *SIDE_SUFFIXES):
            with closing(open_collection(self.settings, f"{name}{suffix}")) as store:
                store.count()  # opening a collection creates it
        collection_place(self.settings, name).folder.mkdir(parents=True, exist_ok=True)
        return CollectionInfo(name, 0, 0, False)

    def delete_collection(self, name: str) -> bool:
        """Remove collection `name`: its index and side collections, and its folder (keyword index,
        uploads, kept texts, lock), nothing else; the default collection cannot be deleted. False when
        it did not exist. Waits for no ingestion: one running on it makes this IndexBusy."""
        if name == self.settings.collection:
            raise InvalidInput(f"{name!r} is the default collection (RAG_COLLECTION) and cannot be deleted; "
                               "delete its documents with `rag delete`")
        where = collection_place(self.settings, name)
        if name not in collection_names(self.settings):
            return False
        root = self._root
        own = self.settings.model_copy(update={"home": where.folder, "collection": name,
                                               "database_url": self.settings.database})
        with ingestion_lock(own):
            with root._init_lock:
                gone = root._siblings.pop(name, None)
            if gone is not None:
                gone.close()
            drop_collection(self.settings, name)
            uploads.forget_collection(own)  # its kept texts and uploaded originals in the database
            if self.settings.shared_database:  # and its keyword rows
                from rag.database.engine import database
                from rag.retrieval.keywords_pg import PostgresKeywordIndex

                PostgresKeywordIndex(database(own), name).reset()
            # Everything under its folder is this collection's, by construction (rag/collection.py).
            shutil.rmtree(where.folder)
        return True

    def close(self) -> None:
        """Release what this assistant opened (its stores' files, its keyword index), once a
        keyword resync under way has ended (it reads them)."""
        with self._init_lock:
            if self._keyword_sync is not None:
                self._keyword_sync.join()
            for part in (self._store, self._sentences, self._keywords):
                if part is not None and hasattr(part, "close"):
                    part.close()
            self._store = self._sentences = self._keywords = self._keyword_sync = None

    # -- operations ---------------------------------------------------------------------------
    def ingest(
        self,
        paths: Iterable[str | Path],
        prune: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> IngestReport:
        with self.keyword_sync.writing():
            return ingestion.ingest_paths(
                [Path(p) for p in paths],
                store=self.store,
                embedder=self.embedder,
                settings=self._own_settings,
                prune=prune,
                progress=progress,
                keywords=self.keywords,
                centering=self.centering,
                sentences=self.sentences,
            )

    @property
    def _own_settings(self) -> Settings:
        """The settings as this collection's own files see them, for the ingestion steps: its folder as
        the data directory (so its lock and kept texts are its own) and its name as the collection.
        The default collection's are the settings themselves."""
        if self.place.default:
            return self.settings
        # The database stays the library's one (by default in the top data directory).
        return self.settings.model_copy(update={"home": self.place.folder, "collection": self.collection,
                                                "database_url": self.settings.database})

    def scope(self, documents: Iterable[str] | None = None, languages: Iterable[str] | None = None
              ) -> list[str] | None:
        """The documents a question is limited to: those named (all if none) whose language is one of
        `languages` (all if none; `zh` covers `zh-Hans` and `zh-Hant`). None when nothing limits it.
        A name that is not indexed, or a scope that leaves no document, is InvalidInput naming it."""
        documents = list(dict.fromkeys(d for d in (documents or ()) if d))
        languages = list(dict.fromkeys(lang for lang in (languages or ()) if lang))
        # Bounded before the work below, which costs documents x languages.
        for what, given, limit, variable in (("documents", documents, self.settings.max_scope_documents,
                                              "RAG_MAX_SCOPE_DOCUMENTS"),
                                             ("languages", languages, self.settings.max_scope_languages,
                                              "RAG_MAX_SCOPE_LANGUAGES")):
            if len(given) > limit:
                raise InvalidInput(f"the scope names {len(given)} {what}; the limit is {limit} ({variable})")
        if not documents and not languages:
            return None
        indexed = {d.document: d.language for d in self.documents()}
        unknown = [d for d in documents if d not in indexed]
        if unknown:
            raise InvalidInput(f"no document named {', '.join(map(repr, unknown))} in the collection "
                               f"{self.collection!r} (`rag documents` lists them)")
        chosen = [d for d in (documents or indexed) if not languages or any(
            indexed[d] == lang or indexed[d].startswith(f"{lang}-") for lang in languages)]
        if not chosen:
            among = f" among {', '.join(map(repr, documents))}" if documents else ""
            raise InvalidInput(f"no document in {', '.join(map(repr, languages))}{among} in the collection "
                               f"{self.collection!r}; its documents are in "
                               f"{', '.join(sorted(set(indexed.values()))) or 'no language (it is empty)'}")
        return sorted(set(chosen))

    # -- warm before ready ----------------------------------------------------------------------
    def warm_up(self) -> Readiness:
        """Load and exercise, once, everything a first question would otherwise pay for: this
        collection's indexes, the language identifier, each language's tokenizer, the embedder, one
        search per language, the answer model (with its fixed prompt prefix evaluated, so llama.cpp's
        cache holds it) and one whole answer of a single token. Nothing is written but the keyword
        index's catch-up with the store, which the first question would do too; no conversation is
        touched. A question or search asked meanwhile waits for it; a second call waits for the
        first, a later one returns at once. Never raises: a step that fails is named in the result
        ("failed") and its part is then loaded on first use, as without a warm-up."""
        root = self._root
        return root._warm.run([
            ("index", self._warm_index),
            ("language", lambda: [detect(text) for text in SAMPLES.values()]),
            ("tokenizers", lambda: [tokens(text, lang) for lang, text in SAMPLES.items()]),
            ("embedder", lambda: [self.retriever.query_vector(text, lang) for lang, text in SAMPLES.items()]),
            ("search", lambda: [self.retriever.retrieve(text, self.settings.top_k, language=lang)
                                for lang, text in SAMPLES.items()]),
            ("model", self._warm_model),
            ("answer", self._warm_answer),
        ])

    def readiness(self) -> Readiness:
        """Where the warm-up stands ("cold" when none was asked for)."""
        return self._root._warm.state()

    def _warm_index(self) -> None:
        self.store.count()
        if self.sentences is not None:
            self.sentences.count()
        self.keyword_sync.check(wait=True)  # the first check of a process always syncs: done here

    def _warm_model(self) -> None:
        llm = self.llm
        if hasattr(llm, "warm_up"):
            llm.warm_up()  # loads the weights
        # The answer's fixed prefix (system prompt, worked examples) is the same for every question:
        # once evaluated, llama.cpp keeps it in its cache and a question pays only for its own turn.
        messages = answering.build_messages(SAMPLES["en"], "en", [], self.prompts)
        for _ in llm.stream(messages, max_tokens=1, temperature=0.0):
            pass

    def _warm_answer(self) -> None:
        # The whole path once (excerpts, the checks of the reply, the evidence of a refusal), with a
        # one-token answer asked even when the passages score under RAG_MIN_SCORE, from one sentence
        # (the prompt a question adds to the cached prefix is its own: a longer one here is time lost);
        # with an empty collection it stops at the refusal, which is all a first question would do too.
        once = self.settings.model_copy(update={"max_answer_tokens": 1, "min_score": -1.0, "context_k": 1,
                                                "context_sentences": 1})
        for _ in self._ask_stream(SAMPLES["en"], settings=once):
            pass

    def _await_warm_up(self) -> None:
        """A question asked while the warm-up runs waits for it rather than loading the same parts."""
        self._root._warm.wait()

    def search(self, query: str, k: int | None = None, *, documents: Iterable[str] | None = None,
               languages: Iterable[str] | None = None) -> list[Passage]:
        """The k passages closest to `query`, best first; with `documents` and/or `languages`, all k
        come from that scope (see `scope`)."""
        self._await_warm_up()
        query = _clean_question(query)
        k = self.settings.top_k if k is None else k
        if k < 1:
            raise InvalidInput(f"k must be at least 1, got {k}")
        query = query[: self.settings.max_question_chars]
        scope = self.scope(documents, languages)
        self.keyword_sync.check()
        return self.retriever.search(query, k, language=detect(query), documents=scope)

    def language_of(self, question: str) -> str:
        if self.settings.language:
            return self.settings.language
        lang = detect(question)
        return lang if lang in SUPPORTED else "en"

    def ask_stream(self, question: str, history: History | None = None, *, max_tokens: int | None = None,
                   temperature: float | None = None, documents: Iterable[str] | None = None,
                   languages: Iterable[str] | None = None) -> Iterator[Event]:
        """Yield `Sources`, then `Delta`s, then `Final(answer)`.

        With `history` ((question, answer) pairs, oldest first), the question is first rewritten
        into a standalone one (shown as `answer.standalone_question`) for retrieval and answering.
        `max_tokens` and `temperature` (a caller's own, e.g. the HTTP API's) apply to this answer
        only; `max_tokens` never goes above `RAG_MAX_ANSWER_TOKENS`. `documents` and `languages`
        limit the passages to that scope (see `scope`), inside retrieval. While a warm-up runs
        (`warm_up`), the question waits for it.
        """
        self._await_warm_up()
        yield from self._ask_stream(question, history, max_tokens=max_tokens, temperature=temperature,
                                    documents=documents, languages=languages)

    def _ask_stream(self, question: str, history: History | None = None, *, max_tokens: int | None = None,
                    temperature: float | None = None, documents: Iterable[str] | None = None,
                    languages: Iterable[str] | None = None, settings: Settings | None = None) -> Iterator[Event]:
        """`ask_stream` without waiting for a warm-up; `settings`: this answer's own (the warm-up's)."""
        question = _clean_question(question)
        scope = self.scope(documents, languages)
        notices: list[str] = []
        language = self.language_of(question)
        detected = detect(question)
        if not self.settings.language and detected not in SUPPORTED and detected != "und":
            # Answered, in English, and said so: a refusal would leave a reader of Arabic or Thai
            # with nothing, and the sources may well hold the answer (retrieval is cross-lingual).
            notices.append(message("unsupported_language", language, name=language_name(detected)))
        limit = self.settings.max_question_chars
        if len(question) > limit:
            question = question[:limit]
            notices.append(message("truncated", language, n=limit))
        try:
            turns = list(history or ())
            turns = turns[max(0, len(turns) - self.settings.history_turns):]  # the latest ones
            standalone = rewrite_followup(question, turns, self.llm, self.settings.history_tokens, self.prompts)
            rewrite_failed = None
        except RagError as e:
            # The backend is down: retrieve with the question as asked, show the sources, then say
            # so, rather than waiting for the same backend a second time in the answer step.
            standalone, rewrite_failed = None, e
        query = standalone or question
        s = settings or self.settings
        if max_tokens is not None or temperature is not None:
            s = s.model_copy(update={
                "max_answer_tokens": min(max_tokens or s.max_answer_tokens, s.max_answer_tokens),
                "temperature": s.temperature if temperature is None else temperature,
            })
        self.keyword_sync.check()
        retriever = self.retriever
        passages, qv = retriever.retrieve(query, s.top_k, language=detect(query), documents=scope)
        if rewrite_failed is not None:
            yield Sources(tuple(passages))
            raise rewrite_failed
        excerpts = None
        if s.context_sentences:
            shown = passages[: s.context_k]
            excerpts = with_sentences(shown, retriever.best_sentences(shown, qv, s.context_sentences))
        for event in answering.stream_answer(
            query, language, passages, llm=self.llm, settings=s, notices=notices, excerpts=excerpts,
            standalone=standalone,
            similarity=sentence_similarity(retriever) if retriever.sentences is not None else None,
            prompts=self.prompts, evidence=s.refusal_evidence, source_language=s.source_language,
        ):
            if isinstance(event, Final) and standalone:
                # The model answered the standalone form; the answer belongs to what the user asked.
                event = Final(dataclasses.replace(event.answer, question=question))
            yield event

    def ask(self, question: str, history: History | None = None, *, max_tokens: int | None = None,
            temperature: float | None = None, documents: Iterable[str] | None = None,
            languages: Iterable[str] | None = None) -> Answer:
        for event in self.ask_stream(question, history, max_tokens=max_tokens, temperature=temperature,
                                     documents=documents, languages=languages):
            if isinstance(event, Final):
                return event.answer
        raise AssertionError("ask_stream ended without a final answer")  # pragma: no cover

    def documents(self) -> list[DocumentInfo]:
        out = []
        for doc, metas in sorted(self.store.documents().items()):
            first = metas[0] if metas else {}
            out.append(
                DocumentInfo(
                    document=doc,
                    language=str(first.get("doc_language", first.get("language", "und"))),
                    chunks=len(metas),
                    sha256=str(first.get("sha256", "")),
                    ingested_at=str(first.get("ingested_at", "")),
                )
            )
        return out

    def document(self, name: str) -> tuple[Chunk, ...]:
        """The stored text of one ingested document, as its chunks in reading order.

        Served from the index by name only, never from the file system, so no name can reach a
        file that was not ingested. Text removed by cleaning (spam, page furniture) is not there.
        """
        hits = self.store.get_document(name) if isinstance(name, str) and name else []
        if not hits:
            raise DocumentNotFound(str(name))
        chunks = [
            Chunk(name, str(h.metadata.get("language", "und")), h.text,
                  int(h.metadata.get("start", 0)), int(h.metadata.get("end", 0)), int(h.metadata.get("index", 0)))
            for h in hits
        ]
        return tuple(sorted(chunks, key=lambda c: (c.start, c.index)))

    def document_text(self, name: str) -> str:
        """The exact text that every `start`/`end` of this document's passages and citations index
        into: `document_text(p.document)[p.start:p.end] == p.text`. For HTML, PDF, office files and
        EPUB it is the text extracted at ingestion, kept in the data directory (the file may move)."""
        from rag.ingestion.load import read_text
        from rag.ingestion.texts import text_store

        hits = self.store.get_document(name) if isinstance(name, str) and name else []
        if not hits:
            raise DocumentNotFound(str(name))
        meta = hits[0].metadata
        sha, path = str(meta.get("sha256", "")), str(meta.get("path", ""))
        texts = text_store(self._own_settings)  # this collection's, where its ingestion put them
        text = texts.get(sha)
        if text is None and path:
            # Indexed before texts were kept: the file itself serves while it holds the same bytes.
            try:
                source = read_text(Path(path))
            except RagError:
                source = None
            if source is not None and source.sha256 == sha:
                text = source.text
                texts.put(sha, text)
        if text is None:
            raise UnreadableFile(name, "its text was not kept at ingestion and its file has changed or moved; "
                                       "ingest it again")
        return text

    def delete(self, name: str) -> bool:
        """Remove a document from the index (and its uploaded copy); False when it was not there."""
        with self.keyword_sync.writing():
            removed = ingestion.delete_document(
                name, store=self.store, settings=self._own_settings, keywords=self.keywords, sentences=self.sentences
            )
        upload = self.place.uploads / name
        if removed and upload.parent.resolve() == self.place.uploads.resolve() and upload.is_file():
            upload.unlink()
        if removed:
            uploads.drop_original(self._own_settings, name)
        return removed

    def add_file(self, path: str | Path, name: str | None = None) -> IngestReport:
        """Add one file to the library (the web page's upload): it is copied into the data directory,
        so it outlives the upload, and ingested like `rag ingest` would.

        A file whose name is already taken by a different document is refused rather than replacing
        it, so an upload never loses what is stored; the same content again is reported unchanged.
        """
        src = Path(path)
        name = name or src.name
        uploads.check_name(name)
        # Checked, copied and ingested under one hold of the lock: two uploads of one new name cannot
        # both pass the check and then write over each other's copy.
        with ingestion_lock(self._own_settings, nested=True):
            uploads.check_upload(src, name, self.settings, {d.document: d.sha256 for d in self.documents()})
            dest, fresh = uploads.keep_copy(src, self.place.uploads, name)
            new = uploads.keep_original(self._own_settings, name, dest.read_bytes())
            report = self.ingest([dest])
            if report.skipped:
                if fresh:
                    dest.unlink(missing_ok=True)
                if new:
                    uploads.drop_original(self._own_settings, name)
                raise UnreadableFile(name, report.skipped[0][1])
        # The report names the upload as its sender named it, not where its copy is kept.
        return dataclasses.replace(report, duplicates=tuple((name, doc) for _, doc in report.duplicates))

    def original(self, name: str) -> bytes:
        """The bytes of uploaded document `name`, from the database (so on any worker that shares it);
        DocumentNotFound when no upload of that name is kept (documents ingested from a folder)."""
        data = uploads.original(self._own_settings, name) if isinstance(name, str) and name else None
        if data is None:
            raise DocumentNotFound(str(name))
        return data

    def reingest(self, name: str) -> IngestReport:
        """Ingest uploaded document `name` again from its original in the database (after a change of
        model or settings, or on a worker that did not take the upload): its copy in this worker's
        uploads folder is written from the database first."""
        data = self.original(name)
        uploads.check_name(name)
        with ingestion_lock(self._own_settings, nested=True):
            self.place.uploads.mkdir(parents=True, exist_ok=True)
            dest = self.place.uploads / name
            dest.write_bytes(data)
            return self.ingest([dest])

    def translate(self, text: str, language: str) -> str:
        """A machine translation of `text` into `language`, by the configured LLM (a reading aid)."""
        from rag.answering.translate import translate

        if language not in SUPPORTED:
            raise InvalidInput(f"cannot translate into {language!r}; choose one of {', '.join(SUPPORTED)}")
        if not text or not text.strip():
            raise InvalidInput("nothing to translate")
        return translate(text[:4000], language, self.llm, max_tokens=4 * self.settings.max_answer_tokens,
                         prompts=self.prompts)


def _clean_question(question: str) -> str:
    if question is None or not str(question).strip():
        raise EmptyQuestion()
    if not any(ch.isalnum() for ch in str(question)):
        raise QuestionWithoutWords()  # "🔥🤔", "???": nothing to search for or to answer
    return " ".join(str(question).split())


_default: Assistant | None = None
_default_lock = threading.Lock()


def get_assistant(collection: str | None = None) -> Assistant:
    """The process's assistant for `collection` (None: RAG_COLLECTION), built on first call."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Assistant()
    return _default.in_collection(collection)


Names = Iterable[str] | None


def ask(question: str, history: History | None = None, *, collection: str | None = None,
        documents: Names = None, languages: Names = None) -> Answer:
    """Answer `question` from `collection`; `documents` / `languages` limit the passages to them."""
    return get_assistant(collection).ask(question, history, documents=documents, languages=languages)


def ask_stream(question: str, history: History | None = None, *, collection: str | None = None,
               documents: Names = None, languages: Names = None) -> Iterator[Event]:
    return get_assistant(collection).ask_stream(question, history, documents=documents, languages=languages)


def search(query: str, k: int | None = None, *, collection: str | None = None, documents: Names = None,
           languages: Names = None) -> list[Passage]:
    return get_assistant(collection).search(query, k, documents=documents, languages=languages)


def ingest(paths: Iterable[str | Path], prune: bool = False, *, collection: str | None = None) -> IngestReport:
    return get_assistant(collection).ingest(paths, prune=prune)


def documents(*, collection: str | None = None) -> list[DocumentInfo]:
    return get_assistant(collection).documents()


def delete(name: str, *, collection: str | None = None) -> bool:
    return get_assistant(collection).delete(name)


def warm_up(*, collection: str | None = None) -> Readiness:
    """Load what the first question in `collection` needs, before it comes (`Assistant.warm_up`)."""
    return get_assistant(collection).warm_up()


def collections() -> list[CollectionInfo]:
    return get_assistant().collections()


def create_collection(name: str) -> CollectionInfo:
    return get_assistant().create_collection(name)


def delete_collection(name: str) -> bool:
    return get_assistant().delete_collection(name)


def document_text(name: str) -> str:
    return get_assistant().document_text(name)
