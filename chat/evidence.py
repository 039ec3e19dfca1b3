"""How well passages answer a question, and how well they support an answer's sentences.

Scores mix meaning and wording, both in [0, 1]: the cosine similarity of sentence embeddings
(the ingest embedder, no extra model) and the share of content words found in the evidence.
- Question → sentence (abstention, extractive answers): 0.3 * cosine + 0.7 * share of the
  question's words, weighted by rarity (IDF), found in the sentence or its heading. Rare words
  are what tell the passage that answers apart from its neighbours on the same topic; the
  weights were chosen on SQuAD (`python -m evals answers --calibrate`).
- Answer sentence → cited passage (grounding): 0.5 * best sentence cosine + 0.5 * share of
  the claim's words found in the passage; a number the passage lacks means no support.
Sentence vectors are cached, so a passage is embedded once however often it is retrieved.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from chat.text import content_terms, numbers, split_sentences, strip_markers
from chat.types import Source

Embed = Callable[[list[str]], list[list[float]]]
Idf = Callable[[list[str]], dict[str, float]]
CACHE_SIZE = 20_000
QUESTION_COSINE_WEIGHT = 0.3


@dataclass(frozen=True)
class SentenceMatch:
    source: int  # source number ([n])
    text: str
    score: float


def coverage(claim: frozenset[str], evidence: frozenset[str],
             weights: dict[str, float] | None = None) -> float:
    """Share of `claim`'s terms found in `evidence`, optionally weighted per term."""
    if not claim:
        return 0.0
    if weights is None:
        return len(claim & evidence) / len(claim)
    total = sum(weights[t] for t in claim)
    return sum(weights[t] for t in claim & evidence) / total if total else 0.0


class EvidenceScorer:
    def __init__(self, embed: Embed, idf: Idf | None = None) -> None:
        self._embed = embed
        self._idf = idf
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            for text, vector in zip(missing, self._embed(missing)):
                v = np.asarray(vector, dtype=np.float32)
                self._cache[text] = v / (np.linalg.norm(v) or 1.0)
        for text in texts:
            self._cache.move_to_end(text)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        dim = len(next(iter(self._cache.values()))) if self._cache else 0
        return np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, dim))

    def source_sentences(self, sources: Sequence[Source]) -> list[tuple[Source, str]]:
        return [(s, sentence) for s in sources for sentence in split_sentences(s.text)]

    def rank(self, question: str, sources: Sequence[Source]) -> list[SentenceMatch]:
        """Every sentence of the sources, best answer to `question` first."""
        pairs = self.source_sentences(sources)
        if not pairs:
            return []
        vectors = self.vectors([question] + [sentence for _, sentence in pairs])
        cosines = np.clip(vectors[1:] @ vectors[0], 0.0, 1.0)
        asked = content_terms(question)
        weights = self._idf(sorted(asked)) if self._idf else None
        w = QUESTION_COSINE_WEIGHT
        matches = []
        for (source, sentence), cosine in zip(pairs, cosines):
            known = content_terms(sentence) | content_terms(source.section)
            score = w * float(cosine) + (1 - w) * coverage(asked, known, weights)
            matches.append(SentenceMatch(source.number, sentence, round(score, 4)))
        return sorted(matches, key=lambda m: -m.score)

    def support(self, claim: str, source: Source) -> float:
        """How well one passage supports one answer sentence, in [0, 1]."""
        claim = strip_markers(claim)
        sentences = split_sentences(source.text)
        if not claim or not sentences:
            return 0.0
        # A number the passage does not contain is the commonest small-model invention.
        if not numbers(claim) <= numbers(source.text + " " + source.section):
            return 0.0
        vectors = self.vectors([claim] + sentences)
        cosine = float(np.clip(vectors[1:] @ vectors[0], 0.0, 1.0).max())
        known = content_terms(source.text) | content_terms(source.section)
        return round(0.5 * cosine + 0.5 * coverage(content_terms(claim), known), 4)
