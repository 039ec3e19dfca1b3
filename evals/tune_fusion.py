"""Grid search of the fusion settings (method, dense weight, RRF constant) on a BEIR split.

    python -m evals tune-fusion --dataset DIR --split train

Uses the index that `python -m evals retrieval` built (same --data-dir). Dense and BM25
rankings are computed once per query; each setting only re-fuses them. Tune on a training
split, then report the test split with `evals retrieval`.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

from chat.app import DocChat
from chat.settings import load_settings
from evals.beir import load_beir
from evals.metrics import ir_metrics
from retriever.fusion import convex_combination, reciprocal_rank_fusion

DENSE_WEIGHTS = [0.5, 0.75, 1.0, 1.25, 1.5, 2.0]
RRF_KS = [5, 10, 20, 40, 60, 100]
FETCH = 100  # the app's default retrieval.fetch_k


def to_docs(chunk_ids, source_of, limit=100) -> dict[str, float]:
    docs: dict[str, float] = {}
    for rank, cid in enumerate(chunk_ids):
        doc = source_of[cid]
        if doc not in docs:
            docs[doc] = float(len(chunk_ids) - rank)
            if len(docs) == limit:
                break
    return docs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m evals tune-fusion", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--split", default="train")
    parser.add_argument("--data-dir", type=Path, default=Path("build/evals/index"))
    args = parser.parse_args(argv)

    data = load_beir(args.dataset, args.split)
    app = DocChat(load_settings(data_dir=args.data_dir,
                                collection="beir-" + args.dataset.name.lower()))
    if app.store.count() == 0:
        raise SystemExit("no index: run `python -m evals retrieval` on this dataset first")
    everything = app.store.all()
    source_of = {cid: m["source"] for cid, m in zip(everything["ids"], everything["metadatas"])}
    rankings = {}
    for qid, text in data.queries.items():
        dense = app.store.query_ids(app.embedder.embed_query(text), FETCH)
        bm25 = app.keyword_index.search(text, FETCH)
        rankings[qid] = (dense, bm25)

    def evaluate(fuse) -> dict:
        run = {qid: to_docs([cid for cid, _ in fuse(dense, bm25)], source_of)
               for qid, (dense, bm25) in rankings.items()}
        return ir_metrics(run, data.qrels)

    results = []
    for weight, rrf_k in itertools.product(DENSE_WEIGHTS, RRF_KS):
        fuse = lambda d, b: reciprocal_rank_fusion(  # noqa: E731
            [[c for c, _ in d], [c for c, _ in b]], [weight, 1.0], k=rrf_k)
        results.append({"fusion": "rrf", "dense_weight": weight, "rrf_k": rrf_k,
                        **evaluate(fuse)})
    for weight in DENSE_WEIGHTS:
        fuse = lambda d, b: convex_combination(  # noqa: E731
            [d, b], [weight, 1.0], [None, 0.0 if len(b) < FETCH else None])
        results.append({"fusion": "convex", "dense_weight": weight, **evaluate(fuse)})
    results.sort(key=lambda r: -r["ndcg@10"])
    for row in results[:10]:
        print(json.dumps(row))
