"""Embedding backends: torch fp32 vs ONNX Runtime fp32 vs ONNX Runtime int8, speed and quality.

    python -m evals embed-backends [--dataset DIR] [--backends torch,onnx,onnx-int8]
                                   [--threads 2] [--rounds 1] [--limit N] [--out DIR]

One vector per document: title + "\\n" + text, which the model cuts off at its max_seq_length
(256 tokens for the bundled all-MiniLM-L6-v2; a few long abstracts lose their tail, the same for
every backend). No chunking, no index: exact cosine search (a numpy matrix product) ranks the
documents, and evals.metrics scores the top 100 (nDCG@10, recall@100, ...).

All backends in one process and one run: each loads its model (exporting it to ONNX first,
into a fresh cache folder, so the export is timed too; then a second load from that cache) and
warms up on a few texts; then each, in turn, encodes every document (batch 32, normalised), timed,
then the queries. Load and export times are reported, not counted in the encode time. With
--rounds R the corpus is cut into R slices and the backends take turns on each slice, so a load
that comes and goes on the machine falls on all of them alike. A backend passes when it encodes
faster than torch and its nDCG@10 is within 0.005 of torch's.

--limit N keeps the first N documents and only the queries whose relevant documents are all
among them: for quick runs while developing; its numbers are not SciFact's.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from evals.beir import BeirDataset, load_beir
from evals.metrics import Run, ir_metrics
from evals.report import pyplot, write_report
from ingest.embedder import BACKENDS, BUNDLED, SentenceTransformerEmbeddings

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DEFAULT_DATASET = Path(__file__).resolve().parents[2] / "shared" / "data" / "retrieval" / "scifact"
BATCH_SIZE = 32
WARMUP_TEXTS = 16
TOP_K = 100
SINGLE_QUERIES = 50  # embed_query latency, one at a time, as at question time
TOLERANCE = 0.005  # largest allowed |nDCG@10 - torch's nDCG@10|


def limit_dataset(data: BeirDataset, limit: int) -> BeirDataset:
    """The first `limit` documents, and the queries all of whose relevant documents are in them."""
    corpus = dict(list(data.corpus.items())[:limit])
    qrels = {q: rel for q, rel in data.qrels.items() if all(d in corpus for d in rel)}
    return BeirDataset(corpus, {q: t for q, t in data.queries.items() if q in qrels}, qrels)


def search(queries: np.ndarray, docs: np.ndarray, doc_ids: list[str], qids: list[str]) -> Run:
    """Exact top-100 by cosine (the vectors are normalised, so a dot product)."""
    scores = queries @ docs.T
    k = min(TOP_K, scores.shape[1])
    run: Run = {}
    for qid, row in zip(qids, scores):
        top = np.argpartition(-row, k - 1)[:k]
        run[qid] = {doc_ids[j]: float(row[j]) for j in top}
    return run


def _timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def prepare(backend: str, model: str, threads: int, cache_dir: Path) -> tuple:
    """A loaded embedder, the seconds of a first load (plus the export on a cold cache) and of a
    second load (from the cache)."""
    make = lambda: SentenceTransformerEmbeddings(model, backend=backend, batch_size=BATCH_SIZE,
                                                 cache_dir=cache_dir, threads=threads)
    _, first, _ = _timed(lambda: make().model)
    embedder = make()
    _, again, _ = _timed(lambda: embedder.model)
    return embedder, first, again


def encode_corpus(embedders: dict, texts: list[str], rounds: int) -> tuple[dict, dict]:
    """Every backend encodes every text; with rounds > 1 the corpus is cut into that many slices
    and the backends take turns on each, so a load that comes and goes on the machine falls on
    all of them alike. Returns the vectors and {backend: (wall seconds, CPU seconds)}."""
    slices = [s for s in np.array_split(np.arange(len(texts)), rounds) if len(s)]
    parts = {name: [] for name in embedders}
    times = {name: [0.0, 0.0] for name in embedders}
    for i, part in enumerate(slices):
        for name, embedder in embedders.items():
            if rounds == 1:
                print(f"{name}: encoding {len(texts)} documents ...", flush=True)
            batch = [texts[j] for j in part]
            vectors, wall, cpu = _timed(lambda: embedder.encode(batch))
            parts[name].append(vectors)
            times[name][0] += wall
            times[name][1] += cpu
        if rounds > 1:
            print(f"round {i + 1}/{len(slices)}: " + ", ".join(
                f"{n} {t[0]:.1f} s" for n, t in times.items()), flush=True)
    return {n: np.concatenate(p) for n, p in parts.items()}, times


def measure(embedder, texts: list[str], seconds: float, cpu_seconds: float,
            queries: list[str]) -> tuple[dict, np.ndarray]:
    vectors, query_seconds, _ = _timed(lambda: embedder.encode(queries))
    single = [_timed(lambda: embedder.embed_query(q))[1] for q in queries[:SINGLE_QUERIES]]
    return {
        "onnx_file_mb": (round(embedder.onnx_file.stat().st_size / 2**20, 1)
                         if embedder.onnx_file else None),
        "encode_seconds": round(seconds, 2),
        "encode_cpu_seconds": round(cpu_seconds, 2),
        "passages_per_second": round(len(texts) / seconds, 1),
        "query_encode_seconds": round(query_seconds, 2),
        "query_ms_p50": round(1000 * statistics.median(single), 1),
    }, vectors


def compare(results: dict, docs: dict[str, np.ndarray]) -> None:
    """Speed-up, nDCG delta, vector agreement and pass/fail against torch, in place."""
    base = results.get("torch")
    for name, r in results.items():
        if base is None or name == "torch":
            r.update(speedup_vs_torch=None, ndcg_delta_vs_torch=None, passes=None)
            continue
        cosines = np.sum(docs[name] * docs["torch"], axis=1)
        speedup = base["encode_seconds"] / r["encode_seconds"]
        delta = r["ndcg@10"] - base["ndcg@10"]
        r.update(speedup_vs_torch=round(speedup, 2), ndcg_delta_vs_torch=round(delta, 4),
                 cosine_to_torch={"mean": round(float(cosines.mean()), 4),
                                  "min": round(float(cosines.min()), 4)},
                 passes=bool(speedup > 1 and abs(delta) <= TOLERANCE))


def recommend(results: dict) -> str:
    passing = [n for n, r in results.items() if r["passes"]]
    if "torch" not in results:
        return "no torch baseline in this run: nothing to compare"
    if not passing:
        return "torch (no other backend was both faster and within the nDCG@10 tolerance)"
    best = max(passing, key=lambda n: results[n]["speedup_vs_torch"])
    return f"{best} ({results[best]['speedup_vs_torch']}x torch's speed, nDCG@10 delta " \
           f"{results[best]['ndcg_delta_vs_torch']:+.4f})"


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("torch", "onnxruntime", "onnx", "sentence-transformers", "transformers"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def evaluate(dataset: Path, split: str, backends: list[str], model: str, threads: int,
             limit: int | None, cache_dir: Path | None, rounds: int = 1) -> dict:
    import torch

    torch.set_num_threads(threads)
    data = load_beir(dataset, split)
    if limit:
        data = limit_dataset(data, limit)
    doc_ids = list(data.corpus)
    texts = [f"{title}\n{text}" for title, text in data.corpus.values()]
    qids = list(data.queries)
    queries = [data.queries[q] for q in qids]
    embedders, results = {}, {}
    with tempfile.TemporaryDirectory(prefix="docchat-embed-backends-") as fresh:
        for backend in backends:
            embedder, first, again = prepare(backend, model, threads, cache_dir or Path(fresh))
            embedder.encode(texts[:WARMUP_TEXTS])
            embedders[backend] = embedder
            results[backend] = {"prepare_seconds": round(first, 2), "load_seconds": round(again, 2)}
        load_before = os.getloadavg()[0]
        docs, times = encode_corpus(embedders, texts, rounds)
        load_after = os.getloadavg()[0]
        for backend, embedder in embedders.items():
            r, vectors = measure(embedder, texts, *times[backend], queries)
            r.update(ir_metrics(search(vectors, docs[backend], doc_ids, qids), data.qrels))
            results[backend].update(r)
            print(f"{backend}: {r['encode_seconds']} s, {r['passages_per_second']} passages/s, "
                  f"nDCG@10 {r['ndcg@10']}", flush=True)
    compare(results, docs)
    return {
        "dataset": str(dataset), "split": split, "documents": len(texts),
        "queries": len(queries), "limit": limit, "model": model, "threads": threads,
        "batch_size": BATCH_SIZE, "rounds": rounds, "tolerance": TOLERANCE, "cpu": _cpu(),
        "cores": os.cpu_count(), "loadavg_1min": [round(load_before, 2), round(load_after, 2)],
        "versions": _versions(), "backends": results, "recommendation": recommend(results),
    }


def markdown(result: dict) -> str:
    fmt = lambda value, spec: "-" if value is None else format(value, spec)
    lines = [
        f"# Embedding backends: {Path(result['dataset']).name} ({result['split']}, "
        f"{result['documents']} documents, {result['queries']} queries"
        + (f", --limit {result['limit']}" if result["limit"] else "") + ")",
        "",
        f"{result['cpu']}, {result['threads']} threads, batch {result['batch_size']}, "
        f"{result['rounds']} round(s); model {result['model']}; 1-minute load average "
        f"{result['loadavg_1min'][0]} before and {result['loadavg_1min'][1]} after encoding.",
        "",
        "| backend | encode s | passages/s | speed-up vs torch | nDCG@10 | Δ vs torch "
        "| recall@100 | passes |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in result["backends"].items():
        passes = {None: "baseline" if name == "torch" else "-", True: "yes", False: "no"}
        lines.append(
            f"| {name} | {r['encode_seconds']:.2f} | {r['passages_per_second']:.1f} | "
            f"{fmt(r['speedup_vs_torch'], '.2f')} | {r['ndcg@10']:.4f} | "
            f"{fmt(r['ndcg_delta_vs_torch'], '+.4f')} | {r['recall@100']:.4f} | "
            f"{passes[r['passes']]} |")
    lines += ["", "| backend | load + export s | load s | ONNX MB | encode CPU s | queries s "
                  "| query ms p50 | cosine to torch (mean / min) |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, r in result["backends"].items():
        cos = r.get("cosine_to_torch")
        cos = "-" if cos is None else f"{cos['mean']:.4f} / {cos['min']:.4f}"
        lines.append(
            f"| {name} | {r['prepare_seconds']:.2f} | {r['load_seconds']:.2f} | "
            f"{fmt(r['onnx_file_mb'], '.1f')} | {r['encode_cpu_seconds']:.2f} | "
            f"{r['query_encode_seconds']:.2f} | {r['query_ms_p50']} | "
            f"{cos} |")
    lines += ["", f"Pass: faster than torch and |Δ nDCG@10| <= {result['tolerance']}. "
                  f"Recommended default: {result['recommendation']}."]
    return "\n".join(lines) + "\n"


def plot(result: dict) -> "Figure":
    plt = pyplot()

    names = list(result["backends"])
    rows = [result["backends"][n] for n in names]
    fig, (speed, quality) = plt.subplots(1, 2, figsize=(9, 3.5))
    speed.bar(names, [r["passages_per_second"] for r in rows], color="tab:blue")
    speed.set_title(f"passages/s ({result['threads']} threads)")
    quality.bar(names, [r["ndcg@10"] for r in rows], color="tab:green")
    low = min(r["ndcg@10"] for r in rows)
    quality.set_ylim(max(0.0, low - 0.05), min(1.0, max(r["ndcg@10"] for r in rows) + 0.02))
    quality.set_title("nDCG@10")
    fig.suptitle(f"{Path(result['dataset']).name}: {result['documents']} documents")
    return fig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m evals embed-backends", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET, help="BEIR-format folder")
    parser.add_argument("--split", default="test")
    parser.add_argument("--backends", default=",".join(BACKENDS),
                        help=f"comma-separated, from {', '.join(BACKENDS)}")
    parser.add_argument("--model", default=BUNDLED, help="embedding model (default: bundled)")
    parser.add_argument("--threads", type=int, default=2,
                        help="torch.set_num_threads and ONNX Runtime intra-op threads")
    parser.add_argument("--limit", type=int, help="only the first N documents (quick runs)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="interleave the backends over this many slices of the corpus")
    parser.add_argument("--cache-dir", type=Path,
                        help="keep ONNX exports here (default: a fresh temporary folder)")
    parser.add_argument("--out", type=Path, default=Path("build/evals/embed-backends"))
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = [b for b in backends if b not in BACKENDS]
    if unknown or not backends:
        parser.error(f"--backends: unknown {unknown}; choose from {', '.join(BACKENDS)}")
    result = evaluate(args.dataset, args.split, backends, args.model, args.threads,
                      args.limit, args.cache_dir, max(1, args.rounds))
    stem = f"{args.dataset.name}-{args.split}" + (f"-limit{args.limit}" if args.limit else "")
    write_report(args.out, stem, result, markdown(result), plot)
