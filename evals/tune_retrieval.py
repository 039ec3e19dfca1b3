"""Choose the retrieval defaults across collections, not on one (leave-one-collection-out).

    python -m evals tune-retrieval [--collections DIR squad] [--out DIR]

For each collection, docchat's own chunks (the index `evals retrieval` builds) are searched
with candidate settings of each component, in stages:
- BM25 variant, k1, b and the share of the document's score added to each chunk's; then,
  at the pick, stemming; then RM3 feedback on that;
- dense: int8 or float32 vectors, Rocchio feedback on the query vector, document evidence;
- fusion of the two picks: convex weight, or RRF constant (docchat's own fusion functions).
Documents are scored by their best chunk. Settings are compared by nDCG@10 on each
collection's *train* split, as a gain over the naive baseline (evals.naive) on that split.
Per stage, three picks:
- chosen on collection A's train split alone, reported on B (and the other way round),
- the default: the best worst-case gain over both train splits, reported on both test splits.
Nothing is chosen on a test split.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from chat.app import DocChat
from chat.settings import load_settings
from evals.beir import BeirDataset, load_beir
from evals.metrics import Run, ir_metrics
from evals.naive import naive_runs
from evals.report import write_report
from evals.retrieval import ingest_corpus
from evals.squad_retrieval import resolve_dataset
from ingest.chunking import embedding_text
from ingest.embedder import SentenceTransformerEmbeddings
from ingest.keyword_index import document_rows, match_scores, stemmer
from langchain_core.documents import Document
from retriever.fusion import convex_combination, reciprocal_rank_fusion

FETCH = 100  # the app's retrieval.fetch_k
# Only variants whose IDF stays positive: Robertson's (and ATIRE's) is 0 for a term in half
# the documents or more, so a one-file collection would match nothing at all.
BM25_METHODS = ["lucene", "bm25l", "bm25+"]
K1S = [0.9, 1.2, 1.5, 2.0]
BS = [0.4, 0.75, 0.9]
ROCCHIO = [0.0, 0.25]  # weight of the mean of the top-3 chunk vectors added to the query
DOC_WEIGHTS = [0.0, 0.5, 1.0]  # share of the document's score added to each chunk's
DENSE_DOC_WEIGHTS = [0.0, 0.5]
DENSE_WEIGHTS = [0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7]
RRF_KS = [10, 30, 60]
SPLITS = ("train", "test")

Ranked = list[tuple[str, float]]  # chunk id, score


@dataclass
class Collection:
    name: str
    data: dict[str, BeirDataset]  # split -> dataset (same corpus)
    ids: list[str]
    texts: list[str]
    source_of: dict[str, str]
    vectors: dict[str, np.ndarray]  # backend -> chunk matrix
    queries: dict[str, str] = field(default_factory=dict)  # every split's queries
    query_vectors: dict[str, np.ndarray] = field(default_factory=dict)
    naive: dict[str, dict[str, dict]] = field(default_factory=dict)  # split -> method -> metrics

    def score(self, rankings: dict[str, Ranked]) -> dict[str, float]:
        """nDCG@10 per split of chunk rankings, documents by their best chunk."""
        run: Run = {qid: to_docs(r, self.source_of) for qid, r in rankings.items()}
        return {s: ir_metrics({q: run[q] for q in d.queries}, d.qrels)["ndcg@10"]
                for s, d in self.data.items()}


def to_docs(ranked: Ranked, source_of: dict[str, str]) -> dict[str, float]:
    docs: dict[str, float] = {}
    for rank, (cid, _) in enumerate(ranked):
        docs.setdefault(source_of[cid], float(len(ranked) - rank))
    return docs


def load_collection(name: str, data_dir: Path, cache_dir: Path) -> Collection:
    folder = resolve_dataset(name)
    data = {s: load_beir(folder, s) for s in SPLITS}
    settings = load_settings(data_dir=data_dir, collection="beir-" + folder.name.lower())
    app = DocChat(settings)
    ingest_corpus(app, data["test"])
    stored = app.store.all(include_embeddings=True)
    texts = [embedding_text(Document(page_content=t, metadata=m))
             for t, m in zip(stored["documents"], stored["metadatas"])]
    coll = Collection(name, data, stored["ids"], texts,
                      {cid: m["source"] for cid, m in zip(stored["ids"], stored["metadatas"])},
                      {"int8": np.asarray(stored["embeddings"], dtype=np.float32)})
    for d in data.values():
        coll.queries.update(d.queries)
    texts_q = list(coll.queries.values())
    # One query at a time, as the app embeds them: int8's activation scales are per batch.
    one_by_one = lambda embedder: np.array([embedder.embed_query(t) for t in texts_q],
                                           dtype=np.float32)
    coll.query_vectors["int8"] = one_by_one(app.embedder)
    fp32 = SentenceTransformerEmbeddings(backend="onnx",
                                         cache_dir=settings.cache_dir / "embedders")
    cached = cache_dir / f"chunks-fp32-{folder.name}-{len(coll.ids)}.npy"
    if cached.is_file():
        coll.vectors["fp32"] = np.load(cached)
    else:
        coll.vectors["fp32"] = fp32.encode(texts)
        np.save(cached, coll.vectors["fp32"])
    coll.query_vectors["fp32"] = one_by_one(fp32)
    for split, d in data.items():
        runs = naive_runs(d, cache_dir)
        coll.naive[split] = {m: ir_metrics(r, d.qrels) for m, r in runs.items()}
    return coll


def _top(scores: np.ndarray, ids: list[str], k: int = FETCH) -> Ranked:
    k = min(k, len(scores))
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    return [(ids[j], float(scores[j])) for j in top]


class Bm25:
    """bm25s over the collection's chunks and over its documents (each one's chunks joined, as
    ingest.keyword_index builds them), with one tokenisation."""

    def __init__(self, coll: Collection, method: str, k1: float, b: float, stem: bool):
        import bm25s

        self.coll = coll
        self.stem = stemmer() if stem else None
        rows = document_rows([coll.source_of[cid] for cid in coll.ids])
        self.document_of = np.array(rows)
        joined: list[list[str]] = [[] for _ in range(max(rows) + 1)]
        for row, text in zip(rows, coll.texts):
            joined[row].append(text)
        self.chunks = bm25s.BM25(k1=k1, b=b, method=method)
        self.chunks.index(self.tokenize(coll.texts, ids=True), show_progress=False)
        self.documents = bm25s.BM25(k1=k1, b=b, method=method)
        self.documents.index(self.tokenize(["\n".join(p) for p in joined], ids=True),
                             show_progress=False)
        self.queries = dict(zip(coll.queries, self.tokenize(list(coll.queries.values()))))

    def tokenize(self, texts: list[str], ids: bool = False):
        import bm25s

        return bm25s.tokenize(texts, stopwords="en", stemmer=self.stem, return_ids=ids,
                              show_progress=False)

    def scores(self, terms: list[str], doc_weight: float) -> np.ndarray:
        scores = match_scores(self.chunks, terms)
        if doc_weight:
            scores = scores + doc_weight * match_scores(self.documents, terms)[self.document_of]
        return scores

    def rankings(self, doc_weights) -> dict[float, dict[str, Ranked]]:
        out: dict[float, dict[str, Ranked]] = {w: {} for w in doc_weights}
        for qid, terms in self.queries.items():
            if not terms:
                for w in doc_weights:
                    out[w][qid] = []
                continue
            chunk = match_scores(self.chunks, terms)
            document = match_scores(self.documents, terms)[self.document_of]
            for w in doc_weights:
                out[w][qid] = [(c, s) for c, s in _top(chunk + w * document, self.coll.ids)
                               if s > 0]
        return out

    def rm3(self, base: dict[str, Ranked], doc_weight: float, fb_docs: int = 5,
            fb_terms: int = 10, weight: float = 0.5) -> dict[str, Ranked]:
        """RM3 pseudo-relevance feedback (Lavrenko & Croft; Anserini's defaults): the query's
        terms (weight `weight`) plus the `fb_terms` terms most likely under the top `fb_docs`
        chunks, each chunk weighted by its score."""
        words = self.tokenize(self.coll.texts)
        row = {cid: i for i, cid in enumerate(self.coll.ids)}
        out = {}
        for qid, terms in self.queries.items():
            top = base[qid][:fb_docs]
            if not terms or not top:
                out[qid] = base[qid]
                continue
            total = sum(s for _, s in top)
            relevance: dict[str, float] = {}
            for cid, score in top:
                doc = words[row[cid]] or [""]
                for term in doc:
                    relevance[term] = relevance.get(term, 0.0) + score / total / len(doc)
            expansion = sorted(relevance.items(), key=lambda x: -x[1])[:fb_terms]
            mass = sum(v for _, v in expansion) or 1.0
            weights = {t: weight / len(terms) for t in terms}
            for term, value in expansion:
                weights[term] = weights.get(term, 0.0) + (1 - weight) * value / mass
            scores = sum(w * self.scores([t], doc_weight) for t, w in weights.items() if t)
            out[qid] = [(c, s) for c, s in _top(scores, self.coll.ids) if s > 0]
        return out


def dense_rankings(coll: Collection) -> dict[tuple, dict[str, Ranked]]:
    """(backend, Rocchio weight, document weight): a chunk's cosine, after Rocchio feedback
    on the query vector, plus a share of its document's (the normalised mean of the
    document's chunk vectors)."""
    out = {}
    qids = list(coll.queries)
    rows = np.array(document_rows([coll.source_of[cid] for cid in coll.ids]))
    for backend, beta in itertools.product(("int8", "fp32"), ROCCHIO):
        matrix, queries = coll.vectors[backend], coll.query_vectors[backend]
        documents = np.zeros((rows.max() + 1, matrix.shape[1]), dtype=np.float32)
        np.add.at(documents, rows, matrix)
        documents /= np.linalg.norm(documents, axis=1, keepdims=True)
        scores = queries @ matrix.T
        if beta:
            n = min(3, len(coll.ids))
            top = np.argpartition(-scores, n - 1, axis=1)[:, :n]
            queries = queries + beta * matrix[top].mean(axis=1)
            queries /= np.linalg.norm(queries, axis=1, keepdims=True)
            scores = queries @ matrix.T
        by_document = (queries @ documents.T)[:, rows]
        for weight in DENSE_DOC_WEIGHTS:
            out[(backend, beta, weight)] = {
                qid: _top(row + weight * doc, coll.ids)
                for qid, row, doc in zip(qids, scores, by_document)}
    return out


def fuse(dense: dict[str, Ranked], bm25: dict[str, Ranked], setting: tuple) -> dict[str, Ranked]:
    kind, value = setting
    out = {}
    for qid in dense:
        d, b = dense[qid], bm25[qid]
        if kind == "rrf":
            out[qid] = reciprocal_rank_fusion([[c for c, _ in d], [c for c, _ in b]], k=value)
        else:  # convex, as retriever.search does it
            out[qid] = convex_combination([d, b], [value, 1 - value],
                                          [None, 0.0 if len(b) < FETCH else None])
    return out


def choose(table: dict[tuple, dict[str, dict[str, float]]], gains_over: dict[str, dict]) -> dict:
    """table: setting -> collection -> split -> nDCG. gains_over: collection -> split -> naive.
    Picks by train gain: on each collection alone, and the best worst case over all (ties to
    the best mean)."""
    names = list(gains_over)
    gain = lambda s, c, split: table[s][c][split] - gains_over[c][split]
    picks = {}
    for c in names:
        best = max(table, key=lambda s: gain(s, c, "train"))
        picks[f"chosen on {c}"] = {"setting": best, **{
            o: {"train gain": round(gain(best, o, "train"), 4),
                "test": table[best][o]["test"], "test gain": round(gain(best, o, "test"), 4)}
            for o in names}}
    # the best worst case; a tie goes to the better mean
    best = max(table, key=lambda s: (round(min(gain(s, c, "train") for c in names), 4),
                                     sum(gain(s, c, "train") for c in names)))
    picks["default (best worst case)"] = {"setting": best, **{
        o: {"train gain": round(gain(best, o, "train"), 4), "test": table[best][o]["test"],
            "test gain": round(gain(best, o, "test"), 4)} for o in names}}
    return picks


def evaluate(names: list[str], data_dir: Path, cache_dir: Path) -> dict:
    started = time.perf_counter()
    colls = [load_collection(n, data_dir, cache_dir) for n in names]
    result: dict = {"collections": [c.name for c in colls],
                    "naive": {c.name: c.naive for c in colls}, "components": {}}
    naive = lambda method: {c.name: {s: c.naive[s][method]["ndcg@10"] for s in SPLITS}
                            for c in colls}
    tables: dict[str, dict] = {}

    def stage(name: str, rankings: dict[tuple, dict[str, dict[str, Ranked]]], method: str):
        tables[name] = {s: {c.name: c.score(rankings[s][c.name]) for c in colls}
                        for s in rankings}
        result["components"][name] = choose(tables[name], naive(method))
        return result["components"][name]["default (best worst case)"]["setting"]

    # BM25: variant, parameters and document evidence together (one index per variant gives
    # every document weight); then stemming at the pick; then RM3 feedback on that.
    grid, scorers = {}, {}
    for method, k1, b in itertools.product(BM25_METHODS, K1S, BS):
        for c in colls:
            for w, ranked in Bm25(c, method, k1, b, True).rankings(DOC_WEIGHTS).items():
                grid.setdefault((method, k1, b, True, w), {})[c.name] = ranked
    method, k1, b, _, w = stage("bm25", grid, "bm25")
    around = {(method, k1, b, True, w): grid[(method, k1, b, True, w)]}
    for stem in (True, False):
        for c in colls:
            scorers[(stem, c.name)] = Bm25(c, method, k1, b, stem)
            around.setdefault((method, k1, b, stem, w), {})[c.name] = \
                scorers[(stem, c.name)].rankings([w])[w]
    bm25_pick = stage("bm25 stemming", around, "bm25")
    feedback = {bm25_pick: around[bm25_pick], ("rm3",) + bm25_pick: {
        c.name: scorers[(bm25_pick[3], c.name)].rm3(around[bm25_pick][c.name], bm25_pick[4])
        for c in colls}}
    bm25_final = stage("bm25 feedback", feedback, "bm25")

    dense = {c.name: dense_rankings(c) for c in colls}
    dense_pick = stage("dense", {s: {c.name: dense[c.name][s] for c in colls}
                                 for s in dense[colls[0].name]}, "dense")
    fusions = [("convex", w) for w in DENSE_WEIGHTS] + [("rrf", k) for k in RRF_KS]
    stage("fusion", {f: {c.name: fuse(dense[c.name][dense_pick], feedback[bm25_final][c.name], f)
                         for c in colls} for f in fusions}, "hybrid")
    result["tables"] = {k: {json.dumps(s): v for s, v in t.items()} for k, t in tables.items()}
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def markdown(result: dict) -> str:
    lines = ["# Retrieval settings chosen across collections", ""]
    for comp, picks in result["components"].items():
        lines += [f"## {comp}", "", "| pick | setting | " + " | ".join(
            f"{c} train gain | {c} test | {c} test gain" for c in result["collections"]) + " |",
            "|---" * (2 + 3 * len(result["collections"])) + "|"]
        for pick, row in picks.items():
            cells = [f"{row[c]['train gain']:+.4f} | {row[c]['test']:.4f} | "
                     f"{row[c]['test gain']:+.4f}" for c in result["collections"]]
            lines.append(f"| {pick} | {row['setting']} | " + " | ".join(cells) + " |")
        lines.append("")
    lines.append("Naive baseline nDCG@10: " + json.dumps(
        {c: {s: {m: v["ndcg@10"] for m, v in r.items()} for s, r in by.items()}
         for c, by in result["naive"].items()}))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m evals tune-retrieval", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--collections", nargs="+",
                        default=["../shared/data/retrieval/scifact", "squad"],
                        help="BEIR folders with train and test qrels, or `squad`")
    parser.add_argument("--data-dir", type=Path, default=Path("build/evals/index"))
    parser.add_argument("--cache-dir", type=Path, default=Path("build/evals/cache"))
    parser.add_argument("--out", type=Path, default=Path("build/evals/tune-retrieval"))
    args = parser.parse_args(argv)
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    result = evaluate(args.collections, args.data_dir, args.cache_dir)
    write_report(args.out, "tune-retrieval", result, markdown(result))
