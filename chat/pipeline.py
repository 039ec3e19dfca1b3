"""The answering pipeline: retrieve → prompt with numbered sources → stream → parse citations.

It yields typed events (SourcesEvent, TokenEvent..., AnswerEvent); the CLI and the web chat
only render them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Protocol

from chat.citations import parse_citations
from chat.config import GeneratorConfig
from chat.generators.base import Generator
from chat.prompt import build_prompt
from chat.repetition import trim_repetition
from chat.types import Answer, AnswerEvent, Event, Source, SourcesEvent, TokenEvent
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


class Retriever(Protocol):
    def retrieve(
        self, query: str, k: int | None = None, filters: SearchFilter | None = None
    ) -> list[RetrievedChunk]: ...


class ChatPipeline:
    def __init__(self, retriever: Retriever, generator: Generator, config: GeneratorConfig):
        self.retriever = retriever
        self.generator = generator
        self.config = config

    def ask(
        self, question: str, *, k: int | None = None, filters: SearchFilter | None = None
    ) -> Iterator[Event]:
        question = question.strip()
        if not question:
            raise DocchatError("The question is empty: type a question.")
        started = time.perf_counter()
        chunks = self.retriever.retrieve(question, k=k, filters=filters)
        timings = {"retrieve_s": time.perf_counter() - started}
        if not chunks:
            text = NO_MATCH_WITH_FILTERS if filters and not filters.empty else NO_DOCUMENTS
            yield SourcesEvent(())
            yield AnswerEvent(Answer(question, text, (), (), abstained=True,
                                     timings=_rounded(timings, started)))
            return

        candidates = [Source.from_chunk(i, c) for i, c in enumerate(chunks, start=1)]
        prompt = build_prompt(
            question,
            candidates,
            count_tokens=self.generator.count_tokens,
            budget=self.config.context_tokens,
        )
        warnings: list[str] = []
        if prompt.dropped:
            warnings.append(
                f"{prompt.dropped} of {len(candidates)} sources did not fit the prompt budget "
                f"(generator.context_tokens = {self.config.context_tokens}) and were left out."
            )
        yield SourcesEvent(prompt.sources)

        text = ""
        stream = self.generator.stream(
            prompt.messages,
            max_new_tokens=self.config.max_new_tokens,
            temperature=self.config.temperature,
        )
        try:
            for piece in stream:
                if not text:
                    timings["first_token_s"] = time.perf_counter() - started
                text += piece
                yield TokenEvent(piece)
                trimmed = trim_repetition(text)
                if trimmed is not None:
                    text = trimmed
                    break
        finally:
            stream.close()  # stops the backend's generation when we leave early

        parsed = parse_citations(text, {s.number for s in prompt.sources})
        if parsed.invalid:
            listed = ", ".join(f"[{n}]" for n in parsed.invalid)
            warnings.append(f"The answer cited sources that do not exist ({listed}); removed.")
        if not parsed.cited:
            warnings.append("The answer cites no source; all sources it was given are listed.")
        answer = Answer(
            question=question,
            text=parsed.text,
            cited=parsed.cited,
            sources=prompt.sources,
            warnings=tuple(warnings),
            timings=_rounded(timings, started),
        )
        yield AnswerEvent(answer)


def _rounded(timings: dict[str, float], started: float) -> dict[str, float]:
    timings["total_s"] = time.perf_counter() - started
    return {k: round(v, 4) for k, v in timings.items()}
