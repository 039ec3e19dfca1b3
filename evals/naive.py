"""The naive retrieval baseline every `evals retrieval` report is measured against, computed
in the same run on the same data: bm25s with its defaults as its own benchmark runs it
(English stop words, Snowball stemming, k1 1.5, b 0.75, Lucene IDF), exact float32
all-MiniLM-L6-v2 cosine with one vector per document (title + text, torch, the model's
256-token limit), and plain RRF (k = 60) of the two top-100 lists. No chunking, no docchat code: what anyone would write in twenty lines.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from evals.beir import BeirDataset
from evals.metrics import Run
from retriever.fusion import reciprocal_rank_fusion

TOP = 100


def naive_runs(data: BeirDataset, cache: Path | None = None) -> dict[str, Run]:
    ids = list(data.corpus)
    texts = [f"{title} {text}".strip() for title, text in data.corpus.values()]
    qids, questions = list(data.queries), list(data.queries.values())
    bm25 = _bm25(texts, questions)
    dense = _dense(texts, questions, cache)
    runs: dict[str, Run] = {"bm25": {}, "dense": {}, "hybrid": {}}
    for i, qid in enumerate(qids):
        keyword = [(ids[j], s) for j, s in bm25[i] if s > 0]
        vector = [(ids[j], s) for j, s in dense[i]]
        runs["bm25"][qid] = dict(keyword)
        runs["dense"][qid] = dict(vector)
        fused = reciprocal_rank_fusion([[d for d, _ in vector], [d for d, _ in keyword]], k=60)
        runs["hybrid"][qid] = dict(fused[:TOP])
    return runs


def _top(scores: np.ndarray) -> list[tuple[int, float]]:
    k = min(TOP, len(scores))
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    return [(int(j), float(scores[j])) for j in top]


def _bm25(texts: list[str], queries: list[str]) -> list[list[tuple[int, float]]]:
    import bm25s
    import Stemmer

    stem = Stemmer.Stemmer("english")
    model = bm25s.BM25()
    model.index(bm25s.tokenize(texts, stopwords="en", stemmer=stem, show_progress=False),
                show_progress=False)
    tokens = bm25s.tokenize(queries, stopwords="en", stemmer=stem, return_ids=False,
                            show_progress=False)
    return [_top(model.get_scores(t)) if t else [] for t in tokens]


def _dense(texts: list[str], queries: list[str], cache: Path | None):
    from sentence_transformers import SentenceTransformer

    from ingest.embedder import BUNDLED, resolve_embedding_model

    model = SentenceTransformer(resolve_embedding_model(BUNDLED), device="cpu")
    key = hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:16]
    file = cache / f"naive-minilm-{key}.npy" if cache else None
    if file is not None and file.is_file():
        docs = np.load(file)
    else:
        docs = model.encode(texts, batch_size=32, normalize_embeddings=True,
                            show_progress_bar=False, convert_to_numpy=True)
        if file is not None:
            file.parent.mkdir(parents=True, exist_ok=True)
            np.save(file, docs)
    q = model.encode(queries, batch_size=64, normalize_embeddings=True,
                     show_progress_bar=False, convert_to_numpy=True)
    return [_top(row) for row in q @ docs.T]
