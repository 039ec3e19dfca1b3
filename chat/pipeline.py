"""The answering pipeline: condense → retrieve → score the evidence → prompt with the best
excerpts → stream (stopping at echoes of the prompt) → parse citations → check every sentence
against its sources and the question.

Every answer has one of three outcomes (chat.types.Outcome): "answer" (generated, checked,
cited), "near_miss" (the documents may not answer: the closest passage is quoted and marked,
no claim is made; also when the model finds no answer or its answer fails the checks) or
"no_match" (nothing in the documents matches). The evidence score decides before anything is
generated; only an answer costs a generation. A question about a whole file ("summarise
X") skips retrieval: chat.summary answers it from all of the file's chunks.

It yields typed events (SourcesEvent, TokenEvent..., WarningEvent..., AnswerEvent); the CLI,
the web chat and the API only render them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Protocol

from chat.citations import add_citations, correct_citations, parse_citations
from chat.condense import Message, condense_query
from chat.config import AnswerConfig, GeneratorConfig
from chat.evidence import EvidenceScorer, SentenceMatch
from chat.extractive import extractive_answer
from chat.generators.base import Generator
from chat.grounding import EvidenceGroundingChecker, GroundingChecker, claims
from chat.judge import certainty, confidence, judge_messages, verify_messages, yes_share
from chat.echo import AnswerEnd, may_refuse, tidy, without_empty_blocks
from chat.prompt import Prompt, build_evidence_prompt, build_prompt, check_fits
from chat.repetition import trim_repetition
from chat.scheduling import CURRENT, GATE, Ticket
from chat.summary import Summariser, asks_summary, sections, summary_target
from chat.text import asks_for_number, bare_marker, fenced_lines, gives_number
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
    "Nothing in your documents matches: the index is empty. "
    "Ingest documents first (`docchat ingest PATH`)."
)
NO_MATCH_WITH_FILTERS = (
    "Nothing in your documents matches: no indexed passage matches this question within the "
    "files, folders or file types you selected."
)
NO_MATCH = (
    "Nothing in your documents matches this question. The passages that came closest are "
    "listed as sources."
)
NEAR_MISS = "Your documents may not answer this. The closest passage is:"
WARM_UP_QUESTION, WARM_UP_TEXT = "Is docchat ready?", "docchat is ready to answer."
EVIDENCE_LABEL = "Best matching passage:"
MODEL_ABSTAINED = "The model found no answer in the passages."
JUDGED_NO = "The model judged that the passages do not answer this."
NOT_VERIFIED = ("The model's answer is not shown: checked against the passages, the model "
                "doubts that they state it.")
UNSURE = ("The model's answer is not shown: the model was unsure of it and of whether the "
          "passages answer the question.")
NO_NUMBER = "The model's answer is not shown: the question asks for a number and it gives none."
UNSUPPORTED_ANSWER = ("The model's answer is not shown: {count} of {total} sentences failed "
                      "the check against the sources ({reasons}).")
FIRST_UNSUPPORTED = ("The model's answer is not shown: its first sentence, the direct answer, "
                     "failed the check against the sources ({reason}).")
# How small models say "not in the sources".
MODEL_ABSTAINS = re.compile(
    r"\b(do(es)?\s*(n[o’']?t)\s+(say|mention|contain|provide|specify|include|answer)|"
    r"(no|not enough) information|not (mentioned|provided|specified|stated|found)|"
    r"can ?(no|')t (answer|find|be determined)|i (do not|don'?t) know)", re.I,
)


class Retriever(Protocol):
    def retrieve(
        self, query: str, k: int | None = None, filters: SearchFilter | None = None
    ) -> list[RetrievedChunk]: ...


class Library(Protocol):
    """Whole files, for whole-document questions (retriever.search.Retriever is one)."""

    def sources(self, filters: SearchFilter | None = None) -> list[str]: ...

    def chunks_of(self, source: str) -> list[RetrievedChunk]: ...


class ChatPipeline:
    def __init__(
        self,
        retriever: Retriever,
        generator: Generator,
        config: GeneratorConfig,
        answer_config: AnswerConfig | None = None,
        scorer: EvidenceScorer | None = None,
        checker: GroundingChecker | None = None,
        library: Library | None = None,
    ):
        self.retriever = retriever
        self.library = library  # None: whole-document questions are searched like others
        self.generator = generator
        self.config = config
        self.answer_config = answer_config or AnswerConfig()
        # The thresholds, context and checks for this model (chat.profiles).
        self.profile = self.answer_config.profile(config)
        # Without a scorer (no embedder) there is no abstention, grounding or extractive answer.
        self.scorer = scorer
        if checker is None and scorer is not None:
            checker = EvidenceGroundingChecker(scorer, self.profile.support_threshold,
                                               self.profile.checks)
        self.checker = checker
        self.summariser = Summariser(generator, checker, self.answer_config.summary)

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
        if self.library is not None and asks_summary(question):
            target = summary_target(question, self.library.sources(filters))
            parts = sections(self.library.chunks_of(target)) if target else []
            if parts:  # (none: the file went away meanwhile; search as for any question)
                yield from self.summariser.answer(question, target, parts, started, ticket)
                return
        chunks = self.retriever.retrieve(query, k=k, filters=filters)
        timings = {"retrieve_s": time.perf_counter() - started}
        if not chunks:
            text = NO_MATCH_WITH_FILTERS if filters and not filters.empty else NO_DOCUMENTS
            yield SourcesEvent(())
            yield AnswerEvent(Answer(question, text, (), (), outcome="no_match", query=query,
                                     timings=_rounded(timings, started)))
            return

        sources = [Source.from_chunk(i, c) for i, c in enumerate(chunks, start=1)]
        ranked: list[SentenceMatch] = []
        if self.scorer is not None:
            ranked = self.scorer.rank(query, sources)
            timings["evidence_s"] = time.perf_counter() - started - timings["retrieve_s"]
        prompt = self.prompt(query, sources, ranked)
        warnings: list[str] = []
        if prompt.dropped:
            warnings.append(
                f"{prompt.dropped} of {len(sources)} sources did not fit the prompt budget "
                f"(generator.context_tokens = {self.config.context_tokens}) and were left out."
            )
        yield SourcesEvent(prompt.sources)

        evidence = ranked[0].score if ranked else None
        base = dict(question=question, sources=prompt.sources, query=query, evidence=evidence)
        cfg = self.profile
        if evidence is not None and evidence < cfg.answer_above:
            yield from _warn(warnings)
            if evidence < cfg.nothing_below:
                answer = Answer(text=NO_MATCH, cited=(), outcome="no_match", **base,
                                warnings=tuple(warnings), timings=_rounded(timings, started))
            else:
                answer = _near_miss(ranked, base, warnings, timings, started)
            yield AnswerEvent(answer)
            return

        judging = time.perf_counter()
        judged = self._judge(prompt)
        if judged is not None:
            timings["judge_s"] = time.perf_counter() - judging
            base["judged"] = judged
            # Below judge_below, or so low that even a certain check or a certain answer could
            # not lift the two signals' mean to verify_below or sure_below: a near miss
            # without writing an answer.
            if (cfg.judge_below is not None and judged < cfg.judge_below) or any(
                    below is not None and confidence(judged, 1.0) < below
                    for below in (cfg.verify_below, cfg.sure_below)):
                warnings.append(JUDGED_NO)
                yield from _warn(warnings)
                yield AnswerEvent(_near_miss(ranked, base, warnings, timings, started))
                return
        end = AnswerEnd.for_prompt(query, prompt.headers, cfg.max_sentences)
        margins: list[float] = []
        generated = yield from self._generate(prompt, end, timings, started, ticket, margins)
        base["certainty"] = certainty(margins)
        generated = tidy(generated)
        parsed = parse_citations(generated, {s.number for s in prompt.sources})
        if parsed.invalid:
            listed = ", ".join(f"[{n}]" for n in parsed.invalid)
            warnings.append(f"The answer cited sources that do not exist ({listed}); removed.")
        sentences = self.checker.check(claims(parsed.text), prompt.sources, question=query,
                                       relevant=ranked) if self.checker else []
        refusal = self._refusal(parsed.text, sentences, query) if ranked else None
        if refusal is None and ranked:
            refusal = self._verify(prompt, parsed.text, base, timings)
        if refusal is None and ranked:
            refusal = self._unsure(base)
        if refusal is not None:
            warnings.append(refusal)
            yield from _warn(warnings)
            yield AnswerEvent(replace(_near_miss(ranked, base, warnings, timings, started),
                                      generated=parsed.text, sentences=tuple(sentences)))
            return
        text, cited = self._checked_text(parsed.text, parsed.cited, sentences, ranked, warnings)
        yield from _warn(warnings)
        yield AnswerEvent(Answer(
            text=text, cited=cited, generated=parsed.text, sentences=tuple(sentences),
            warnings=tuple(warnings), timings=_rounded(timings, started), **base,
        ))

    def warm_up(self) -> None:
        """Do before the first question what it would otherwise wait for (~1.7 s of its first
        token on 2 cores): open the indexes, run the embedder once, and have a local model
        read the prompt's shared beginning, which its backend caches."""
        self.retriever.retrieve(WARM_UP_QUESTION)
        sources = [Source(number=1, chunk_id="warm-up", source="warm-up", file_name="warm-up",
                          page=None, section="", text=WARM_UP_TEXT, score=1.0)]
        ranked = self.scorer.rank(WARM_UP_QUESTION, sources) if self.scorer else []
        if not self.generator.local:  # a model server: nothing to prepare here
            return
        prompt = self.prompt(WARM_UP_QUESTION, sources, ranked)
        stream = self.generator.stream(prompt.messages, max_new_tokens=1, temperature=0.0)
        try:
            next(stream, None)
        finally:
            stream.close()

    def _judge(self, prompt: Prompt) -> float | None:
        """The model's P(yes) that its excerpts answer (chat.judge), when the profile asks
        (judge_below, or verify_below and sure_below, which weigh it with the check or the
        certainty) and the backend can tell."""
        ask = getattr(self.generator, "next_token_probabilities", None)
        asked = (self.profile.judge_below, self.profile.verify_below, self.profile.sure_below)
        if all(below is None for below in asked) or ask is None:
            return None
        return yes_share(ask(judge_messages(prompt.messages)))

    def _unsure(self, base: dict) -> str | None:
        """UNSURE when the mean of the judge's P(yes) and the model's certainty over its
        answer's first tokens (chat.judge) is below sure_below. Only when the profile asks;
        a backend that reports neither decides nothing here."""
        mean = confidence(base.get("judged"), base.get("certainty"))
        if self.profile.sure_below is None or mean is None or mean >= self.profile.sure_below:
            return None
        return UNSURE

    def _verify(self, prompt: Prompt, text: str, base: dict,
                timings: dict[str, float]) -> str | None:
        """NOT_VERIFIED when the model, shown its answer beside its excerpts, doubts they
        state it: chat.judge.confidence of this check and the judge is below verify_below.
        Only when the profile asks and the backend can tell."""
        ask = getattr(self.generator, "next_token_probabilities", None)
        if self.profile.verify_below is None or ask is None:
            return None
        checking = time.perf_counter()
        verified = yes_share(ask(verify_messages(prompt.messages, text)))
        timings["verify_s"] = time.perf_counter() - checking
        base["verified"] = verified
        mean = confidence(base.get("judged"), verified)
        if mean is not None and mean < self.profile.verify_below:
            return NOT_VERIFIED
        return None

    def prompt(self, query: str, sources: list[Source], ranked: list[SentenceMatch]) -> Prompt:
        """What the model reads for `query` (answer.context decides which kind)."""
        count, budget, cfg = self.generator.count_tokens, self.config.context_tokens, self.profile
        if cfg.context == "evidence" and ranked:
            return build_evidence_prompt(query, sources, ranked, count_tokens=count,
                                         budget=budget, sentences=cfg.evidence_sentences,
                                         neighbours=cfg.evidence_neighbours, style=cfg.prompt)
        return build_prompt(query, sources, count_tokens=count, budget=budget, style=cfg.prompt)

    def _generate(self, prompt: Prompt, end: AnswerEnd, timings: dict[str, float],
                  started: float, ticket: Ticket | None, margins: list[float]):
        """Stream the model's answer; stop at an echo of the prompt, past the sentence limit,
        or at a repeat. Text that may yet be cut is held back from the stream. The tokens'
        probability margins, where the backend reports them, go to `margins`."""
        text, shown = "", 0
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
                margins.extend(getattr(piece, "margins", ()))
                cut = trim_repetition(text)
                if cut is None:
                    cut = end.cut(text)
                if cut is not None:
                    text = cut
                    break
                safe = len(text) - end.holdback(text)
                if safe > shown:
                    yield TokenEvent(text[shown:safe])
                    shown = safe
        finally:
            stream.close()  # stops the backend's generation when we leave early
        if len(text) > shown and not may_refuse(text):  # a refusal becomes a near miss
            yield TokenEvent(text[shown:])
        return text

    def _refusal(self, text: str, sentences: list[SentenceSupport],
                 question: str = "") -> str | None:
        """Why a generated answer is not shown as an answer, or None when it stands."""
        if not text or MODEL_ABSTAINS.search(text):
            return MODEL_ABSTAINED
        checked = [s for s in sentences if s.supported is not None]
        failed = [s for s in checked if not s.supported]
        if not checked:
            return None if not self.checker else MODEL_ABSTAINED
        if len(failed) / len(checked) > self.profile.max_unsupported:
            reasons = "; ".join(dict.fromkeys(s.problem for s in failed))
            return UNSUPPORTED_ANSWER.format(count=len(failed), total=len(checked),
                                             reasons=reasons)
        if checked[0].supported is False and self.answer_config.drop_unsupported:
            # The first sentence is the direct answer ("Yes, …", "The exit status is 5.");
            # without it the rest is an explanation or a pointer ("This is stated in …").
            return FIRST_UNSUPPORTED.format(reason=checked[0].problem)
        kept = " ".join(s.text for s in sentences if s.supported is not False)
        if ("number_question" in self.profile.checks and asks_for_number(question)
                and not gives_number(kept)):
            return NO_NUMBER  # "How many stations …?" "The stations were run by ABC."
        return None

    def _checked_text(
        self,
        text: str,
        cited: tuple[int, ...],
        sentences: list[SentenceSupport],
        ranked: list[SentenceMatch],
        warnings: list[str],
    ) -> tuple[str, tuple[int, ...]]:
        """The generated answer with markers added where docchat found the support, the
        remaining doubts as warnings, and the best matching passage quoted after it."""
        unsupported = [s for s in sentences if s.supported is False]
        if unsupported:
            listed = "; ".join(f"“{s.text}” ({s.problem})" for s in unsupported)
            if self.answer_config.drop_unsupported:
                for s in unsupported:
                    text = text.replace(s.text, "", 1)
                text = without_empty_blocks(_squeezed(text)).strip()
                cited = _kept_citations(sentences)
                warnings.append(f"Left out of the answer, as the sources do not support them: "
                                f"{listed}")
            else:
                warnings.append(f"Not supported by the cited sources, check these: {listed}")
        text, sentences, moved = correct_citations(text, sentences)
        if moved:
            warnings.append(f"{moved} sentence(s) cited a source that does not say it; docchat "
                            "cited the source that does.")
            cited = _kept_citations(sentences)
        # A sentence that cites nothing gets the marker of the source that supports it: said
        # by the marker itself, not by a warning on nearly every answer.
        text, _ = add_citations(text, sentences)
        cited = tuple(dict.fromkeys([*cited, *(s.supported_by for s in sentences
                                                if not s.cited and s.supported_by)]))
        if not cited:
            warnings.append("The answer cites no source; all sources it was given are listed.")
        # The passage to check the answer against, quoted only when its citations did not
        # hold: a marker docchat had to move, a doubtful sentence left in, or none at all.
        doubtful = moved or not cited or (unsupported and not self.answer_config.drop_unsupported)
        quoted, quoted_from = extractive_answer(ranked, besides=text) \
            if self.profile.quote_evidence and doubtful else ("", ())
        if quoted:
            text = f"{text}\n\n{EVIDENCE_LABEL} {quoted}"
            cited = tuple(dict.fromkeys([*cited, *quoted_from]))
        return text, cited


def _near_miss(ranked: list[SentenceMatch], base: dict, warnings: list[str],
               timings: dict[str, float], started: float) -> Answer:
    """The closest passage, quoted and cited, marked as possibly not an answer."""
    quoted, cited = extractive_answer(ranked)
    return Answer(text=f"{NEAR_MISS}\n{quoted}", cited=cited, outcome="near_miss",
                  extractive=True, warnings=tuple(warnings),
                  timings=_rounded(timings, started), **base)


def _squeezed(text: str) -> str:
    """`text` after sentences were left out of it: outside code blocks (whose spacing is the
    code's), the double spaces a sentence leaves between its neighbours made single (not in
    indentation), and the lines of list items it emptied dropped."""
    code = fenced_lines(text)
    lines = (line if number in code else re.sub(r"(?<=\S)[ \t]{2,}", " ", line).rstrip()
             for number, line in enumerate(text.split("\n")))
    return "\n".join(line for number, line in enumerate(lines)
                     if number in code or not bare_marker(line))


def _kept_citations(sentences: Sequence[SentenceSupport]) -> tuple[int, ...]:
    """The sources cited by the sentences that did not fail the check, in order."""
    return tuple(dict.fromkeys(n for s in sentences if s.supported is not False
                               for n in s.cited))


def _warn(warnings: list[str]) -> Iterator[WarningEvent]:
    return (WarningEvent(w) for w in warnings)


def _rounded(timings: dict[str, float], started: float) -> dict[str, float]:
    timings["total_s"] = time.perf_counter() - started
    return {k: round(v, 4) for k, v in timings.items()}
