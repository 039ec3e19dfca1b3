"""Query latency of hybrid retrieval on a large synthetic collection.

    python -m evals latency [--chunks 100000] [--queries 200]

Embedding 100k real texts would take most of an hour on 2 cores, and latency does not depend
on what the vectors mean: the collection holds random unit vectors with synthetic texts drawn
from a Zipf-distributed vocabulary (for realistic BM25 posting lists). Queries are embedded
with the real embedder, so query embedding is part of the measured time, as in the app.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
from langchain_core.documents import Document

from chat.settings import load_settings
from evals.metrics import percentile
from ingest.embedder import SentenceTransformerEmbeddings
from ingest.keyword_index import KeywordIndex
from ingest.store import ChunkStore
from retriever.search import Retriever


def synthetic_texts(n: int, rng: np.random.Generator, words: int = 60) -> list[str]:
    vocab = np.array([f"term{i}" for i in range(50_000)])
    ranks = np.minimum(rng.zipf(1.2, size=(n, words)), len(vocab)) - 1
    return [" ".join(vocab[row]) for row in ranks]


def build(folder: Path, n: int, dim: int, seed: int) -> tuple[ChunkStore, KeywordIndex]:
    rng = np.random.default_rng(seed)
    store = ChunkStore(folder / "chroma", "synthetic")
    keywords = KeywordIndex(folder / "bm25")
    texts = synthetic_texts(n, rng)
    metas = [{"chunk_id": f"c{i}", "source": f"/synthetic/{i // 20}.txt", "file_type": "txt"}
             for i in range(n)]
    for start in range(0, n, 5000):
        vectors = rng.normal(size=(min(5000, n - start), dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        docs = [Document(page_content=t, metadata=m)
                for t, m in zip(texts[start:start + 5000], metas[start:start + 5000])]
        store.add(docs, vectors.tolist())
    keywords.rebuild([m["chunk_id"] for m in metas], texts, metas)
    return store, keywords


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m evals latency", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)

    settings = load_settings()
    embedder = SentenceTransformerEmbeddings(settings.ingest.embedding_model)
    dim = len(embedder.embed_query("warm up"))
    folder = Path(tempfile.mkdtemp(prefix="docchat-latency-"))
    started = time.perf_counter()
    store, keywords = build(folder, args.chunks, dim, seed=0)
    build_s = time.perf_counter() - started

    rng = np.random.default_rng(1)
    queries = [" ".join(t.split()[:8]) for t in synthetic_texts(args.queries, rng)]
    retriever = Retriever(store, keywords, embedder, settings.retrieval)
    retriever.retrieve(queries[0], k=args.k)  # load the BM25 index before timing
    bare, hybrid = [], []
    for q in queries:
        t = time.perf_counter()
        store.query(embedder.embed_query(q), args.k)
        bare.append(time.perf_counter() - t)
        t = time.perf_counter()
        retriever.retrieve(q, k=args.k)
        hybrid.append(time.perf_counter() - t)
    ms = lambda v, p: round(1000 * percentile(v, p), 1)
    result = {
        "chunks": args.chunks, "queries": len(queries), "k": args.k,
        "build_s": round(build_s, 1),
        "hybrid_ms": {"p50": ms(hybrid, 50), "p95": ms(hybrid, 95)},
        "bare_chroma_plus_embedding_ms": {"p50": ms(bare, 50), "p95": ms(bare, 95)},
        "ratio_p95": round(percentile(hybrid, 95) / percentile(bare, 95), 2),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
