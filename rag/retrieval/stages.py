"""Retrieval: one pipeline with named stages, chosen by `RAG_RETRIEVAL` (comma-separated).

- `dense`: the question's embedding against the chunk vectors (cosine). Always on.
- `center`: language centering (`centering.py`): stored vectors and the question's are centred on
  their language's reference mean, so a question is not pulled towards its own language. Stores
  are built to match (ingestion reads the same setting).
- `sentence`: every chunk's sentences are embedded too (a second collection); a chunk's score
  takes in its best sentence, because one sentence holds the answer and a whole chunk dilutes it.
- `keyword`: multilingual BM25 (`keywords.py`), added with a small weight: it sharpens
  same-language matches without crowding out passages in other languages.
- `anchor`: the countries and dates the question names (`anchors.py`), read alike in every
  language; a candidate holding them ranks higher (rarer anchors weigh more), its score unchanged.

The final score is a weighted sum (weights in settings, chosen on the xquad-piaf benchmark, see
docs/retrieval.md): `w_chunk * chunk cosine + w_sentence * best sentence cosine + w_keyword * BM25
/ best BM25`; candidates are ranked by that plus `w_anchor * anchor bonus`. Every candidate gets
all its terms: a chunk found only by keywords or sentences has its cosine read from the store.
`ask`, `search` and `rag eval` all go through `Retriever.search`, on a retriever built by
`Retriever.from_settings`.

A scope (`documents`: the names a question is limited to) is applied inside every index's search,
the chunk and sentence vectors' `where` filter and the keyword index's, so the k passages all come
from it rather than from what is left of an unscoped top k.
"""
from __future__ import annotations

import json

from dataclasses import dataclass
from typing import TYPE_CHECKING, Collection, Sequence

from store import Hit, VectorStore

from rag.ingestion.write import chunk_of, sentence_ids
from rag.text import anchors
from rag.errors import ConfigError
from rag.types import Passage

if TYPE_CHECKING:
    from rag.settings import Settings

STAGES = ("dense", "center", "sentence", "keyword", "anchor")


def parse_stages(value: str) -> tuple[str, ...]:
    stages = tuple(s.strip() for s in value.split(",") if s.strip())
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        raise ConfigError(f"unknown retrieval stage(s) {', '.join(map(repr, unknown))}; known: {', '.join(STAGES)}")
    if "dense" not in stages:
        raise ConfigError("retrieval stages must include 'dense'")
    return stages


def to_passage(hit: Hit, score: float | None = None) -> Passage:
    m = hit.metadata
    return Passage(
        id=hit.id,
        document=hit.document,
        language=str(m.get("language", "und")),
        text=hit.text,
        start=int(m.get("start", 0)),
        end=int(m.get("end", 0)),
        score=float(hit.score if score is None else score),
        page=int(m["page"]) if m.get("page") is not None else None,
        location=str(m["location"]) if m.get("location") else None,
        places=_places(m.get("places")),
    )


def _places(value) -> tuple[tuple[int, int, int | None, str | None], ...]:
    """The "places" metadata (see rag.ingestion.write.where) as tuples; () when absent or malformed."""
    if not value:
        return ()
    try:
        return tuple((int(s), int(e), None if p is None else int(p), None if label is None else str(label))
                     for s, e, p, label in json.loads(value))
    except (ValueError, TypeError):
        return ()


@dataclass(frozen=True)
class Weights:
    chunk: float = 0.25
    sentence: float = 0.75
    keyword: float = 0.03
    anchor: float = 0.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Weights:
        """RAG_WEIGHT_*: the chunk's weight is what the sentence's leaves of 1."""
        return cls(1.0 - settings.weight_sentence, settings.weight_sentence, settings.weight_keyword,
                   settings.weight_anchor)


@dataclass
class Retriever:
    store: VectorStore
    embedder: object
    stages: tuple[str, ...] = ("dense",)
    keywords: object | None = None  # KeywordIndex, for the "keyword" stage
    centering: object | None = None  # LanguageCentering, for the "center" stage
    sentences: VectorStore | None = None  # sentence vectors, for the "sentence" stage
    candidates: int = 30
    weights: Weights = Weights()

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        store: VectorStore,
        embedder,
        keywords=None,
        centering=None,
        sentences: VectorStore | None = None,
        stages: Sequence[str] | None = None,
    ) -> Retriever:
        """The retriever `settings` describe (RAG_RETRIEVAL, RAG_CANDIDATES, RAG_WEIGHT_*) over these
        parts; `stages` replaces RAG_RETRIEVAL's (`rag eval --stages`). The side indexes a stage
        needs are the caller's to open: a stage whose index is None is skipped."""
        return cls(
            store=store,
            embedder=embedder,
            stages=parse_stages(",".join(stages) if stages is not None else settings.retrieval),
            keywords=keywords,
            centering=centering,
            sentences=sentences,
            candidates=settings.candidates,
            weights=Weights.from_settings(settings),
        )

    def query_vector(self, query: str, language: str, vector: Sequence[float] | None = None) -> list[float]:
        v = vector if vector is not None else self.embedder.get_query_embedding(query)
        if "center" in self.stages and self.centering is not None:
            v = self.centering.apply(v, language, "query")
        return list(v)

    def search(
        self, query: str, k: int, language: str = "und", vector: Sequence[float] | None = None,
        documents: Collection[str] | None = None,
    ) -> list[Passage]:
        """Top-k passages, best first. `vector` lets a caller pass a precomputed (raw) query embedding;
        `documents` limits every passage to those documents."""
        return self.retrieve(query, k, language, vector, documents)[0]

    def retrieve(
        self, query: str, k: int, language: str = "und", vector: Sequence[float] | None = None,
        documents: Collection[str] | None = None,
    ) -> tuple[list[Passage], list[float]]:
        """`search`, also returning the (centred) query vector for `best_sentences`."""
        qv = self.query_vector(query, language, vector)
        scope = None if documents is None else sorted(set(documents))
        return self._rank(query, k, language, qv, scope), qv

    def best_sentences(self, passages: Sequence[Passage], qv: Sequence[float], per_passage: int = 2
                       ) -> dict[str, list[Hit]]:
        """For each passage, its `per_passage` sentences closest to the query, in document order.

        Uses the stored sentence vectors; empty when the sentence stage is off.
        """
        if self.sentences is None or "sentence" not in self.stages or not passages:
            return {}
        # By id (a chunk's sentences have MAX_SENTENCES possible ids), not by reading each document's
        # sentences: the cost is the passages', whatever the size of their documents or the corpus.
        ids = [i for p in dict.fromkeys(p.id for p in passages) for i in sentence_ids(p)]
        by_chunk: dict[str, list[Hit]] = {}
        for h in self.sentences.get(ids, embedding=qv):
            by_chunk.setdefault(str(h.metadata["chunk_id"]), []).append(h)
        return {
            cid: sorted(sorted(hits, key=lambda h: -h.score)[:per_passage], key=lambda h: int(h.metadata["start"]))
            for cid, hits in by_chunk.items()
        }

    def _rank(self, query: str, k: int, language: str, qv: list[float], scope: list[str] | None = None
              ) -> list[Passage]:
        use_sentences = "sentence" in self.stages and self.sentences is not None
        use_keywords = "keyword" in self.stages and self.keywords is not None
        use_anchors = "anchor" in self.stages and self.weights.anchor > 0
        where = None if scope is None else {"document": scope}
        if not use_sentences and not use_keywords and not use_anchors:
            return [to_passage(h) for h in self.store.query(qv, k, where=where)]

        n = max(k, self.candidates)
        # Texts are read for the k kept, at the end; for every candidate only when the question
        # has anchors (read in each candidate's text). Reading a record's text and metadata costs
        # more than finding it.
        asked = anchors.of_question(query) if use_anchors else frozenset()
        chunk_hits = {h.id: h for h in self.store.query(qv, n, where=where)} if asked else {}
        cosine = {i: h.score for i, h in chunk_hits.items()} if asked else dict(self.store.nearest(qv, n, where=where))
        sentence_best: dict[str, float] = {}
        sentence_floor = 0.0
        if use_sentences:
            # Ids and scores only: the sentences' texts and metadata are never needed here, and
            # reading them was most of the stage's time.
            found = self.sentences.nearest(qv, n * 4, where=where)
            for sid, score in found:
                cid = chunk_of(sid)
                sentence_best[cid] = max(sentence_best.get(cid, -1.0), score)
            # A chunk none of whose sentences made the list scores at most the last one listed.
            sentence_floor = found[-1][1] if found else 0.0
        keyword: dict[str, float] = {}
        if use_keywords:
            found_kw = self.keywords.search(query, n, language, documents=scope)
            top = found_kw[0][1] if found_kw and found_kw[0][1] > 0 else 1.0
            keyword = {i: s / top for i, s in found_kw}

        ids = list(dict.fromkeys([*cosine, *sentence_best, *keyword]))
        missing = [i for i in ids if i not in cosine]
        if asked:
            chunk_hits.update({h.id: h for h in self.store.get(missing, embedding=qv)})
            cosine.update({i: h.score for i, h in chunk_hits.items()})
        else:
            cosine.update(self.store.scores(missing, qv))
        w = self.weights
        bonus = anchors.bonuses(asked, {i: h.text for i, h in chunk_hits.items()}) if asked else {}
        scored = []
        for i in ids:
            if i not in cosine:  # listed by a side index but no longer in the store
                continue
            if use_sentences:
                s = w.chunk * cosine[i] + w.sentence * sentence_best.get(i, sentence_floor)
            else:
                s = cosine[i]
            s += w.keyword * keyword.get(i, 0.0)
            # Anchors reorder candidates but leave their score, which `min_score` reads: a question
            # naming a country is not more answerable because some passage names it too.
            rank = s + w.anchor * bonus.get(i, 0.0)
            scored.append((rank, s, i))
        scored.sort(key=lambda t: (-t[0], t[2]))
        kept = scored[:k]
        chunk_hits.update({h.id: h for h in self.store.get([i for _r, _s, i in kept if i not in chunk_hits])})
        return [to_passage(chunk_hits[i], s) for _r, s, i in kept if i in chunk_hits]
