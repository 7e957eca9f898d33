"""rag.integrations.llama_index: our retrieval and answers composed with llama-index's own classes."""
from __future__ import annotations

import asyncio

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.llms import MockLLM
from llama_index.core.postprocessor import SimilarityPostprocessor
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import NodeWithScore

from rag.integrations.llama_index import RagQueryEngine, RagRetriever, as_llama_index_embedding

QUESTION = "How many suspects did Cambodia arrest?"


def _text(assistant, name: str) -> dict[tuple[int, int], str]:
    return {(c.start, c.end): c.text for c in assistant.document(name)}


def test_retriever_returns_our_passages_as_nodes(lib):
    retriever = RagRetriever(lib, k=4)
    assert isinstance(retriever, BaseRetriever)
    nodes = retriever.retrieve(QUESTION)
    passages = lib.search(QUESTION, 4)
    assert len(nodes) == 4 and all(isinstance(n, NodeWithScore) for n in nodes)
    for node, p in zip(nodes, passages):  # the same pipeline, the same order
        meta = node.node.metadata
        assert node.node.get_content() == p.text and node.score == p.score
        assert meta == {"document": p.document, "start": p.start, "end": p.end, "language": p.language,
                        "score": round(p.score, 4)}
        assert _text(lib, p.document)[(p.start, p.end)] == node.node.get_content()


def test_retriever_inside_llama_index_query_engine_with_mock_llm(lib):
    engine = RetrieverQueryEngine.from_args(
        RagRetriever(lib, k=3), llm=MockLLM(), node_postprocessors=[SimilarityPostprocessor(similarity_cutoff=-1.0)])
    response = engine.query(QUESTION)
    assert [n.node.metadata["document"] for n in response.source_nodes] == [p.document for p in lib.search(QUESTION, 3)]
    # llama-index's prompt got our passages, without the offsets meant for programs
    prompt = str(response)
    assert response.source_nodes[0].node.get_content()[:40] in prompt and "start:" not in prompt


def test_retriever_uses_the_default_assistant(monkeypatch, seeds_copy):
    from rag import ingest

    ingest([seeds_copy])
    assert len(RagRetriever(k=2).retrieve(QUESTION)) == 2


def test_query_engine_answers_with_checked_citations(make):
    assistant, llm = make()  # the scripted model quotes source [1]
    expected = make()[0].ask(QUESTION)
    response = RagQueryEngine(assistant).query(QUESTION)
    assert response.response == expected.text and "[1]" in response.response
    assert response.metadata["refused"] is False
    assert response.metadata["citations"] == [c.to_dict() for c in expected.citations]
    assert [n.node.metadata["n"] for n in response.source_nodes] == sorted({c.n for c in expected.citations})
    for node in response.source_nodes:
        meta = node.node.metadata
        full = {(c.start, c.end): c.text for c in assistant.document(meta["document"])}
        assert full[(meta["start"], meta["end"])] == node.node.get_content()
        cited = [c for c in expected.citations if c.n == meta["n"]]
        assert meta["spans"] == [[c.start, c.end] for c in cited]
        assert all(node.node.get_content()[a - meta["start"]:b - meta["start"]] == c.text
                   for (a, b), c in zip(meta["spans"], cited))
    assert len(llm.prompts) == 1  # one model call: the pipeline's own


def test_query_engine_refusal_has_no_sources(make):
    assistant, _ = make(["NO_ANSWER"], refusal_evidence=False)
    response = RagQueryEngine(assistant).query("What is the capital of Mars?")
    assert response.metadata["refused"] is True and response.source_nodes == []


def test_query_engine_refusal_with_evidence_has_the_quoted_passage_as_its_source(make):
    assistant, _ = make(["NO_ANSWER", "NO_ANSWER"])  # RAG_REFUSAL_EVIDENCE is on by default
    response = RagQueryEngine(assistant).query("What is the capital of Mars?")
    expected = assistant.ask("What is the capital of Mars?")
    assert response.metadata["refused"] is True and expected.refused and expected.citations
    assert [n.node.metadata["document"] for n in response.source_nodes] == [c.document for c in expected.citations]


def test_query_engine_async(make):
    assistant, _ = make()
    response = asyncio.run(RagQueryEngine(assistant).aquery(QUESTION))
    assert "[1]" in response.response and len(response.source_nodes) == 1


def test_our_embedder_inside_a_llama_index_index(lib):
    from llama_index.core import Document, VectorStoreIndex
    from llama_index.core.embeddings import BaseEmbedding

    embedding = as_llama_index_embedding(lib.embedder)
    assert isinstance(embedding, BaseEmbedding) and embedding.model_name == lib.embedder.model_name
    assert embedding.get_query_embedding(QUESTION) == lib.embedder.get_query_embedding(QUESTION)
    assert as_llama_index_embedding("fake").get_text_embedding("a b") == lib.embedder.get_text_embedding("a b")
    texts = ["Cambodia arrested more than 2,000 suspects.", "Le Myanmar a remis 5 500 suspects.", "Lào bắt 600."]
    index = VectorStoreIndex.from_documents([Document(text=t) for t in texts], embed_model=embedding)
    [hit] = index.as_retriever(similarity_top_k=1).retrieve(QUESTION)
    assert hit.node.get_content() == texts[0]
