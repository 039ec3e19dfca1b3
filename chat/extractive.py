"""The extractive answer: the source sentences that match the question best, quoted and cited.

Shown as a near miss (the documents may not answer; also when the model's answer fails the
checks), and after a generated answer as the passage to check it against.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from chat.evidence import SentenceMatch
from chat.text import content_terms, letters, strip_markers

MAX_SENTENCES = 2
# Quote a second sentence when it scores at least this share of the first. Chosen on SQuAD
# tune articles (400 questions, seed 5, evidence ranking only): the two quoted sentences hold
# the answer for 0.843 of questions at 0.7 against 0.812 at 0.9, for 10 more words.
CLOSE_SECOND = 0.7
HEADING_WORDS = 8
_WORDS_ONLY = re.compile(r"[^\W\d_][^\W\d_ ,'’&/()-]*(?:[ ,'’&/()-]+[^\W\d_]+)*[)]?")


def extractive_answer(ranked: Sequence[SentenceMatch],
                      besides: str = "") -> tuple[str, tuple[int, ...]]:
    """Quoted sentences with [n] markers, and the source numbers they cite. A sentence that
    `besides` (an answer that copied it) already says is not quoted again."""
    chosen: list[SentenceMatch] = []
    # A heading in a chunk's text splits off as a "sentence" of its own: it says nothing. A
    # line of code out of its block (a lone `"json": {`, a bare command) misleads.
    candidates = [m for m in ranked if not _heading(m.text) and not _fragment(m)
                  and m.text.strip() != m.heading.strip()] or list(ranked[:1])
    for match in candidates:
        if len(chosen) == MAX_SENTENCES or match.score < CLOSE_SECOND * candidates[0].score:
            break
        if all(_unit(match) != _unit(c) for c in chosen):  # overlapping chunks repeat them
            chosen.append(match)
    said = letters(strip_markers(besides))
    chosen = [m for m in chosen if not said or letters(strip_markers(m.text)) not in said]
    text = "\n".join(quote(m) for m in chosen)
    return text, tuple(dict.fromkeys(m.source for m in chosen))


def _heading(text: str) -> bool:
    """A short line of words only, without closing punctuation: "Where things are stored"
    (not a table row, a command or a number)."""
    text = strip_markers(text)
    return len(text.split()) <= HEADING_WORDS and bool(_WORDS_ONLY.fullmatch(text))


_CODE_LINE = re.compile(r"^(\$ |>>> |#|//|!!!|\?\?\?|:::|```)|[{\[(,\\]$")


def _fragment(match: SentenceMatch) -> bool:
    """A line of code that is not quoted as its whole block: a fence, a comment, a prompt,
    an opening bracket, a site-markup line."""
    return not match.passage and bool(_CODE_LINE.search(match.text.strip()))


def _unit(match: SentenceMatch) -> str:
    """What is quoted: a code block whole with the line leading into it, else the sentence."""
    return match.passage or match.text


def quote(match: SentenceMatch) -> str:
    # A document's own footnote marks ("1968,[1]") would read as docchat citations.
    if match.passage and "```" not in match.passage:  # a list and its lead-in
        text = strip_markers(match.passage)
    elif match.passage:  # code keeps its brackets ("harborline[socks]"): only prose is stripped
        lead_in, fence, code = match.passage.partition("```")
        text = (strip_markers(lead_in.rstrip()) + "\n" if lead_in.strip() else "") + fence + code
    else:
        text = strip_markers(match.text)
    # A name given only in the heading ("Client.drain()") would be lost from the sentence.
    heading = match.heading.strip()
    if heading and not match.passage and not content_terms(heading) <= content_terms(text):
        return f"{heading}: “{text}” [{match.source}]"
    return f"“{text}” [{match.source}]"
