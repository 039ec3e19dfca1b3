"""Grounding check: is each answer sentence supported by the passages it cites?

`GroundingChecker` is the small interface; `EvidenceGroundingChecker` implements it with the
models available offline (embedding similarity + lexical overlap, see chat.evidence). A
stronger checker (an NLI model, an LLM judge) can replace it without touching the pipeline.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from chat.citations import MARKER
from chat.evidence import EvidenceScorer
from chat.text import content_terms, split_sentences
from chat.types import SentenceSupport, Source

_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class Claim:
    text: str
    cited: tuple[int, ...]


def claims(answer: str) -> list[Claim]:
    """The answer's sentences with the source numbers each one cites."""
    out = []
    for sentence in split_sentences(answer):
        cited = tuple(dict.fromkeys(
            int(n) for marker in MARKER.findall(sentence) for n in _NUMBER.findall(marker)
        ))
        out.append(Claim(sentence, cited))
    return out


class GroundingChecker(Protocol):
    def check(self, claims: Sequence[Claim], sources: Sequence[Source]) -> list[SentenceSupport]:
        ...


class EvidenceGroundingChecker:
    def __init__(self, scorer: EvidenceScorer, threshold: float) -> None:
        self.scorer = scorer
        self.threshold = threshold

    def check(self, claims: Sequence[Claim], sources: Sequence[Source]) -> list[SentenceSupport]:
        by_number = {s.number: s for s in sources}
        results = []
        for claim in claims:
            if not content_terms(claim.text):  # "Yes." has nothing to check
                results.append(SentenceSupport(claim.text, claim.cited, None, 0.0, None))
                continue
            # A sentence is checked against what it cites; an uncited one against every source.
            candidates = [by_number[n] for n in claim.cited if n in by_number] or list(sources)
            scored = [(self.scorer.support(claim.text, s), s.number) for s in candidates]
            score, best = max(scored, default=(0.0, None))
            supported = score >= self.threshold
            results.append(
                SentenceSupport(claim.text, claim.cited, supported, score,
                                best if supported else None)
            )
        return results
