"""Hybrid retrieval over a real Chroma collection and BM25 index, with a fake embedder."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.config import IngestConfig
from ingest.errors import StoreError
from ingest.keyword_index import KeywordIndex
from ingest.pipeline import Ingestor
from ingest.state import IngestState
from ingest.store import ChunkStore
from ingest.types import SourceText
from retriever.config import RetrieverConfig
from retriever.search import Retriever
from retriever.types import SearchFilter
from tests.fakes import FakeEmbeddings

RECORDS = [
    SourceText("/docs/pumps/zephyr.md", "The Zephyr pump warranty lasts seven years.", "Zephyr"),
    SourceText("/docs/pumps/boreas.md", "Boreas pumps move water quickly and quietly.", "Boreas"),
    SourceText("/docs/net/router.pdf", "Hold the red button to reset the router.", "Router"),
    SourceText("/docs/net/switch.md", "The switch error code XK-42 means a loose cable.", "Switch"),
    SourceText("/docs/garden/orchid.html", "Water orchids weekly with rainwater.", "Orchids"),
]


class BlindEmbeddings(FakeEmbeddings):
    """Dense search that cannot see rare codes: tokens with digits are dropped."""

    def _vector(self, text):
        return super()._vector(" ".join(w for w in text.split() if not any(c.isdigit() for c in w)))


@pytest.fixture
def index(tmp_path, index_config, collection_name):
    """The records indexed embedded and on a real Chroma server (every test runs on both)."""
    embedder = BlindEmbeddings()
    store = ChunkStore(tmp_path / "chroma", collection_name, index=index_config)
    keywords = KeywordIndex(tmp_path / "bm25" / "t")
    state = IngestState(tmp_path / "state.sqlite", collection_name)
    Ingestor(store, keywords, state, embedder, IngestConfig()).ingest_texts(RECORDS)
    return store, keywords, embedder, state


def make(index, **config) -> Retriever:
    store, keywords, embedder, _ = index
    return Retriever(store, keywords, embedder, RetrieverConfig(**config))


def sources(hits) -> list[str]:
    return [h.document.metadata["source"] for h in hits]


def test_bm25_finds_the_exact_code_that_dense_search_misses_and_hybrid_keeps_it(index):
    query = "what does XK-42 mean"
    assert sources(make(index, mode="bm25").retrieve(query, k=1)) == ["/docs/net/switch.md"]
    assert "/docs/net/switch.md" not in sources(make(index, mode="dense").retrieve(query, k=1))
    assert "/docs/net/switch.md" in sources(make(index, mode="hybrid").retrieve(query, k=2))


def test_hybrid_returns_k_unique_chunks_with_descending_scores(index):
    hits = make(index).retrieve("pump warranty water", k=3)
    assert len(hits) == 3 and len({h.chunk_id for h in hits}) == 3
    assert hits[0].document.metadata["source"] == "/docs/pumps/zephyr.md"
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_filters_by_file_folder_and_type_in_every_mode(index, mode):
    r = make(index, mode=mode)
    q = "pump water router orchid"
    assert set(sources(r.retrieve(q, k=5, filters=SearchFilter(folders=("/docs/pumps",))))) == {
        "/docs/pumps/zephyr.md", "/docs/pumps/boreas.md"}
    assert sources(r.retrieve(q, k=5, filters=SearchFilter(file_types=("pdf",)))) == [
        "/docs/net/router.pdf"]
    both = SearchFilter(folders=("/docs/net",), file_types=("md",))
    assert sources(r.retrieve("switch cable router", k=5, filters=both)) == ["/docs/net/switch.md"]
    only = SearchFilter(files=("/docs/garden/orchid.html",))
    assert sources(r.retrieve(q, k=5, filters=only)) == ["/docs/garden/orchid.html"]
    assert r.retrieve(q, k=5, filters=SearchFilter(folders=("/elsewhere",))) == []


def test_a_folder_filter_does_not_match_a_sibling_with_the_same_prefix(index):
    r = make(index)
    assert r.retrieve("pump", filters=SearchFilter(folders=("/docs/pum",))) == []


class ReverseReranker:
    """Prefers the candidate ranked last, to show the reranker decides the final order."""

    def __init__(self):
        self.seen = []

    def scores(self, query, passages):
        self.seen.append(list(passages))
        return [float(i) for i in range(len(passages))]


def test_reranker_rescores_the_fused_candidates(index):
    store, keywords, embedder, state = index
    reranker = ReverseReranker()
    r = Retriever(store, keywords, embedder,
                  RetrieverConfig(rerank_candidates=3, rerank_weight=1.0), reranker=reranker)
    plain = make(index).retrieve("pump warranty water", k=3)
    reranked = r.retrieve("pump warranty water", k=3)
    assert len(reranker.seen[0]) == 3
    assert [h.chunk_id for h in reranked] == [h.chunk_id for h in reversed(plain)]


class FlatReranker(ReverseReranker):
    def scores(self, query, passages):
        self.seen.append(list(passages))
        return [1.0] * len(passages)


def test_reranking_blends_with_the_fused_order_and_keeps_the_rest_after_it(index):
    """A reranker with no opinion leaves the fused order; candidates past the reranked
    ones follow them, so a long result list keeps its recall."""
    store, keywords, embedder, state = index
    r = Retriever(store, keywords, embedder, RetrieverConfig(rerank_candidates=2),
                  reranker=FlatReranker())
    plain = make(index).retrieve("pump warranty water", k=4)
    blended = r.retrieve("pump warranty water", k=4)
    assert [h.chunk_id for h in blended] == [h.chunk_id for h in plain]


def test_mmr_prefers_diverse_chunks(tmp_path):
    embedder = FakeEmbeddings()
    store = ChunkStore(tmp_path / "chroma", "mmr")
    keywords = KeywordIndex(tmp_path / "bm25")
    records = [SourceText(f"/d/{i}", text) for i, text in enumerate([
        "pump warranty seven years", "pump warranty seven years again",
        "pump cleaning monthly filter"])]
    Ingestor(store, keywords, IngestState(tmp_path / "s.sqlite", "mmr"), embedder,
             IngestConfig()).ingest_texts(records)
    query = "pump warranty"
    relevance = Retriever(store, keywords, embedder, RetrieverConfig(mode="dense"))
    diverse = Retriever(store, keywords, embedder, RetrieverConfig(mode="dense", mmr_lambda=0.3))
    assert sources(relevance.retrieve(query, k=2)) == ["/d/0", "/d/1"]
    assert sorted(sources(diverse.retrieve(query, k=2))) == ["/d/0", "/d/2"]


def test_distance_is_fixed_per_collection(tmp_path):
    cosine = ChunkStore(tmp_path, "coll", distance="cosine")
    assert cosine.count() == 0
    with pytest.raises(StoreError, match="built with distance 'cosine'"):
        ChunkStore(tmp_path, "coll", distance="l2").count()
    l2 = ChunkStore(tmp_path, "other", distance="l2")
    from langchain_core.documents import Document
    l2.add([Document(page_content="x", metadata={"chunk_id": "a", "source": "s"})], [[1.0, 0.0]])
    [(doc, score)] = l2.query([1.0, 0.0], k=1)
    assert score == pytest.approx(1.0)
