"""Which chunk size retrieves best: nDCG@10 on a BEIR set for several ingest.chunk_tokens.

    python -m evals chunk-sizes [--dataset DIR] [--sizes 96,128,200,256] [--limit N]

Each document (title as heading + text) is chunked by docchat's own chunker at each size,
the chunks are embedded with the configured embedder, and a document scores its best chunk
(MaxP) under exact cosine search. Dense only, so the chunking alone is compared.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from chat.settings import load_settings
from evals.beir import load_beir
from evals.embed_backends import limit_dataset
from evals.metrics import ir_metrics
from evals.report import pyplot, write_report
from ingest.chunking import chunk_elements
from ingest.embedder import SentenceTransformerEmbeddings
from ingest.types import TextElement

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DEFAULT_DATASET = Path(__file__).resolve().parents[2] / "shared/data/retrieval/scifact"


def evaluate(dataset: Path, sizes: list[int], overlap: int, limit: int | None) -> dict:
    data = load_beir(dataset)
    if limit:
        data = limit_dataset(data, limit)
    cfg = load_settings(None).ingest
    embedder = SentenceTransformerEmbeddings(cfg.embedding_model, backend=cfg.embed_backend,
                                             cache_dir=load_settings(None).cache_dir / "embedders")
    qids = list(data.queries)
    queries = embedder.encode([data.queries[q] for q in qids])
    rows = []
    for size in sizes:
        owners, texts = [], []
        for doc_id, (title, text) in data.corpus.items():
            element = TextElement(text, "NarrativeText", headings=(title,) if title else ())
            for chunk, meta in chunk_elements([element], count_tokens=embedder.count_tokens,
                                              chunk_tokens=size,
                                              chunk_overlap=min(overlap, size // 4),
                                              max_tokens=embedder.max_tokens):
                owners.append(doc_id)
                texts.append(f"{meta['section']}\n{chunk}" if meta["section"] else chunk)
        vectors = embedder.encode(texts)
        scores = queries @ vectors.T
        run = {}
        for qi, qid in enumerate(qids):
            best: dict[str, float] = {}
            for ci in np.argsort(-scores[qi])[:300]:
                doc = owners[ci]
                best[doc] = max(best.get(doc, -1.0), float(scores[qi, ci]))
            run[qid] = best
        rows.append({"chunk_tokens": size, "chunks": len(texts), **ir_metrics(run, data.qrels)})
        print(rows[-1], flush=True)
    return {"dataset": str(dataset), "documents": len(data.corpus), "queries": len(qids),
            "embed_backend": cfg.embed_backend, "overlap": overlap, "rows": rows}


def _markdown(r: dict) -> str:
    lines = ["# Chunk size", "",
             f"{r['documents']} documents, {r['queries']} queries, backend {r['embed_backend']},"
             f" overlap {r['overlap']} tokens (at most a quarter of the size).", "",
             "| chunk_tokens | chunks | nDCG@10 | recall@100 |", "|---|---|---|---|"]
    lines += [f"| {x['chunk_tokens']} | {x['chunks']} | {x['ndcg@10']} | {x['recall@100']} |"
              for x in r["rows"]]
    return "\n".join(lines) + "\n"


def _plot(r: dict) -> "Figure":
    plt = pyplot()

    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot([x["chunk_tokens"] for x in r["rows"]], [x["ndcg@10"] for x in r["rows"]], "o-")
    ax.set_xlabel("chunk_tokens")
    ax.set_ylabel("nDCG@10")
    return fig


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m evals chunk-sizes")
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--sizes", default="96,128,200,256")
    parser.add_argument("--overlap", type=int, default=32)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--out", type=Path, default=Path("build/evals/chunk-sizes"))
    args = parser.parse_args(argv)
    result = evaluate(args.dataset, [int(s) for s in args.sizes.split(",")], args.overlap,
                      args.limit)
    write_report(args.out, "chunk-sizes", result, _markdown(result), _plot)
