"""Calibrate answer.abstain_below and answer.support_threshold on SQuAD, without generating.

Abstention: evidence scores of answerable questions (gold paragraph indexed) against withheld
ones (gold paragraph removed). Support: a claim made of the question and its gold answer,
checked against the gold paragraph (supported) and against another paragraph of the same
article that lacks the answer (unsupported). Each threshold maximises balanced accuracy.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from chat.app import DocChat
from chat.types import Source
from evals.squad import Paragraph, Question, Squad, contains_answer

STEPS = [i / 100 for i in range(101)]


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


def as_source(p: Paragraph) -> Source:
    return Source(1, p.id, p.id, p.id, None, p.title, p.text, 1.0)


def support_pairs(squad: Squad, questions: list[Question], seed: int) -> tuple[list, list]:
    rng = random.Random(seed)
    by_article: dict[str, list[Paragraph]] = {}
    for p in squad.paragraphs.values():
        by_article.setdefault(p.title, []).append(p)
    positive, negative = [], []
    for q in questions:
        gold = squad.paragraphs[q.paragraph_id]
        claim = f"{q.text.rstrip(' ?')}: {q.answers[0]}."
        others = [p for p in by_article[gold.title]
                  if p.id != gold.id and not contains_answer(p.text, q.answers)]
        if others:
            positive.append((claim, as_source(gold)))
            negative.append((claim, as_source(rng.choice(others))))
    return positive, negative


def calibrate(app: DocChat, squad: Squad, answerable: list[Question],
              withheld: list[Question], withheld_run: Callable) -> dict:
    answerable_scores = [evidence(app, q.text) for q in answerable]
    withheld_scores = withheld_run(app, squad, withheld, lambda q: evidence(app, q.text))
    positive, negative = support_pairs(squad, answerable, seed=0)
    support = lambda pairs: [app.scorer.support(claim, source) for claim, source in pairs]
    return {
        "abstain_below": best_threshold(answerable_scores, withheld_scores),
        "support_threshold": best_threshold(support(positive), support(negative)),
        "evidence_scores": {"answerable": answerable_scores, "withheld": withheld_scores},
    }
