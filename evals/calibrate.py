"""Calibrate answer.answer_above, answer.nothing_below and answer.support_threshold, without
generating.

- answer_above: the evidence score that best separates answerable questions from the
  unanswerable groups pooled (best balanced accuracy);
- nothing_below: the highest score under which at most NOTHING_SHARE of the answerable
  questions fall (they then still get a near miss, not "nothing matches");
- support_threshold (SQuAD only): a claim made of the question and its gold answer, checked
  against the answering paragraph (supported) and against another paragraph of the same
  article that lacks the answer (not supported); best balanced accuracy.
"""

from __future__ import annotations

import random

from chat.app import DocChat
from chat.types import Source
from evals.qa_sets import QASet

STEPS = [i / 100 for i in range(101)]
NOTHING_SHARE = 0.01


def evidence(app: DocChat, question: str) -> float:
    chunks = app.retriever.retrieve(question)
    sources = [Source.from_chunk(i, c) for i, c in enumerate(chunks, start=1)]
    ranked = app.scorer.rank(question, sources)
    return ranked[0].score if ranked else 0.0


def best_threshold(positives: list[float], negatives: list[float]) -> dict:
    """The cut that best separates positives (>= cut) from negatives (< cut)."""
    def rates(cut: float) -> tuple[float, float]:
        return (sum(p >= cut for p in positives) / len(positives),
                sum(n < cut for n in negatives) / len(negatives))

    cut = max(STEPS, key=lambda c: sum(rates(c)))
    kept, rejected = rates(cut)
    return {"threshold": cut, "positives_kept": round(kept, 4),
            "negatives_rejected": round(rejected, 4),
            "balanced_accuracy": round((kept + rejected) / 2, 4)}


def low_cut(positives: list[float], share: float = NOTHING_SHARE) -> dict:
    """The highest cut with at most `share` of the positives under it."""
    cut = max((c for c in STEPS if sum(p < c for p in positives) <= share * len(positives)),
              default=0.0)
    return {"threshold": cut,
            "positives_below": round(sum(p < cut for p in positives) / len(positives), 4)}


def support_pairs(app: DocChat, qa: QASet, seed: int = 0) -> tuple[list, list]:
    """(claim, source) pairs from SQuAD: the answering paragraph and a neighbour without the
    answer. Empty for sets without paragraphs."""
    paragraphs = qa.notes.get("paragraphs")
    if not paragraphs:
        return [], []
    rng = random.Random(seed)
    positive, negative = [], []
    for item in qa.answerable:
        gold = paragraphs[item.document]
        others = [p for p in paragraphs.values() if p.title == gold.title and p.id != gold.id
                  and not any(a.lower() in p.text.lower() for a in item.answers)]
        if others:
            claim = f"{item.question.rstrip(' ?')}: {item.answers[0]}."
            positive.append((claim, _as_source(gold)))
            negative.append((claim, _as_source(rng.choice(others))))
    return positive, negative


def _as_source(p) -> Source:
    return Source(1, p.id, p.id, p.id, None, p.title, p.text, 1.0)


def calibrate(app: DocChat, qa: QASet) -> dict:
    answerable = [evidence(app, item.question) for item in qa.answerable]
    groups = {}
    for name, (items, context) in qa.unanswerable.items():
        with context(app):
            groups[name] = [evidence(app, item.question) for item in items]
    pooled = [s for scores in groups.values() for s in scores]
    result = {
        "answer_above": best_threshold(answerable, pooled),
        "nothing_below": low_cut(answerable),
        "per_group": {name: best_threshold(answerable, scores)
                      for name, scores in groups.items()},
        "evidence_scores": {"answerable": answerable, **groups},
    }
    positive, negative = support_pairs(app, qa)
    if positive:
        support = lambda pairs: [app.scorer.support(claim, source) for claim, source in pairs]
        result["support_threshold"] = best_threshold(support(positive), support(negative))
    return result
