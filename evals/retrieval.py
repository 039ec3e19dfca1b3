"""Retrieval benchmark on any BEIR-format dataset, through docchat's real ingest and retriever.

    python -m evals retrieval --dataset DIR|squad [--split test] [--out DIR] [--reranker MODEL]

Ingests the corpus (each record = title + text, via the JSONL path `Ingestor.ingest_texts`,
not files; re-runs reuse the index), then reports nDCG@10, recall@10/100 and MRR@10 for
dense, BM25 and hybrid (and hybrid+rerank with --reranker) beside the naive baseline of
evals.naive computed in the same run, the recall that Chroma's HNSW search gives up against
exact search, and query latency against a bare Chroma query. Documents are scored by their
best chunk. `--dataset squad` is SQuAD v1.1 dev as retrieval (evals.squad_retrieval).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from chat.app import DocChat
from chat.settings import load_settings
from evals.beir import BeirDataset, load_beir
from evals.metrics import Run, ir_metrics, percentile
from evals.naive import naive_runs
from evals.report import pyplot, write_report
from evals.squad_retrieval import resolve_dataset
from ingest.types import SourceText
from retriever.rerank import make_reranker
from retriever.search import Retriever

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DOCS_PER_QUERY = 100
CHUNKS_PER_QUERY = 300  # chunks fetched so that ~100 distinct documents remain


def ingest_corpus(app: DocChat, data: BeirDataset) -> dict:
    started = time.perf_counter()
    report = app.ingestor.ingest_texts(
        SourceText(doc_id, text, title) for doc_id, (title, text) in data.corpus.items()
    )
    return {"documents": len(report.results), "ingested": report.count("ingested"),
            "chunks": app.store.count(), "seconds": round(time.perf_counter() - started, 1)}


def run_retriever(retriever: Retriever, queries: dict[str, str]) -> tuple[Run, list[float]]:
    run: Run = {}
    latencies = []
    for qid, text in queries.items():
        started = time.perf_counter()
        hits = retriever.retrieve(text, k=CHUNKS_PER_QUERY)
        latencies.append(time.perf_counter() - started)
        docs: dict[str, float] = {}
        for rank, hit in enumerate(hits):
            doc_id = hit.document.metadata["source"]
            if doc_id not in docs:
                docs[doc_id] = float(len(hits) - rank)  # rank-based: best chunk per document
            if len(docs) == DOCS_PER_QUERY:
                break
        run[qid] = docs
    return run, latencies


def variants(app: DocChat, reranker: str | None) -> dict[str, Retriever]:
    base = app.settings.retrieval.model_copy(update={"fetch_k": CHUNKS_PER_QUERY,
                                                     "reranker": None})
    make = lambda cfg, rr=None: Retriever(app.store, app.keyword_index, app.embedder, cfg,
                                          reranker=rr)
    out = {
        "dense": make(base.model_copy(update={"mode": "dense"})),
        "bm25": make(base.model_copy(update={"mode": "bm25"})),
        "hybrid": make(base),
    }
    if reranker:
        out["hybrid+rerank"] = make(base, make_reranker(reranker))
    return out


def ann_recall(app: DocChat, queries: dict[str, str], k: int = 100, sample: int = 200) -> dict:
    """Share of the exact top-k chunks (brute-force cosine) that Chroma's HNSW search returns."""
    everything = app.store.all(include_embeddings=True)
    ids = np.array(everything["ids"])
    matrix = np.asarray(everything["embeddings"], dtype=np.float32)
    recalls = {10: [], k: []}
    for text in list(queries.values())[:sample]:
        vector = np.asarray(app.embedder.embed_query(text), dtype=np.float32)
        exact = ids[np.argsort(-(matrix @ vector))[:k]]
        approx = [d.metadata["chunk_id"] for d, _ in app.store.query(vector.tolist(), k)]
        for n in recalls:
            recalls[n].append(len(set(exact[:n]) & set(approx[:n])) / n)
    return {f"recall@{n}": round(float(np.mean(v)), 4) for n, v in recalls.items()}


def latency(app: DocChat, queries: dict[str, str], k: int = 10,
            reranker: str | None = None) -> dict:
    """Hybrid retrieval of k chunks (and with the reranker, if given) vs a bare query
    embedding + Chroma query, per query."""
    texts = list(queries.values())
    plain = app.settings.retrieval.model_copy(update={"reranker": None})
    hybrid = Retriever(app.store, app.keyword_index, app.embedder, plain)
    reranked = Retriever(app.store, app.keyword_index, app.embedder, app.settings.retrieval,
                         reranker=make_reranker(reranker)) if reranker else None
    bare, full, rerank = [], [], []
    for text in texts:
        started = time.perf_counter()
        app.store.query(app.embedder.embed_query(text), k)
        bare.append(time.perf_counter() - started)
        started = time.perf_counter()
        hybrid.retrieve(text, k=k)
        full.append(time.perf_counter() - started)
        if reranked is not None:
            started = time.perf_counter()
            reranked.retrieve(text, k=k)
            rerank.append(time.perf_counter() - started)
    ms = lambda values, p: round(1000 * percentile(values, p), 1)
    result = {
        "queries": len(texts), "k": k,
        "hybrid_ms": {"p50": ms(full, 50), "p95": ms(full, 95)},
        "bare_chroma_plus_embedding_ms": {"p50": ms(bare, 50), "p95": ms(bare, 95)},
        "ratio_p50": round(percentile(full, 50) / percentile(bare, 50), 2),
        "ratio_p95": round(percentile(full, 95) / percentile(bare, 95), 2),
    }
    if rerank:
        result["hybrid_rerank_ms"] = {"p50": ms(rerank, 50), "p95": ms(rerank, 95),
                                      "candidates": app.settings.retrieval.rerank_candidates}
    return result


def evaluate(dataset: Path, split: str, data_dir: Path, reranker: str | None = None,
             overrides: dict | None = None, naive: bool = True) -> dict:
    data = load_beir(dataset, split)
    settings = load_settings(data_dir=data_dir, collection="beir-" + dataset.name.lower(),
                             **(overrides or {}))
    app = DocChat(settings)
    result = {"dataset": str(dataset), "split": split, "queries": len(data.queries),
              "settings": {"ingest": settings.ingest.model_dump(),
                           "retrieval": settings.retrieval.model_dump()},
              "ingest": ingest_corpus(app, data), "methods": {}}
    for name, retriever in variants(app, reranker).items():
        run, times = run_retriever(retriever, data.queries)
        result["methods"][name] = ir_metrics(run, data.qrels)
        result["methods"][name]["ms_p50"] = round(1000 * percentile(times, 50), 1)
    if naive:  # the baseline every number above is read against, same run, same data
        for name, run in naive_runs(data, data_dir / "naive-cache").items():
            result["methods"][f"naive {name}"] = ir_metrics(run, data.qrels)
    result["ann_vs_exact"] = ann_recall(app, data.queries)
    result["latency"] = latency(app, data.queries, reranker=reranker)
    return result


def markdown(result: dict) -> str:
    lines = [f"# Retrieval: {result['dataset']} ({result['split']}, {result['queries']} queries)",
             "", "| method | nDCG@10 | recall@10 | recall@100 | MRR@10 | ms p50 |",
             "| --- | --- | --- | --- | --- | --- |"]
    methods = result["methods"]
    for name, m in methods.items():
        lines.append(f"| {name} | {m['ndcg@10']:.4f} | {m['recall@10']:.4f} | "
                     f"{m['recall@100']:.4f} | {m['mrr@10']:.4f} | {m.get('ms_p50', '')} |")
    gains = [f"{name} {methods[name]['ndcg@10'] - methods[base]['ndcg@10']:+.4f}"
             for name in methods if not name.startswith("naive")
             for base in [f"naive {name.split('+')[0]}"] if base in methods]
    if gains:
        lines += ["", "nDCG@10 against the naive baseline (hybrid+rerank against naive "
                      "hybrid): " + ", ".join(gains) + "."]
    ann, lat = result["ann_vs_exact"], result["latency"]
    lines += ["", f"HNSW vs exact search (chunks): recall@10 {ann['recall@10']}, "
                  f"recall@100 {ann['recall@100']}.",
              f"Hybrid latency (k={lat['k']}): p50 {lat['hybrid_ms']['p50']} ms, "
              f"p95 {lat['hybrid_ms']['p95']} ms; bare Chroma + embedding p50 "
              f"{lat['bare_chroma_plus_embedding_ms']['p50']} ms, p95 "
              f"{lat['bare_chroma_plus_embedding_ms']['p95']} ms "
              f"(ratio p50 {lat['ratio_p50']}, p95 {lat['ratio_p95']})."
              + (f" With the reranker ({lat['hybrid_rerank_ms']['candidates']} candidates): "
                 f"p50 {lat['hybrid_rerank_ms']['p50']} ms, p95 "
                 f"{lat['hybrid_rerank_ms']['p95']} ms." if "hybrid_rerank_ms" in lat else ""),
              f"Ingest: {result['ingest']}"]
    return "\n".join(lines) + "\n"


def plot(result: dict) -> "Figure":
    plt = pyplot()

    names = list(result["methods"])
    metrics = ["ndcg@10", "recall@10", "recall@100", "mrr@10"]
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        values = [result["methods"][name][m] for m in metrics]
        ax.bar([x + i * width for x in range(len(metrics))], values, width, label=name)
    ax.set_xticks([x + width * (len(names) - 1) / 2 for x in range(len(metrics))], metrics)
    ax.set_ylim(0, 1)
    ax.set_title(f"{Path(result['dataset']).name} ({result['split']})")
    ax.legend()
    return fig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m evals retrieval", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True,
                        help="a BEIR-format folder, or `squad` (SQuAD v1.1 dev as retrieval)")
    parser.add_argument("--split", default="test")
    parser.add_argument("--data-dir", type=Path, default=Path("build/evals/index"),
                        help="where the corpus index is kept between runs")
    parser.add_argument("--out", type=Path, default=Path("build/evals/retrieval"))
    parser.add_argument("--reranker", help="a cross-encoder: a train-qa folder, a directory or hub id")
    parser.add_argument("--retrieval", help='retrieval.* settings as JSON, e.g. '
                                            '\'{"rerank_weight": 0.7}\'')
    parser.add_argument("--no-naive", action="store_true",
                        help="skip the naive baseline (it embeds the corpus once more)")
    args = parser.parse_args(argv)
    overrides = {"retrieval": json.loads(args.retrieval)} if args.retrieval else None
    dataset = resolve_dataset(args.dataset)
    result = evaluate(dataset, args.split, args.data_dir, args.reranker, overrides,
                      naive=not args.no_naive)
    stem = f"{dataset.name}-{args.split}"
    write_report(args.out, stem, result, markdown(result), plot)
