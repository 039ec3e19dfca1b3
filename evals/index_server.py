"""Embedded Chroma versus a Chroma server, same corpus, same run.

    python -m evals index-server [--dataset DIR] [--docs 1000] [--queries 200] [--url URL]

Ingests the first --docs records of a BEIR corpus (default SciFact) into an embedded store and
into a Chroma server (started here on loopback unless --url is given), then measures: full
ingest time (parse-free JSONL path: chunk, embed, write, BM25 build), the time to rebuild a
process's BM25 index from the store (what another docchat process pays after a change), and
dense and hybrid query latency. Reported as server / embedded ratios.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from chat.app import DocChat
from chat.settings import load_settings
from evals.beir import load_beir
from evals.servers import chroma_server
from evals.metrics import percentile
from ingest.keyword_index import KeywordIndex
from ingest.pipeline import refresh_keyword_index
from ingest.types import SourceText

DEFAULT_DATASET = Path(__file__).resolve().parents[2] / "shared/data/retrieval/scifact"


def measure(app: DocChat, records: list[SourceText], queries: list[str]) -> dict:
    started = time.perf_counter()
    app.ingestor.ingest_texts(records)
    ingest_s = time.perf_counter() - started

    fresh = KeywordIndex(app.settings.data_dir / "bm25-other-process")
    started = time.perf_counter()
    refresh_keyword_index(app.store, fresh)
    rebuild_s = time.perf_counter() - started

    vectors = [app.embedder.embed_query(q) for q in queries]
    dense, hybrid = [], []
    for query, vector in zip(queries, vectors):
        started = time.perf_counter()
        app.store.query_ids(vector, 10)
        dense.append(time.perf_counter() - started)
        started = time.perf_counter()
        app.retriever.retrieve(query, k=10)
        hybrid.append(time.perf_counter() - started)
    ms = lambda values, p: round(1000 * percentile(values, p), 2)
    return {"chunks": app.store.count(),
            "ingest_s": round(ingest_s, 2), "bm25_rebuild_from_store_s": round(rebuild_s, 2),
            "dense_query_ms": {"p50": ms(dense, 50), "p95": ms(dense, 95)},
            "hybrid_retrieve_ms": {"p50": ms(hybrid, 50), "p95": ms(hybrid, 95)}}


def run(dataset: Path, docs: int, n_queries: int, url: str | None) -> dict:
    data = load_beir(dataset, "test")
    records = [SourceText(i, text, title) for i, (title, text) in list(data.corpus.items())[:docs]]
    queries = list(data.queries.values())[:n_queries]
    work = Path(tempfile.mkdtemp(prefix="docchat-index-bench-"))
    result = {"dataset": str(dataset), "docs": len(records), "queries": len(queries)}
    with ExitStack() as stack:
        if url is None:
            url = stack.enter_context(chroma_server(work / "server-db"))
        embedder = None
        for backend in ("embedded", "server"):
            index = {"backend": backend, "url": url if backend == "server" else None}
            app = DocChat(load_settings(data_dir=work / backend, collection="bench", index=index))
            if embedder is not None:
                app.embedder = embedder  # the model is loaded once; its load is not timed
            else:
                embedder = app.embedder
                embedder.embed_query("warm up")
            result[backend] = measure(app, records, queries)
    e, s = result["embedded"], result["server"]
    result["ratio_server_to_embedded"] = {
        "ingest": round(s["ingest_s"] / e["ingest_s"], 2),
        "bm25_rebuild": round(s["bm25_rebuild_from_store_s"] / e["bm25_rebuild_from_store_s"], 2),
        "dense_query_p50": round(s["dense_query_ms"]["p50"] / e["dense_query_ms"]["p50"], 2),
        "hybrid_retrieve_p50": round(s["hybrid_retrieve_ms"]["p50"]
                                     / e["hybrid_retrieve_ms"]["p50"], 2),
    }
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m evals index-server", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--url", help="an existing Chroma server (default: start one here)")
    parser.add_argument("--out", type=Path, default=Path("build/evals/index-server.json"))
    args = parser.parse_args(argv)
    result = run(args.dataset, args.docs, args.queries, args.url)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
