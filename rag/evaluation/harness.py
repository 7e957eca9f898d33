"""Throw-away indexes for the evaluations, each in a data directory of its own, removed afterwards.

Two ways to fill one, for the two things measured:
- retrieval (`rag eval`): `EvalIndexes` opens the chunk store and the side indexes a set of stages
  needs; benchmark passages go in as they are (`index_passages`: a hit's id is the passage id),
  documents through the real ingestion (`index_documents`: cleaning, chunking);
- answers (`rag eval --answers`): `build_index` makes a whole `Assistant` and ingests the dataset
  through it, benchmark passages written as one file each (`<passage id>.txt`), so citations name them.
Passage embeddings go through the content-hash cache, so a second index or a second run embeds
nothing new.
"""
from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

from store import ChromaStore, Record, VectorStore

from rag.api import Assistant
from rag.backends.embed_cache import CachedEmbedder, EmbeddingCache, embed_texts
from rag.evaluation.datasets import Dataset
from rag.ingestion.pipeline import ingest_paths
from rag.ingestion.repair import add_sentences
from rag.retrieval.centering import LanguageCentering
from rag.retrieval.keywords import KeywordIndex, KeywordItem
from rag.settings import Settings
from rag.text.language import detect
from rag.types import IngestReport

Progress = Callable[[int, int], None]
Note = Callable[[str], None]


@contextmanager
def workspace(prefix: str = "rag-eval-") -> Iterator[Path]:
    """A fresh temporary directory, removed with everything in it when the block ends."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


@dataclass
class EvalIndexes:
    """The chunk store and the side indexes that `stages` need, under `home`."""

    store: VectorStore
    keywords: KeywordIndex | None = None
    sentences: VectorStore | None = None
    centering: LanguageCentering | None = None

    @classmethod
    def open(cls, home: Path, stages: Sequence[str], embedder, cache: EmbeddingCache | None = None) -> EvalIndexes:
        return cls(
            store=ChromaStore(path=home / "chroma", collection="eval"),
            keywords=KeywordIndex(home / "keywords.sqlite") if "keyword" in stages else None,
            sentences=ChromaStore(path=home / "chroma", collection="eval_sentences") if "sentence" in stages else None,
            centering=LanguageCentering.for_embedder(embedder, cache) if "center" in stages else None,
        )

    def close(self) -> None:
        close_parts(self.store, self.sentences, self.keywords)


def close_parts(*parts) -> None:
    """Close the stores and indexes given; None stands for a stage that is off."""
    for part in parts:
        if part is not None:
            part.close()


def index_passages(ds: Dataset, ix: EvalIndexes, embedder, cache: EmbeddingCache | None = None,
                   progress: Progress | None = None) -> None:
    """A benchmark's passages as they are, one chunk each, under their own ids."""
    texts = [p["text"] for p in ds.passages]
    langs = [p["lang"] if p["lang"] != "zh" else detect(p["text"]) for p in ds.passages]
    vectors = embed_texts(embedder, texts, "passage", cache=cache, progress=progress)
    if ix.centering is not None:
        vectors = ix.centering.apply_many(vectors, langs)
    ix.store.add([
        Record(p["id"], p["id"], p["text"], v.tolist(), {"language": lang, "start": 0, "end": len(p["text"])})
        for p, v, lang in zip(ds.passages, vectors, langs)
    ])
    if ix.keywords is not None:
        ix.keywords.add([KeywordItem(p["id"], p["id"], p["text"], lang) for p, lang in zip(ds.passages, langs)])
    if ix.sentences is not None:
        cached = CachedEmbedder(embedder, cache)
        for p, lang in zip(ds.passages, langs):
            add_sentences(ix.sentences, p["text"], [(p["id"], p["id"], 0, len(p["text"]), lang)], cached,
                          ix.centering, "")


def index_documents(folder: Path, ix: EvalIndexes, settings: Settings, home: Path, embedder,
                    cache: EmbeddingCache | None = None, progress: Progress | None = None) -> IngestReport:
    """A folder of documents through the real ingestion, with `home` as its data directory."""
    return ingest_paths([folder], store=ix.store, embedder=CachedEmbedder(embedder, cache),
                        settings=settings.model_copy(update={"home": home}), keywords=ix.keywords,
                        centering=ix.centering, sentences=ix.sentences, progress=progress)


def write_passages(ds: Dataset, folder: Path, without: frozenset[str] = frozenset()) -> int:
    """Write each benchmark passage to `folder` as `<id>.txt`, but those named in `without`; how many."""
    folder.mkdir(parents=True)
    kept = [p for p in ds.passages if f"{p['id']}.txt" not in without]
    for p in kept:
        (folder / f"{p['id']}.txt").write_text(p["text"], encoding="utf-8")
    return len(kept)


def build_index(ds: Dataset, settings: Settings, home: Path, embedder, llm=None,
                without: frozenset[str] = frozenset(), progress: Callable[[str, int, int], None] | None = None,
                note: Note | None = None) -> Assistant:
    """A fresh Assistant over its own data directory `home`, with `ds` ingested (benchmark passages
    named in `without` left out), sharing the given embedder and LLM. Close it with `close_assistant`."""
    say = note or (lambda _m: None)
    a = Assistant(settings.model_copy(update={"home": home, "chroma_url": None}), embedder=embedder, llm=llm)
    if ds.kind == "benchmark":
        # The passages are not files: one file per passage, so a citation's document is "<id>.txt".
        # Beside the data directory, not in it: ingestion never walks its own data directory.
        sources = home.parent / f"{home.name}-passages"
        kept = write_passages(ds, sources, without)
        say(f"indexing {kept} passages into a throw-away index ({home})" + (
            "; embeddings come from the cache" if without else
            "; the first run embeds them (about a minute for the benchmark's 383), later ones use the cache"))
    else:
        sources = ds.documents
        say(f"indexing {sources} into a throw-away index ({home})")
    report = a.ingest([sources], progress=(lambda d, t: progress("indexing", d, t)) if progress else None)
    for path, reason in report.skipped:
        say(f"skipped {path}: {reason}")
    return a


def close_assistant(a: Assistant) -> None:
    """Close the stores and indexes an Assistant from `build_index` opened."""
    close_parts(a.store, a.sentences, a.keywords)
