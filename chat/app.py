"""Wiring: builds docchat's parts from Settings. Everything is created on first use."""

from __future__ import annotations

from functools import cached_property

from chat.evidence import EvidenceScorer
from chat.generators.base import Generator
from chat.generators.factory import make_generator
from chat.pipeline import ChatPipeline
from chat.settings import Settings
from ingest.embedder import SentenceTransformerEmbeddings
from ingest.keyword_index import KeywordIndex
from ingest.pipeline import Ingestor, refresh_keyword_index
from ingest.state import IngestState
from ingest.store import ChunkStore
from retriever.rerank import Reranker, make_reranker
from retriever.search import Retriever


class DocChat:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def embedder(self) -> SentenceTransformerEmbeddings:
        cfg = self.settings.ingest
        return SentenceTransformerEmbeddings(
            cfg.embedding_model, device=cfg.device, batch_size=cfg.embed_batch_size,
            backend=cfg.embed_backend, cache_dir=self.settings.cache_dir / "embedders",
        )

    @cached_property
    def store(self) -> ChunkStore:
        s = self.settings
        return ChunkStore(s.chroma_dir, s.collection, distance=s.ingest.distance, index=s.index)

    @cached_property
    def keyword_index(self) -> KeywordIndex:
        return KeywordIndex(self.settings.keyword_dir)

    @cached_property
    def state(self) -> IngestState:
        return IngestState(self.settings.state_file, self.settings.collection)

    @cached_property
    def ingestor(self) -> Ingestor:
        return Ingestor(
            self.store, self.keyword_index, self.state, self.embedder, self.settings.ingest,
            own_folders=(self.settings.data_dir, self.settings.cache_dir),
        )

    @cached_property
    def reranker(self) -> Reranker | None:
        cfg = self.settings.retrieval
        if cfg.reranker is None:
            return None
        return make_reranker(cfg.reranker, device=self.settings.ingest.device)

    @cached_property
    def retriever(self) -> Retriever:
        return Retriever(
            self.store, self.keyword_index, self.embedder, self.settings.retrieval,
            reranker=self.reranker,
            refresh=lambda: refresh_keyword_index(self.store, self.keyword_index),
            refresh_s=self.settings.index.refresh_s,
        )

    @cached_property
    def generator(self) -> Generator:
        return make_generator(self.settings.generator, self.settings.cache_dir)

    @cached_property
    def scorer(self) -> EvidenceScorer:
        reranker = self.reranker
        return EvidenceScorer(self.embedder.embed_documents, idf=self.keyword_index.idf,
                              relevance=reranker.scores if reranker is not None else None,
                              relevance_weight=self.settings.answer.relevance_weight)

    @cached_property
    def pipeline(self) -> ChatPipeline:
        return ChatPipeline(self.retriever, self.generator, self.settings.generator,
                            self.settings.answer, scorer=self.scorer, library=self.retriever)
