"""Typed data the answering pipeline emits: sources, citations, the answer, stream events."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

from ingest.chunking import read_outline
from retriever.types import RetrievedChunk

# What an answer is: the documents answer (a generated answer, checked), they may not (the
# closest passage is quoted, visibly marked, and no claim is made), or nothing matches.
Outcome = Literal["answer", "near_miss", "no_match"]


@dataclass(frozen=True)
class Source:
    """A retrieved chunk as shown to the user, numbered as in the prompt ([1], [2], ...)."""

    number: int
    chunk_id: str
    source: str
    file_name: str
    page: int | None
    section: str
    text: str
    score: float
    # Where each section begins in `text`, for a chunk that spans several ("offset\tpath"
    # lines, ingest.chunking): internal, not shown (public()).
    outline: str = field(default="", repr=False)

    @classmethod
    def from_chunk(cls, number: int, chunk: RetrievedChunk) -> "Source":
        meta = chunk.document.metadata
        return cls(
            number=number,
            chunk_id=meta["chunk_id"],
            source=meta["source"],
            file_name=meta.get("file_name", meta["source"]),
            page=meta.get("page"),
            section=meta.get("section", ""),
            text=chunk.document.page_content,
            score=round(chunk.score, 4),
            outline=meta.get("outline", ""),
        )

    def section_at(self, offset: int) -> str:
        """The heading path at character `offset` of the text: the chunk's section, or for
        a chunk that spans several, the one `offset` falls in."""
        return next((path for start, path in reversed(read_outline(self.outline))
                     if start <= offset), self.section)

    def public(self) -> dict:
        """The source as shown to users and API clients."""
        data = asdict(self)
        del data["outline"]
        return data

    @property
    def label(self) -> str:
        return f"{self.file_name}, p. {self.page}" if self.page else self.file_name


@dataclass(frozen=True)
class SentenceSupport:
    """The grounding check's verdict on one sentence of an answer."""

    text: str
    cited: tuple[int, ...]  # source numbers the sentence cites
    supported: bool | None  # None: nothing checkable in it ("Yes.")
    score: float  # best support score among the passages it was checked against
    supported_by: int | None = None  # the source number that supports it (best, or the one
    # through which it rests on a sentence that matches the question: chat.grounding)
    problem: str = ""  # why it is not supported, for the reader


@dataclass(frozen=True)
class Answer:
    question: str
    text: str  # the answer shown: generated (invalid markers removed), or a marked near miss
    cited: tuple[int, ...]  # source numbers the answer cites, in order of first use
    sources: tuple[Source, ...]  # every source the answer was built from
    outcome: Outcome = "answer"
    extractive: bool = False  # `text` quotes source sentences instead of the generated answer
    query: str = ""  # what was searched: the question, condensed with the conversation
    evidence: float | None = None  # best question-sentence match in the sources, in [0, 1]
    generated: str = ""  # the generator's text, also when it was replaced
    sentences: tuple[SentenceSupport, ...] = ()  # grounding verdicts on `generated`
    warnings: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    summary_of: str = ""  # a whole-document answer: the source it summarises (chat.summary)
    judged: float | None = None  # chat.judge: the model's P(yes) that the excerpts answer
    verified: float | None = None  # chat.judge: its P(yes) that they state the written answer
    certainty: float | None = None  # chat.judge: how sure it was of its answer's first tokens

    @property
    def abstained(self) -> bool:
        """No claim is made: a near miss or nothing matching."""
        return self.outcome != "answer"

    @property
    def unsupported(self) -> tuple[SentenceSupport, ...]:
        return tuple(s for s in self.sentences if s.supported is False)

    @property
    def citations(self) -> tuple[Source, ...]:
        by_number = {s.number: s for s in self.sources}
        return tuple(by_number[n] for n in self.cited)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["abstained"] = self.abstained
        data["cited"] = list(self.cited)
        data["sources"] = [s.public() for s in self.sources]
        data["sentences"] = [asdict(s) for s in self.sentences]
        return data


@dataclass(frozen=True)
class SourcesEvent:
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class TokenEvent:
    text: str


@dataclass(frozen=True)
class AnswerEvent:
    answer: Answer


@dataclass(frozen=True)
class WarningEvent:
    text: str


Event = SourcesEvent | TokenEvent | WarningEvent | AnswerEvent
