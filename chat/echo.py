"""Where a small model's answer should end: before it echoes the prompt, and after a few
sentences.

The 135M model often answers in its first sentence, then copies a source header ("[2]
guide.md — Install"), a "Question:" line or a whole passage. Generation stops there, and
what could be the start of such an echo is held back from the stream until it is clear, so
the reader never sees text that is then taken away.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from chat.text import split_sentences, unfinished_tail

# Labels of the prompt's parts, and what models add after an answer.
_LABELS = ("question", "questions", "excerpt", "excerpts", "source", "sources", "answer",
           "context", "passage", "passages", "best matching passage", "note", "user",
           "assistant", "documents")
_LABEL_LINE = re.compile(r"(?im)^[ \t>*#]*(" + "|".join(_LABELS) + r")\s*\d*\s*:")
_HEADER = re.compile(r"(?m)^[ \t]*\[\d+\]\s+\S")  # "[2] guide.md — ..." at a line start
_LEADING_LABEL = re.compile(r"^\s*(answer|response)\s*:\s*", re.I)
# How models begin to say they found no answer. Such a reply becomes a near miss once it is
# complete (chat.pipeline), so it is held back from the stream while it may be one: the
# reader never sees "I don't know" flash up and be replaced.
REFUSAL_OPENINGS = ("i don't know", "i do not know", "i don’t know", "i'm sorry", "sorry",
                    "i cannot", "i can't", "i am not sure", "i'm not sure",
                    "there is no information", "no information", "the documents do not",
                    "the excerpts do not", "the context does not", "the provided excerpts do not",
                    "the provided context does not", "the provided documents do not")


@dataclass(frozen=True)
class AnswerEnd:
    max_sentences: int = 3
    echoes: tuple[str, ...] = ()  # prompt lines an echo would repeat (question, headers)

    @classmethod
    def for_prompt(cls, question: str, headers: Sequence[str], max_sentences: int) -> "AnswerEnd":
        return cls(max_sentences, tuple(e for e in (question, *headers) if len(e) >= 12))

    def cut(self, text: str) -> str | None:
        """The answer to keep if generation should stop now, else None."""
        ends = [m.start() for m in _LABEL_LINE.finditer(text) if m.start() > 0]
        ends += [m.start() for m in _HEADER.finditer(text) if m.start() > 0]
        ends += [i for i in (text.find(e) for e in self.echoes) if i > 0]
        kept = text[:min(ends)] if ends else text
        sentences = split_sentences(kept)
        if len(sentences) > self.max_sentences:  # a further sentence has begun
            last = sentences[self.max_sentences - 1]
            kept = kept[:kept.find(last) + len(last)]
        elif not ends:
            return None
        else:  # a sentence the echo broke off says half a thing ("…, because vectors from")
            kept = unfinished_tail(kept) or kept
        return kept.rstrip()

    def holdback(self, text: str) -> int:
        """How many characters at the end of `text` to keep from the stream for now: a line
        that may become an echo, or a sentence past the limit that will be cut."""
        start = text.rfind("\n") + 1
        line = text[start:]
        if may_refuse(text):
            return len(text)
        if start == 0:
            # Nothing is cut at the very start (see `cut`): only a leading "Answer:", which
            # tidy() drops, is worth holding; anything else streams at once.
            if _LEADING_LABEL.match(line) or any(
                    label.startswith(line.strip().lower()) for label in ("answer", "response")
                    if line.strip()):
                return len(line)
        elif line and (_could_become(line) or any(e.startswith(line.strip())
                                                  for e in self.echoes if line.strip())):
            return len(line)
        sentences = split_sentences(text)
        if len(sentences) > self.max_sentences:
            last = sentences[self.max_sentences - 1]
            return len(text) - (text.find(last) + len(last))
        return 0


# A sentence that only says where the answer is written ("This is mentioned in the excerpt
# [1].", "This information can be found in [2]."): capable models add one after an answer. It
# states nothing to check, so it would count as an unsupported claim; its markers belong to
# the sentence before it.
_POINTER = re.compile(
    r"([.!?])\s+(?:this|that|it|the (?:answer|information|fact))\b[^.!?\[\n]{0,40}?"
    r"\b(?:mentioned|found|stated|given|provided|listed|written|described)\s+(?:in|from)\s+"
    r"(?:the\s+)?(?:(?:provided|given)\s+)?(?:excerpts?|sources?|context|passages?|documents?"
    r"|text)?\s*((?:\[\d+\][ ,]*)*)\s*(?:[.!](?=\s|$)|$)", re.I)


def tidy(text: str) -> str:
    """An "Answer:" label the model put first, and a closing sentence that only points at
    its sources, say nothing."""
    text = _LEADING_LABEL.sub("", text, count=1).strip()
    return _POINTER.sub(lambda m: (f" {m.group(2).strip(' ,')}" if m.group(2) else "")
                        + m.group(1), text).strip()


def _could_become(line: str) -> bool:
    """Whether a line's beginning may still turn into a prompt label or source header."""
    stripped = line.lstrip(" \t>*#").lower()
    if not stripped:
        return True
    if re.match(r"^\[\d*\]?\s*$", stripped):
        return True
    return len(stripped) < 24 and any(label.startswith(stripped.rstrip(": ")) or
                                      stripped.rstrip().startswith(label)
                                      for label in _LABELS)


def may_refuse(text: str) -> bool:
    """Whether `text` is, or may still become, a reply that says it found no answer."""
    said = " ".join(tidy(text).lower().split())
    return bool(said) and any(o.startswith(said) or said.startswith(o) for o in REFUSAL_OPENINGS)
