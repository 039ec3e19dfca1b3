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

from chat.text import LIST_ITEM, fenced_lines, located_sentences, unfinished_tail

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
        limit = past_limit(kept, self.max_sentences)
        if limit is not None:  # a further sentence has begun
            kept = kept[:limit]
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
        limit = past_limit(text, self.max_sentences)
        return 0 if limit is None else len(text) - limit


# A how-to answer lists its steps or shows a command: an item or a code block is not a
# sentence of prose, so they have limits of their own, which still end a list that loops.
MAX_LIST_ITEMS = 10
MAX_CODE_LINES = 20
# The line being written may still become a list item or a code fence ("1" before its ".").
_MAY_BECOME_MARK = re.compile(r"^[ \t]*(?:\d{1,3}|`{1,2}|~{1,2})$")


def past_limit(text: str, max_sentences: int) -> int | None:
    """Where `text` goes past the answer's length (the end of the last sentence kept), None
    while within it: max_sentences sentences of prose, MAX_LIST_ITEMS list items or code
    blocks, MAX_CODE_LINES lines of code."""
    lines, code = text.splitlines(), fenced_lines(text)
    prose = items = code_lines = 0
    item_line, end = None, 0
    for number, offset, sentence in located_sentences(text, numbered=True):
        if number == len(lines) - 1 and not text.endswith("\n") and \
                _MAY_BECOME_MARK.match(lines[number]):
            break
        if number in code or LIST_ITEM.match(lines[number]):
            # one item per list line, one per code block (its lines run on from the last)
            items += number != item_line and not (number in code and number - 1 in code)
            code_lines += number in code and number != item_line
            item_line = number
            over = items > MAX_LIST_ITEMS or code_lines > MAX_CODE_LINES
        else:
            prose += 1
            over = prose > max_sentences
        if over:
            return end
        end = text.find(sentence, offset) + len(sentence)
    return None


# A sentence that only says where the answer is written ("This is mentioned in the excerpt
# [1].", "This information can be found in [2]."): capable models add one after an answer. It
# states nothing to check, so it would count as an unsupported claim; its markers belong to
# the sentence before it.
_POINTER = re.compile(
    r"([.!?])\s+(?:this|that|it|the (?:answer|information|fact))\b[^.!?\[\n]{0,40}?"
    r"\b(?:mentioned|found|stated|given|provided|listed|written|described)\s+(?:in|from)\s+"
    r"(?:the\s+)?(?:(?:provided|given)\s+)?(?:excerpts?|sources?|context|passages?|documents?"
    r"|text)?\s*((?:\[\d+\][ ,]*)*)\s*(?:[.!](?=\s|$)|$)", re.I)


# A code block with nothing in it (the coder model writes "the following line:" and then
# none).
_EMPTY_BLOCK = re.compile(
    r"(?m)^[ \t]*(```|~~~)[\w+-]*[ \t]*\n(?:[ \t]*\n)*[ \t]*\1[ \t]*(?:\n|\Z)")


def without_empty_blocks(text: str) -> str:
    """`text` without code blocks that hold nothing (written so, or whose every line the
    checks left out)."""
    return _EMPTY_BLOCK.sub("", text)


def tidy(text: str) -> str:
    """An "Answer:" label the model put first, a closing sentence that only points at its
    sources, and an empty code block say nothing."""
    text = without_empty_blocks(_LEADING_LABEL.sub("", text, count=1)).strip()
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
