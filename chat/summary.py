"""Whole-document questions: "summarise report.pdf", "what is this file about?".

Four retrieved passages cannot answer a question about a whole file, so such a question is
answered from every chunk of the file, in order: the chunks are grouped into the file's
sections (by heading; by page when it has none), each section gets one sentence (map), and
the sentences are listed in document order, each citing its section (reduce). A section's
sentence is its opening sentence ("extractive", the default), or one the model writes
("generated") that must pass the grounding check against the section, else the opening
sentence stands. There is no second generation over the list: a small model rewriting it
drops sections. Each section's line streams as soon as it is done.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import PurePath

from langchain_core.documents import Document

from chat.echo import tidy
from chat.generators.base import Generator
from chat.grounding import GroundingChecker, claims
from chat.scheduling import CURRENT, Ticket
from chat.text import split_sentences, strip_markers
from chat.types import Answer, AnswerEvent, Event, Source, SourcesEvent, TokenEvent, WarningEvent
from ingest.chunking import SECTION_SEP, read_outline
from retriever.types import RetrievedChunk

# "summarise X", "give me an overview of X", "tl;dr", "what is this file about?"
ASKS_SUMMARY = re.compile(
    r"\b(summari[sz]e|summari[sz]ing|summary|overview|outline|tl;?dr|gist|main points|"
    r"key points)\b|\bwhat(?:'s| is| are)\b[^?]*\babout\s*\??\s*$",
    re.I,
)
# "this file", "the document": the question is about the one file in scope.
THIS_FILE = re.compile(r"\b(this|the|that)\s+(file|document|doc|pdf|paper|report|page|text|"
                       r"chapter|book|article)\b", re.I)
MAX_SECTIONS = 24  # lines in a summary; longer files are summarised by larger sections
MIN_WORDS = 6  # a section's opening "sentence" shorter than this is a label, not a sentence


@dataclass(frozen=True)
class Section:
    heading: str
    chunks: tuple[RetrievedChunk, ...]

    @property
    def text(self) -> str:
        return "\n".join(c.document.page_content for c in self.chunks)


def asks_summary(question: str) -> bool:
    """Whether the question is worded as one about a whole document (cheap: checked first)."""
    return bool(ASKS_SUMMARY.search(question))


def summary_target(question: str, sources: Sequence[str]) -> str | None:
    """The source a whole-document question is about, or None when the question is not one
    (or names no single file): it then goes through retrieval like any other."""
    if not asks_summary(question):
        return None
    asked = question.lower()
    named: dict[str, int] = {}
    for source in sources:
        for name in _names(source):
            if re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", asked):
                named[source] = max(named.get(source, 0), len(name))
    if named:
        longest = max(named.values())
        best = [s for s, n in named.items() if n == longest]
        return best[0] if len(best) == 1 else None
    if len(sources) == 1 and THIS_FILE.search(question):
        return sources[0]
    return None


def _names(source: str) -> set[str]:
    path = PurePath(source)
    names = {path.name.lower()}
    stem = path.stem.lower()
    if len(stem) >= 4:
        names |= {stem, re.sub(r"[-_]+", " ", stem)}
    return names


def sections(chunks: Sequence[RetrievedChunk]) -> list[Section]:
    """The file's chunks grouped into at most MAX_SECTIONS consecutive sections: by the
    deepest heading level that keeps within that number, else by page, else in equal parts."""
    chunks = [part for chunk in chunks for part in _by_outline(chunk)]
    if not chunks:
        return []
    paths = [tuple(p for p in c.document.metadata.get("section", "").split(SECTION_SEP) if p)
             for c in chunks]
    for depth in range(max(len(p) for p in paths), 0, -1):
        groups = _consecutive(chunks, [p[:depth] for p in paths])
        # One heading everywhere (a document title) says nothing: try a finer level first.
        if len(groups) <= MAX_SECTIONS and (len(groups) > 1 or depth == 1):
            return [Section(key[-1] if key else _page_label(group), tuple(group))
                    for key, group in groups]
    pages = [c.document.metadata.get("page") for c in chunks]
    if any(p is not None for p in pages):
        groups = _consecutive(chunks, pages)
        if len(groups) <= MAX_SECTIONS:
            return [Section(_page_label(group), tuple(group)) for _, group in groups]
    size = -(-len(chunks) // MAX_SECTIONS)
    return [Section(_page_label(chunks[i:i + size]) or f"Part {i // size + 1}",
                    tuple(chunks[i:i + size])) for i in range(0, len(chunks), size)]


def _by_outline(chunk: RetrievedChunk) -> list[RetrievedChunk]:
    """A chunk that holds several sections (metadata "outline", ingest.chunking), as one
    piece per section; any other chunk as it is."""
    doc = chunk.document
    outline = doc.metadata.get("outline")
    if not outline:
        return [chunk]
    marks = read_outline(outline)
    ends = [offset for offset, _ in marks[1:]] + [len(doc.page_content)]
    return [RetrievedChunk(Document(id=doc.id, page_content=doc.page_content[start:end].strip(),
                                    metadata={**doc.metadata, "section": path}), chunk.score)
            for (start, path), end in zip(marks, ends) if doc.page_content[start:end].strip()]


def _consecutive(chunks, keys) -> list[tuple]:
    groups: list[tuple] = []
    for chunk, key in zip(chunks, keys):
        if groups and groups[-1][0] == key:
            groups[-1][1].append(chunk)
        else:
            groups.append((key, [chunk]))
    return groups


def _page_label(chunks: Sequence[RetrievedChunk]) -> str:
    pages = [c.document.metadata.get("page") for c in chunks]
    pages = [p for p in pages if p is not None]
    if not pages:
        return ""
    first, last = min(pages), max(pages)
    return f"p. {first}" if first == last else f"pp. {first}–{last}"


def opening_sentence(section: Section) -> str:
    """The section's first sentence that is more than a heading, a label or a table row
    (with the next one when it only introduces a list: "…three kinds:"); "" for a section
    that is only a heading."""
    sentences = [strip_markers(s) for s in split_sentences(section.text)]
    for i, sentence in enumerate(sentences):
        body = sentence.removeprefix(section.heading).strip()
        if len(body.split()) >= MIN_WORDS and " | " not in body:
            if body.endswith(":") and i + 1 < len(sentences):
                body = f"{body} {sentences[i + 1]}"
            return body
    rest = [s for s in sentences if s.strip() != section.heading]
    return rest[0] if rest else ""


SUMMARY_PROMPT = "Summarise the text in one short sentence. Use only what the text says."
SECTION_SOURCE_CHARS = 4000  # a summary's source shows this much of its section
SECTION_PROMPT_TOKENS = 300  # what the model reads of a section, in its tokens
SECTION_NEW_TOKENS = 60


def section_messages(section: Section, text: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": SUMMARY_PROMPT},
            {"role": "user", "content": f"{section.heading}\n{text}"}]


class Summariser:
    """The answer to a whole-document question, as events (chat.pipeline streams them).
    `mode`: answer.summary; `checker`: the grounding check generated lines must pass."""

    def __init__(self, generator: Generator, checker: GroundingChecker | None,
                 mode: str = "extractive") -> None:
        self.generator = generator
        self.checker = checker
        self.mode = mode

    def answer(self, question: str, target: str, parts: list[Section], started: float,
               ticket: Ticket | None) -> Iterator[Event]:
        """One line per section of `target`, in order, each citing its section; lines stream
        as they are done. Sections that are only a heading have no line."""
        openings = [opening_sentence(p) for p in parts]
        parts, openings = [p for p, o in zip(parts, openings) if o], [o for o in openings if o]
        sources = tuple(replace(Source.from_chunk(i, part.chunks[0]),
                                text=part.text[:SECTION_SOURCE_CHARS], outline="")
                        for i, part in enumerate(parts, start=1))
        yield SourcesEvent(sources)
        name = sources[0].file_name if sources else target
        lines = [f"Summary of {name}, section by section:\n"]
        yield TokenEvent(lines[0])
        generated, kept, warnings = [], 0, []
        CURRENT.set(ticket)
        for part, opening, source in zip(parts, openings, sources):
            sentence, own = self.section_sentence(part, opening, source)
            if ticket is not None:
                ticket.release()  # after the first section: the rest must not hold others up
            generated.append(own)
            kept += bool(own) and sentence != opening
            line = f"\n- {part.heading}: {sentence} [{source.number}]"
            lines.append(line)
            yield TokenEvent(line)
        if self.mode == "generated" and kept < len(parts):
            warnings.append(f"{len(parts) - kept} of {len(parts)} section sentences are the "
                            "section's opening sentence: the model's did not pass the check.")
        yield from (WarningEvent(w) for w in warnings)
        timings = {"total_s": round(time.perf_counter() - started, 4)}
        yield AnswerEvent(Answer(
            question=question, text="".join(lines), cited=tuple(s.number for s in sources),
            sources=sources, extractive=kept == 0, generated="\n".join(g for g in generated if g),
            warnings=tuple(warnings), timings=timings, summary_of=target))

    def section_sentence(self, part: Section, opening: str,
                         source: Source) -> tuple[str, str]:
        """The section's line, and what the model wrote for it (\"\" in extractive mode)."""
        if self.mode != "generated":
            return opening, ""
        count = self.generator.count_tokens
        text, used = [], 0
        for sentence in split_sentences(part.text):
            used += count(sentence) + 1
            if used > SECTION_PROMPT_TOKENS and text:
                break
            text.append(sentence)
        stream = self.generator.stream(section_messages(part, " ".join(text)),
                                       max_new_tokens=SECTION_NEW_TOKENS, temperature=0.0)
        try:
            own = tidy("".join(stream))
        finally:
            stream.close()
        first = next(iter(split_sentences(strip_markers(own))), "")
        if not first or self.checker is None:
            return opening, own
        verdict = self.checker.check(claims(first), [source])[0]
        return (first if verdict.supported else opening), own
