"""Hybrid retrieval: dense (Chroma) + BM25 (bm25s), fused (convex combination of normalised
scores, or reciprocal rank fusion), then optionally reranked (cross-encoder) and diversified
(MMR). Fetch wide, return k."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from langchain_core.embeddings import Embeddings

from ingest.chunking import embedding_text
from ingest.keyword_index import KeywordIndex
from ingest.state import sources_under
from ingest.store import ChunkStore
from retriever.config import RetrieverConfig
from retriever.fusion import convex_combination, reciprocal_rank_fusion
from retriever.rerank import Reranker
from retriever.types import RetrievedChunk, SearchFilter


class Retriever:
    def __init__(
        self,
        store: ChunkStore,
        keyword_index: KeywordIndex,
        embedder: Embeddings,
        config: RetrieverConfig,
        *,
        indexed_sources: Callable[[], Iterable[str]] | None = None,
        reranker: Reranker | None = None,
        refresh: Callable[[], Any] | None = None,
        refresh_s: float = 2.0,
    ) -> None:
        self.store = store
        self.keyword_index = keyword_index
        self.embedder = embedder
        self.config = config
        # for folder filters: what the keyword index holds is what the store holds
        self.indexed_sources = indexed_sources or keyword_index.sources
        self.reranker = reranker
        # Brings the keyword index up to date when another process changed the collection;
        # checked at most every refresh_s seconds.
        self.refresh = refresh
        self.refresh_s = refresh_s
        self._refreshed_at = float("-inf")

    def retrieve(
        self, query: str, k: int | None = None, filters: SearchFilter | None = None
    ) -> list[RetrievedChunk]:
        k = self.config.k if k is None else k
        if not query.strip():
            return []
        if self.refresh is not None and time.monotonic() - self._refreshed_at >= self.refresh_s:
            self.refresh()
            self._refreshed_at = time.monotonic()
        sources, file_types = self._resolve(filters)
        if sources is not None and not sources:
            return []  # the filter matches no indexed file
        cfg = self.config
        dense: list[tuple[str, float]] = []
        query_vector = None
        if cfg.mode in ("hybrid", "dense"):
            query_vector = self.embedder.embed_query(query)
            dense = self.store.query_ids(query_vector, cfg.fetch_k, _where(sources, file_types))
        keyword: list[tuple[str, float]] = []
        if cfg.mode in ("hybrid", "bm25"):
            keyword = self.keyword_index.search(
                query, cfg.fetch_k, sources=sources, file_types=file_types
            )
        if cfg.mode == "dense":
            ranked = dense
        elif cfg.mode == "bm25":
            ranked = keyword
        elif cfg.fusion == "rrf":
            ranked = reciprocal_rank_fusion(
                [[cid for cid, _ in dense], [cid for cid, _ in keyword]],
                [cfg.dense_weight, cfg.bm25_weight],
                k=cfg.rrf_k,
            )
        else:
            # A BM25 list shorter than fetch_k holds every chunk with a match: the rest score 0.
            bm25_floor = 0.0 if len(keyword) < cfg.fetch_k else None
            ranked = convex_combination(
                [dense, keyword], [cfg.dense_weight, cfg.bm25_weight], [None, bm25_floor]
            )
        # Only the chunks that can still be returned are read from the store.
        if self.reranker is not None:  # the first candidates reranked, the rest after them
            ranked = ranked[: max(cfg.rerank_candidates, k)]
        elif cfg.mmr_lambda is not None:
            ranked = ranked[: max(4 * k, 20)]  # MMR picks k from a few times k
        else:
            ranked = ranked[:k]
        docs = {d.metadata["chunk_id"]: d for d in self.store.get([cid for cid, _ in ranked])}
        ranked = [(cid, s) for cid, s in ranked if cid in docs]  # a chunk deleted meanwhile

        if self.reranker is not None and ranked:
            head, tail = ranked[: cfg.rerank_candidates], ranked[cfg.rerank_candidates:]
            ranked = self._rerank(query, head, docs) + tail
        if cfg.mmr_lambda is not None and ranked:
            if query_vector is None:
                query_vector = self.embedder.embed_query(query)
            ranked = self._mmr(query_vector, ranked, k)
        return [RetrievedChunk(docs[cid], score) for cid, score in ranked[:k]]

    def sources(self, filters: SearchFilter | None = None) -> list[str]:
        """The indexed sources within the files and folders `filters` selects, sorted."""
        indexed = set(self.indexed_sources())
        sources, _ = self._resolve(filters)
        return sorted(indexed if sources is None else indexed & sources)

    def chunks_of(self, source: str) -> list[RetrievedChunk]:
        """Every chunk of one source, in document order (score 0: nothing was searched)."""
        return [RetrievedChunk(doc, 0.0) for doc in self.store.chunks_of(source)]

    def _resolve(self, filters: SearchFilter | None) -> tuple[set[str] | None, set[str] | None]:
        if filters is None or filters.empty:
            return None, None
        sources = None
        if filters.files or filters.folders:
            sources = set(filters.files)
            if filters.folders:
                sources |= sources_under(self.indexed_sources(), filters.folders)
        file_types = {t.lower().lstrip(".") for t in filters.file_types} or None
        return sources, file_types

    def _rerank(self, query, ranked, docs):
        """The cross-encoder's scores blended with the fused ones (both standardised over the
        candidates): a reranker trained on other data keeps what retrieval knew."""
        passages = [embedding_text(docs[cid]) for cid, _ in ranked]  # heading path + text
        scores = self.reranker.scores(query, passages)
        weight = self.config.rerank_weight
        return convex_combination([ranked, list(zip((cid for cid, _ in ranked), scores))],
                                  [1 - weight, weight])

    def _mmr(self, query_vector, ranked, k):
        import numpy as np
        from langchain_core.vectorstores.utils import maximal_marginal_relevance

        ids = [cid for cid, _ in ranked]
        vectors = self.store.embeddings(ids)
        picked = maximal_marginal_relevance(
            np.array(query_vector), [vectors[cid] for cid in ids],
            lambda_mult=self.config.mmr_lambda, k=min(k, len(ids)),
        )
        return [ranked[i] for i in picked]


def _where(sources: set[str] | None, file_types: set[str] | None) -> dict[str, Any] | None:
    clauses = []
    if sources is not None:
        clauses.append({"source": {"$in": sorted(sources)}})
    if file_types is not None:
        clauses.append({"file_type": {"$in": sorted(file_types)}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}
