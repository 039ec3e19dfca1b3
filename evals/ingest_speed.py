"""Ingest speed against the embedder alone, and re-ingest of an unchanged corpus.

    python -m evals ingest-speed [--dataset DIR] [--limit N] [--out DIR]

The corpus (BEIR corpus.jsonl, SciFact by default) goes through the JSONL path
`Ingestor.ingest_texts`: one record per abstract, title as heading, so the same chunking,
embedding, duplicate check, Chroma writes, bookkeeping and BM25 rebuild as files, without a
file parser. In the same run, a bare `SentenceTransformer.encode` of exactly the texts the
ingest embedded gives the floor. Model loading is excluded from both.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from chat.app import DocChat
from chat.settings import load_settings
from evals.beir import load_beir
from evals.report import pyplot, write_report
from ingest.types import SourceText

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DEFAULT_DATASET = Path(__file__).resolve().parents[2] / "shared/data/retrieval/scifact"


class _Recording:
    """Wraps the embedder to keep the texts the ingest asked it to embed."""

    def __init__(self, embedder) -> None:
        self.inner, self.texts = embedder, []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def embed_documents(self, texts):
        self.texts.extend(texts)
        return self.inner.embed_documents(texts)


def run(dataset: Path, limit: int | None) -> dict:
    corpus = load_beir(dataset).corpus
    ids = list(corpus)[:limit] if limit else list(corpus)
    records = [SourceText(i, corpus[i][1], corpus[i][0]) for i in ids]
    work = Path(tempfile.mkdtemp(prefix="docchat-ingest-speed-"))
    app = DocChat(load_settings(None, data_dir=work / "data", collection="speed"))
    embedder = app.embedder
    embedder.embed_documents(["warm-up passage"] * 8)  # loads the model: not timed
    recording = _Recording(embedder)
    ingestor = app.ingestor
    ingestor.embedder = recording

    started = time.perf_counter()
    first = ingestor.ingest_texts(records)
    ingest_s = time.perf_counter() - started

    started = time.perf_counter()
    embedder.model.encode(recording.texts, batch_size=embedder.batch_size,
                          normalize_embeddings=True, convert_to_numpy=True,
                          show_progress_bar=False)
    encode_s = time.perf_counter() - started

    started = time.perf_counter()
    again = ingestor.ingest_texts(records)
    reingest_s = time.perf_counter() - started
    assert again.count("unchanged") == len(records), again.to_dict()
    return {
        "dataset": str(dataset),
        "loader": "JSONL records via Ingestor.ingest_texts (one record per abstract)",
        "records": len(records),
        "chunks_embedded": len(recording.texts),
        "chunks_stored": app.store.count(),
        "ingest_s": round(ingest_s, 2),
        "bare_encode_s": round(encode_s, 2),
        "ingest_over_encode": round(ingest_s / encode_s, 3),
        "reingest_s": round(reingest_s, 2),
        "reingest_share_of_first": round(reingest_s / ingest_s, 4),
        "chunks_per_s": round(len(recording.texts) / ingest_s, 1),
        "embed_backend": getattr(app.settings.ingest, "embed_backend", "torch"),
        "failed": first.count("failed"),
    }


def _markdown(r: dict) -> str:
    return "\n".join([
        "# Ingest speed", "",
        f"{r['records']} records ({r['loader']}), {r['chunks_embedded']} chunks embedded, "
        f"{r['chunks_stored']} stored; embedder backend {r['embed_backend']}.", "",
        "| measure | seconds | ratio |", "|---|---|---|",
        f"| full ingest | {r['ingest_s']} | {r['ingest_over_encode']} × bare encode |",
        f"| bare encode of the same texts | {r['bare_encode_s']} | 1 |",
        f"| re-ingest, unchanged | {r['reingest_s']} | "
        f"{100 * r['reingest_share_of_first']:.2f}% of the first ingest |",
    ]) + "\n"


def _plot(r: dict) -> "Figure":
    plt = pyplot()

    labels = ["bare encode", "full ingest", "re-ingest"]
    values = [r["bare_encode_s"], r["ingest_s"], r["reingest_s"]]
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.barh(labels, values, color=["#999", "#3b7dd8", "#6c6"])
    for y, v in enumerate(values):
        ax.text(v, y, f" {v:.1f} s", va="center")
    ax.set_xlabel("seconds")
    ax.set_title(f"Ingest of {r['records']} records: {r['ingest_over_encode']}× bare encode")
    return fig


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m evals ingest-speed")
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--limit", type=int, help="only the first N records (quick runs)")
    parser.add_argument("--out", type=Path, default=Path("build/evals/ingest-speed"))
    args = parser.parse_args(argv)
    result = run(args.dataset, args.limit)
    write_report(args.out, "ingest-speed", result, _markdown(result), _plot)
