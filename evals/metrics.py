"""IR metrics with pytrec_eval (the trec_eval implementation BEIR uses)."""

from __future__ import annotations

from statistics import mean

import pytrec_eval

Run = dict[str, dict[str, float]]  # query id -> doc id -> score (higher first)


def ir_metrics(run: Run, qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    """nDCG@10, recall@10, recall@100 and MRR@10, averaged over the queries in qrels."""
    full = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recall.10,100"})
    mrr = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"})
    # A query with no results must still count (as 0), so it gets a placeholder document.
    run = {q: run.get(q) or {"__no_result__": 0.0} for q in qrels}
    scores = full.evaluate(run)
    top10 = {q: dict(sorted(run[q].items(), key=lambda x: -x[1])[:10]) for q in qrels}
    rr = mrr.evaluate(top10)
    return {
        "ndcg@10": round(mean(s["ndcg_cut_10"] for s in scores.values()), 4),
        "recall@10": round(mean(s["recall_10"] for s in scores.values()), 4),
        "recall@100": round(mean(s["recall_100"] for s in scores.values()), 4),
        "mrr@10": round(mean(s["recip_rank"] for s in rr.values()), 4),
    }


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]
