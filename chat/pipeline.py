"""The answering pipeline: condense → retrieve → check the evidence → prompt with numbered
sources → stream → parse citations → check every sentence against its sources.

It yields typed events (SourcesEvent, TokenEvent..., WarningEvent..., AnswerEvent); the CLI,
the web chat and the API only render them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from typing import Protocol

from chat.citations import parse_citations
from chat.condense import Message, condense_query
from chat.config import AnswerConfig, GeneratorConfig
from chat.evidence import EvidenceScorer, SentenceMatch
from chat.extractive import extractive_answer, quote
from chat.generators.base import Generator
from chat.grounding import EvidenceGroundingChecker, GroundingChecker, claims
from chat.prompt import Prompt, build_prompt, check_fits
from chat.repetition import trim_repetition
from chat.scheduling import CURRENT, GATE, Ticket
from chat.types import (
    Answer,
    AnswerEvent,
    Event,
    SentenceSupport,
    Source,
    SourcesEvent,
    TokenEvent,
    WarningEvent,
)
from ingest.errors import DocchatError
from retriever.types import RetrievedChunk, SearchFilter

NO_DOCUMENTS = (
    "Your documents don't say: nothing in the index matches this question. "
    "Ingest documents first (`docchat ingest PATH`)."
)
NO_MATCH_WITH_FILTERS = (
    "Your documents don't say: no indexed passage matches this question within the "
    "files, folders or file types you selected."
)
NOT_ANSWERED = (
    "Your documents don't say: none of the passages found answers this question. "
    "The closest ones are listed as sources."
)
EVIDENCE_LABEL = "Best matching passage:"
MODEL_ABSTAINED_NOTE = (
    "The model did not find the answer, but these source sentences match the question closely."
)
# How small models say "not in the sources".
_MODEL_ABSTAINS = re.compile(
    r"\b(do(es)?\s*(n[o’']?t)\s+(say|mention|contain|provide|specify|include)|"
    r"(no|not enough) information|not (mentioned|provided|specified|stated)|"
    r"can ?(no|')t (answer|find|be determined)|i (do not|don'?t) know)", re.I,
)


class Retriever(Protocol):
    def retrieve(
        self, query: str, k: int | None = None, filters: SearchFilter | None = None
    ) -> list[RetrievedChunk]: ...


class ChatPipeline:
    def __init__(
        self,
        retriever: Retriever,
        generator: Generator,
        config: GeneratorConfig,
        answer_config: AnswerConfig | None = None,
        scorer: EvidenceScorer | None = None,
        checker: GroundingChecker | None = None,
    ):
        self.retriever = retriever
        self.generator = generator
        self.config = config
        self.answer_config = answer_config or AnswerConfig()
        # Without a scorer (no embedder) there is no abstention, grounding or extractive answer.
        self.scorer = scorer
        if checker is None and scorer is not None:
            checker = EvidenceGroundingChecker(scorer, self.answer_config.support_threshold)
        self.checker = checker

    def ask(
        self,
        question: str,
        *,
        k: int | None = None,
        filters: SearchFilter | None = None,
        history: Sequence[Message] = (),
    ) -> Iterator[Event]:
        question = question.strip()
        if not question:
            raise DocchatError("The question is empty: type a question.")
        check_fits(question, count_tokens=self.generator.count_tokens,
                   budget=self.config.context_tokens)
        started = time.perf_counter()
        query = condense_query(question, history, self.answer_config.condense, self.generator)
        if not self.generator.local:  # a model server schedules its own work
            yield from self._answer(question, query, k, filters, started, None)
            return
        # From here until its first token, streaming answers pause for this one, and it waits
        # for its turn (chat.scheduling). (After the condensing: with condense = "llm" that is
        # a generation, which must not wait on itself.)
        ticket = GATE.enter()
        try:
            ticket.wait_for_turn()
            yield from self._answer(question, query, k, filters, started, ticket)
        finally:
            ticket.release()

    def _answer(self, question: str, query: str, k: int | None, filters: SearchFilter | None,
                started: float, ticket: Ticket | None) -> Iterator[Event]:
        chunks = self.retriever.retrieve(query, k=k, filters=filters)
        timings = {"retrieve_s": time.perf_counter() - started}
        if not chunks:
            text = NO_MATCH_WITH_FILTERS if filters and not filters.empty else NO_DOCUMENTS
            yield SourcesEvent(())
            yield AnswerEvent(Answer(question, text, (), (), abstained=True, query=query,
                                     timings=_rounded(timings, started)))
            return

        candidates = [Source.from_chunk(i, c) for i, c in enumerate(chunks, start=1)]
        prompt = build_prompt(query, candidates, count_tokens=self.generator.count_tokens,
                              budget=self.config.context_tokens)
        warnings: list[str] = []
        if prompt.dropped:
            warnings.append(
                f"{prompt.dropped} of {len(candidates)} sources did not fit the prompt budget "
                f"(generator.context_tokens = {self.config.context_tokens}) and were left out."
            )
        yield SourcesEvent(prompt.sources)

        ranked: list[SentenceMatch] = []
        if self.scorer is not None:
            ranked = self.scorer.rank(query, prompt.sources)
            timings["evidence_s"] = time.perf_counter() - started - timings["retrieve_s"]
        evidence = ranked[0].score if ranked else None
        base = dict(question=question, sources=prompt.sources, query=query, evidence=evidence)
        if evidence is not None and evidence < self.answer_config.abstain_below:
            yield from _warn(warnings)
            yield AnswerEvent(Answer(text=NOT_ANSWERED, cited=(), abstained=True,
                                     warnings=tuple(warnings),
                                     timings=_rounded(timings, started), **base))
            return

        generated = yield from self._generate(prompt, timings, started, ticket)
        parsed = parse_citations(generated, {s.number for s in prompt.sources})
        if parsed.invalid:
            listed = ", ".join(f"[{n}]" for n in parsed.invalid)
            warnings.append(f"The answer cited sources that do not exist ({listed}); removed.")
        sentences = self.checker.check(claims(parsed.text), prompt.sources) if self.checker else []
        text, cited, extractive = self._final_text(parsed.text, parsed.cited, sentences,
                                                   ranked, warnings)
        yield from _warn(warnings)
        yield AnswerEvent(Answer(
            text=text, cited=cited, extractive=extractive, generated=parsed.text,
            sentences=tuple(sentences), warnings=tuple(warnings),
            timings=_rounded(timings, started), **base,
        ))

    def _generate(self, prompt: Prompt, timings: dict[str, float], started: float,
                  ticket: Ticket | None):
        text = ""
        CURRENT.set(ticket)  # read by the backend when the stream starts (chat.scheduling)
        stream = self.generator.stream(prompt.messages, max_new_tokens=self.config.max_new_tokens,
                                       temperature=self.config.temperature)
        try:
            for piece in stream:
                if not text:
                    timings["first_token_s"] = time.perf_counter() - started
                    if ticket is not None:
                        ticket.release()
                text += piece
                yield TokenEvent(piece)
                trimmed = trim_repetition(text)
                if trimmed is not None:
                    text = trimmed
                    break
        finally:
            stream.close()  # stops the backend's generation when we leave early
        return text

    def _final_text(
        self,
        text: str,
        cited: tuple[int, ...],
        sentences: list[SentenceSupport],
        ranked: list[SentenceMatch],
        warnings: list[str],
    ) -> tuple[str, tuple[int, ...], bool]:
        """The answer to show: the generated one, or quoted sentences when it cannot stand."""
        checked = [s for s in sentences if s.supported is not None]
        unsupported = [s for s in checked if not s.supported]
        if ranked and (not text or _MODEL_ABSTAINS.search(text)):
            warnings.append(MODEL_ABSTAINED_NOTE)
            return (*extractive_answer(ranked), True)
        share = len(unsupported) / len(checked) if checked else 0.0
        if ranked and share > self.answer_config.extractive_fallback:
            warnings.append(
                f"{len(unsupported)} of {len(checked)} sentences of the generated answer are not "
                "supported by the sources, so the source sentences that match the question "
                "best are quoted instead."
            )
            return (*extractive_answer(ranked), True)
        if unsupported:
            listed = "; ".join(f"“{s.text}”" for s in unsupported)
            warnings.append(f"Not supported by the cited sources, check these: {listed}")
        text, added = _add_citations(text, sentences)
        if added:
            warnings.append(
                f"{added} sentence(s) cited nothing; docchat added the source that supports each."
            )
        cited = tuple(dict.fromkeys([*cited, *(s.supported_by for s in sentences
                                                if not s.cited and s.supported_by)]))
        if not cited:
            warnings.append("The answer cites no source; all sources it was given are listed.")
        if self.answer_config.quote_evidence and ranked and ranked[0].text not in text:
            text = f"{text}\n\n{EVIDENCE_LABEL} {quote(ranked[0])}"
            cited = tuple(dict.fromkeys([*cited, ranked[0].source]))
        return text, cited, False


def _add_citations(text: str, sentences: Sequence[SentenceSupport]) -> tuple[str, int]:
    """Append [n] to supported sentences that cite nothing; n is the source that supports them."""
    added = 0
    for s in sentences:
        if s.cited or not s.supported_by or s.text not in text:
            continue
        body, punctuation = re.match(r"(.*?)([.!?…]*)$", s.text, re.S).groups()
        text = text.replace(s.text, f"{body} [{s.supported_by}]{punctuation}", 1)
        added += 1
    return text, added


def _warn(warnings: list[str]) -> Iterator[WarningEvent]:
    return (WarningEvent(w) for w in warnings)


def _rounded(timings: dict[str, float], started: float) -> dict[str, float]:
    timings["total_s"] = time.perf_counter() - started
    return {k: round(v, 4) for k, v in timings.items()}
