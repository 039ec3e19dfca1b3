"""How well passages answer a question, and how well they support an answer's sentences.

Scores mix meaning and wording, both in [0, 1]: the cosine similarity of sentence embeddings
(the ingest embedder, no extra model) and the share of content words found in the evidence.
- Question → sentence (abstention, extractive answers): 0.3 * cosine + 0.7 * share of the
  question's words, weighted by rarity (IDF), found in the sentence or its heading (not the
  word after "how": "How large are the chunks?" is answered by "200 tokens"). Rare words
  are what tell the passage that answers apart from its neighbours on the same topic; the
  weights were chosen on SQuAD (`python -m evals answers --calibrate`). A sentence that
  quotes the question (an FAQ entry, "try asking …") counts half: it asks, it does not answer.
- Answer sentence → cited passage (grounding): the best window of three neighbouring
  sentences, scored 0.5 * cosine with its middle sentence + 0.5 * share of the claim's words
  found in the window; a number the passage lacks means no support. A window, not the whole
  passage: a claim stitched from words of distant sentences is not supported.
Sentence vectors are cached, so a passage is embedded once however often it is retrieved.

With a cross-encoder (`relevance`: retrieval.reranker) and answer.relevance_weight w > 0, the
best few sentences by that score are rescored: each sentence with its neighbours is read
together with the question, and the score becomes (1 - w) * the score above + w * the model's
probability that the window answers the question. Off by default: no cross-encoder available
offline improved the answer/decline decision on SQuAD tune articles (docs/answers.md).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from chat.text import (content_terms, letters, numbers, question_terms, split_sentences,
                       strip_markers)
from chat.types import Source

Embed = Callable[[list[str]], list[list[float]]]
Idf = Callable[[list[str]], dict[str, float]]
Relevance = Callable[[str, Sequence[str]], list[float]]  # (question, texts) -> logits
CACHE_SIZE = 20_000
QUESTION_COSINE_WEIGHT = 0.3
RESCORED = 8  # sentences the cross-encoder reads per question
ASKS_ITSELF = 0.5


@dataclass(frozen=True)
class SentenceMatch:
    source: int  # source number ([n])
    text: str
    score: float
    index: int = 0  # the sentence's position among its source's sentences
    heading: str = ""  # the heading the sentence stands under (in the chunk, or its section)
    passage: str = ""  # a line of a code block: the whole block and the line leading into it


_FENCE = re.compile(r"^```")
_HEADING_WORDS = 10


def sentence_context(text: str, sentences: Sequence[str],
                     section: str = "") -> list[tuple[str, str]]:
    """(heading, passage) for each of `sentences` (split_sentences(text), in order): the
    nearest heading above the sentence (a line standing alone as a paragraph without closing
    punctuation, as chunks hold their headings, else the last part of `section`; a heading
    line's own heading is itself), and for a sentence inside a fenced code block or leading
    into one (ending with ":"), that block whole with the line before it; the same for a
    list with the line that leads into it (chunks keep them as one paragraph). Written
    here because chunk text keeps headings and code only as lines (ingest.chunking)."""
    lines = text.splitlines()
    fallback = section.split(" > ")[-1] if section else ""
    heading, fenced, block, lead_in = fallback, False, [], ""
    by_line: list[tuple[str, int | None]] = []  # per line: heading, block number
    blocks: list[str] = []
    for number, line in enumerate(lines):
        stripped = line.strip()
        if _FENCE.match(stripped):
            if not fenced:
                before = [n for n in range(number) if lines[n].strip()]
                lead_in = ""
                if before and lines[before[-1]].rstrip().endswith(":") and \
                        by_line[before[-1]][1] is None:
                    lead_in = lines[before[-1]].strip()  # it is quoted with its block
                    by_line[before[-1]] = (by_line[before[-1]][0], len(blocks))
                block = [line]
                blocks.append("")
            else:
                block.append(line)
                blocks[-1] = (lead_in + "\n" if lead_in else "") + "\n".join(block)
            fenced = not fenced
            by_line.append((heading, len(blocks) - 1))
            continue
        if fenced:
            block.append(line)
            blocks[-1] = (lead_in + "\n" if lead_in else "") + "\n".join(block)
            by_line.append((heading, len(blocks) - 1))
            continue
        alone = (not lines[number - 1].strip() if number else True) and (
            number + 1 == len(lines) or not lines[number + 1].strip())
        if alone and stripped and len(stripped.split()) <= _HEADING_WORDS and \
                not stripped.endswith((".", "!", "?", ":", ";", ",")):
            heading = stripped
        by_line.append((heading, None))
    _lists_with_lead_ins(lines, by_line, blocks)
    out, cursor = [], 0
    for sentence in sentences:
        while cursor < len(lines) and sentence not in lines[cursor].strip(" \t-*•>"):
            cursor += 1
        if cursor >= len(lines):
            out.append((fallback, ""))
            cursor = 0
            continue
        here, number = by_line[cursor]  # a heading line's heading is itself
        out.append((here, blocks[number] if number is not None else ""))
    return out


@dataclass(frozen=True)
class Support:
    score: float
    index: int  # middle sentence of the best window
    terms: frozenset[str]  # content terms of that window (and the section)


def coverage(claim: frozenset[str], evidence: frozenset[str],
             weights: dict[str, float] | None = None) -> float:
    """Share of `claim`'s terms found in `evidence`, optionally weighted per term."""
    if not claim:
        return 0.0
    if weights is None:
        return len(claim & evidence) / len(claim)
    total = sum(weights[t] for t in claim)
    return sum(weights[t] for t in claim & evidence) / total if total else 0.0


def _lists_with_lead_ins(lines: list[str], by_line: list, blocks: list[str]) -> None:
    """A paragraph of several lines whose first line ends with ":" (a lead-in and its list,
    as ingest.chunking joins them) becomes one block, quoted whole."""
    start = 0
    while start < len(lines):
        end = start
        while end < len(lines) and lines[end].strip():
            end += 1
        run = range(start, end)
        if len(run) >= 2 and lines[start].rstrip().endswith(":") and all(
                by_line[n][1] is None for n in run):
            blocks.append("\n".join(lines[n].strip() for n in run))
            for n in run:
                by_line[n] = (by_line[n][0], len(blocks) - 1)
        start = end + 1


class EvidenceScorer:
    def __init__(self, embed: Embed, idf: Idf | None = None, relevance: Relevance | None = None,
                 relevance_weight: float = 0.0) -> None:
        self._embed = embed
        self._idf = idf
        self._relevance = relevance if relevance_weight > 0 else None
        self.relevance_weight = relevance_weight
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

    def source_sentences(self, sources: Sequence[Source]) -> list[tuple[Source, int, str]]:
        return [(s, i, sentence) for s in sources
                for i, sentence in enumerate(split_sentences(s.text))]

    def idf(self, terms: frozenset[str]) -> dict[str, float] | None:
        return self._idf(sorted(terms)) if self._idf and terms else None

    def rank(self, question: str, sources: Sequence[Source]) -> list[SentenceMatch]:
        """Every sentence of the sources, best answer to `question` first."""
        pairs = self.source_sentences(sources)
        if not pairs:
            return []
        vectors = self.vectors([question] + [sentence for _, _, sentence in pairs])
        cosines = np.clip(vectors[1:] @ vectors[0], 0.0, 1.0)
        asked = question_terms(question)
        weights = self.idf(asked)
        w = QUESTION_COSINE_WEIGHT
        matches = []
        asking = letters(question)
        context = {s.number: sentence_context(s.text, split_sentences(s.text), s.section)
                   for s in sources}
        for (source, index, sentence), cosine in zip(pairs, cosines):
            heading, passage = context[source.number][index]
            # A name given only in the heading ("Client.drain()") is the sentence's subject.
            known = content_terms(sentence) | content_terms(source.section) | \
                content_terms(heading)
            score = w * float(cosine) + (1 - w) * coverage(asked, known, weights)
            if len(asking) > 12 and asking in letters(sentence):
                score *= ASKS_ITSELF  # a sentence that quotes the question does not answer it
            matches.append(SentenceMatch(source.number, sentence, round(score, 4), index,
                                         heading, passage))
        matches.sort(key=lambda m: -m.score)
        if self._relevance is not None:
            matches = self._rescored(question, matches, sources)
        return matches

    def _rescored(self, question: str, matches: list[SentenceMatch],
                  sources: Sequence[Source]) -> list[SentenceMatch]:
        """The best RESCORED sentences blended with the cross-encoder's view of their
        windows; the rest keep their score (they rank below: scores only fall)."""
        head, tail = matches[:RESCORED], matches[RESCORED:]
        split = {s.number: split_sentences(s.text) for s in sources}
        windows = [" ".join(split[m.source][max(0, m.index - 1):m.index + 2]) for m in head]
        logits = self._relevance(question, windows)
        w = self.relevance_weight
        head = [replace(m, score=round((1 - w) * m.score + w * _sigmoid(logit), 4))
                for m, logit in zip(head, logits)]
        cap = min((m.score for m in head), default=0.0)
        tail = [replace(m, score=min(m.score, cap)) for m in tail]
        return sorted(head, key=lambda m: -m.score) + tail

    def support(self, claim: str, source: Source) -> float:
        """How well one passage supports one answer sentence, in [0, 1]."""
        return self.support_window(claim, source).score

    def support_window(self, claim: str, source: Source) -> Support:
        """The window of three neighbouring sentences of `source` that supports `claim`
        best, and its score in [0, 1]."""
        return max(self.support_windows(claim, source), key=lambda w: w.score,
                   default=Support(0.0, 0, frozenset()))

    def support_windows(self, claim: str, source: Source) -> list[Support]:
        """How well each window of three neighbouring sentences of `source` supports
        `claim` (one per middle sentence; none when the passage lacks the claim's
        numbers)."""
        claim = strip_markers(claim)
        sentences = split_sentences(source.text)
        if not claim or not sentences:
            return []
        # A number the passage does not contain is the commonest small-model invention (one
        # that only names the file or page, "the 04-asking.md file", invents nothing).
        if not numbers(_without_label(claim, source)) <= numbers(
                f"{source.text} {source.section}"):
            return []
        vectors = self.vectors([claim] + sentences)
        cosines = np.clip(vectors[1:] @ vectors[0], 0.0, 1.0)
        terms = [content_terms(sentence) for sentence in sentences]
        section = content_terms(source.section)
        claimed = content_terms(claim)
        windows = []
        for i, cosine in enumerate(cosines):
            window = frozenset().union(*terms[max(0, i - 1):i + 2]) | section
            windows.append(Support(round(0.5 * float(cosine) + 0.5 * coverage(claimed, window),
                                         4), i, window))
        return windows


def _without_label(claim: str, source: Source) -> str:
    """`claim` without mentions of its source's file name and page ("p. 12", "page 12")."""
    claim = claim.replace(source.file_name, " ")
    if source.page:
        claim = re.sub(rf"\b(?:page|p\.)\s*{source.page}\b", " ", claim, flags=re.I)
    return claim


def _sigmoid(x: float) -> float:
    return float(1 / (1 + np.exp(-x)))
