"""Grounding check: is each answer sentence supported by the passages it cites, and is it an
answer to the question at all?

`GroundingChecker` is the small interface; `EvidenceGroundingChecker` implements it with the
models available offline (embedding similarity + lexical overlap, see chat.evidence). A
stronger checker (an NLI model, an LLM judge) can replace it without touching the pipeline.

Support alone lets nonsense through: "The document you are referring to is not found in the
index [1]" shares words with a passage about the index, and a sentence stitched from the
words of a passage about something else scores well against that passage. So a supported
sentence must also
- have most of what it adds to the question in its supporting window (NEW_SHARE): the
  question's words are in every passage that matches it, so they would carry an invented
  answer ("The Canadian Broadcasting Corporation handles substitution regulations") past the
  score;
- say something the question does not: a content word beyond the question's own (and beyond
  words about documents themselves) that one of the sources contains;
- rest on a passage sentence that matches the question (one of the best few by the evidence
  score; or the window around such a sentence supports it and has all it adds), or it
  answers something that was not asked;
- not negate what its passage says: "The server is not a server that speaks the OpenAI chat
  API" shares every word with "openai sends the question to any server that speaks the
  OpenAI chat API", so a negation its window lacks fails the sentence (unless the question
  has one: "What do beroids not have?" may get "They do not have …" from "they lack …");
- not go round in a circle: "The Sunnyside Country Club is owned by the Sunnyside Country
  Club." ends with the words it began with, and the one or two words between them (no
  number) say nothing; its passage supports every word of it;
- name no code that neither the sources nor the question contain: an option, a snake_case or
  camelCase name, a dotted path (chat.text.code_names). "The backend is chosen with
  `DOIT_BACKEND`" shares every other word with a passage that names only DOIT_CONFIG; like
  a number the passage lacks, a made-up name is what a reader would act on. Not checked in
  a code block's lines, whose examples use placeholders. (A name the documents describe
  only by a rule, "DOCCHAT_, then the setting's name", fails too: a known cost.);
- not borrow from the prompt's worked example (chat.prompt.EXAMPLES) words the sources lack:
  "The Zephyr pump comes with a search engine …" copies the example's subject. Two such
  words, not one: a single one ("holds", "seven") may be the model's own paraphrase.
A how-to answer's list items and code lines are checked like sentences; the ``` lines, and a
line that introduces them saying nothing but the question and "follow these steps", are not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from chat.citations import MARKER
from chat.evidence import EvidenceScorer, SentenceMatch, Support
from chat.profiles import ALL_CHECKS
from chat.prompt import EXAMPLES
from chat.text import (AUXILIARIES, FENCE, LIST_ITEM, STOP_WORDS, bare_marker, code_names,
                       content_terms, content_words, fenced_lines, located_sentences,
                       names_in, split_sentences, strip_markers)
from chat.types import SentenceSupport, Source

_NUMBER = re.compile(r"\d+")
# What a line that introduces a list or a code block says besides the question's words
# ("To install docchat, follow these steps:", "… you can use the following command:"):
# nothing to check. Anything else in it ("you need the `socks` extra:") is checked.
LEAD_IN_TERMS = content_terms("follow following steps step run use using need needs command "
                              "commands example examples code line lines snippet way ways "
                              "below shown here instructions procedure able")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
# Words about the documents themselves: they add nothing to an answer (stemmed).
META_TERMS = content_terms("document documents source sources passage passages text excerpt "
                           "excerpts information mention mentioned refer referring question "
                           "answer provide provided state stated say said context found")
# A supporting sentence must be among the best this many by the question's evidence score,
# and score at least this share of the best one.
ON_QUESTION_RANK = 6
ON_QUESTION_SHARE = 0.5
_NEGATION = re.compile(r"\b(not|no|never|none|nothing|nobody|neither|nor|cannot|without)\b|"
                       r"n[’']t\b", re.I)
_YES_NO = re.compile(rf"\s*({AUXILIARIES})\b", re.I)
# What the worked example is about, without the prompt's own labels.
EXAMPLE_TERMS = (content_terms(" ".join(asked + " " + answered for asked, answered in EXAMPLES))
                 - content_terms("Excerpts Question"))
RESTATES = "it only restates the question"
# Of a sentence's words beyond the question's, the share its supporting window must have: the
# question's own words are always there, so a made-up answer around them ("The Canadian
# Broadcasting Corporation (CBC) handles …" where the passage names the CRTC) scored as
# supported. Chosen on SQuAD tune (docs/answers.md).
NEW_SHARE = 2 / 3
CIRCULAR = "it ends with what it began with and says nothing between"
NEGATES = "it negates what the source says"
FROM_EXAMPLE = "it repeats the prompt's example, not the sources"
OFF_QUESTION = "it is about something the question did not ask"
UNSUPPORTED = "the sources do not say it"
INVENTS_NAME = "it names {name}, which neither the sources nor the question contain"


@dataclass(frozen=True)
class Claim:
    text: str
    cited: tuple[int, ...]
    # "To install it, follow these steps:" before a list or a code block: it introduces what
    # follows, which is checked (and is the answer that must hold); itself only when it says
    # more than the question and LEAD_IN_TERMS.
    lead_in: bool = False
    # A list item: in a list of steps, one that names what the question asks about ("3.
    # Install docchat itself.") is still a step, not an answer that only restates it.
    item: bool = False
    # A line of a fenced code block: an example, whose names may be placeholders
    # ("def task_compile():"), so check "invents_name" leaves it alone.
    code: bool = False


def claims(answer: str) -> list[Claim]:
    """The answer's sentences with the source numbers each one cites."""
    lines = answer.splitlines()
    code = fenced_lines(answer)
    out = []
    for number, _, sentence in located_sentences(answer, numbered=True):
        item = bool(LIST_ITEM.match(lines[number]))
        if FENCE.match(lines[number]) or (item and bare_marker(sentence)):
            continue  # a code block's ``` line, an item's "1." (after no ":"): nothing said
        cited = tuple(dict.fromkeys(
            int(n) for marker in MARKER.findall(sentence) for n in _NUMBER.findall(marker)
        ))
        following = next((line for line in lines[number + 1:] if line.strip()), "")
        lead_in = strip_markers(sentence).endswith(":") and bool(
            LIST_ITEM.match(following) or FENCE.match(following))
        out.append(Claim(sentence, cited, lead_in, item, number in code))
    return out


class GroundingChecker(Protocol):
    def check(self, claims: Sequence[Claim], sources: Sequence[Source], *, question: str = "",
              relevant: Sequence[SentenceMatch] = ()) -> list[SentenceSupport]:
        """A verdict per claim. `relevant`: the sources' sentences ranked by how well they
        answer `question` (chat.evidence)."""
        ...


class EvidenceGroundingChecker:
    def __init__(self, scorer: EvidenceScorer, threshold: float,
                 checks: frozenset[str] = ALL_CHECKS) -> None:
        self.scorer = scorer
        self.threshold = threshold
        self.checks = checks  # the rules applied (chat.profiles: chosen per model)

    def check(self, claims: Sequence[Claim], sources: Sequence[Source], *, question: str = "",
              relevant: Sequence[SentenceMatch] = ()) -> list[SentenceSupport]:
        by_number = {s.number: s for s in sources}
        asked = content_terms(question) | META_TERMS
        known = asked.union(*(content_terms(f"{s.label} {s.section} {s.text}") for s in sources))
        # Where a name of code the answer gives must come from (check "invents_name").
        written = "\n".join([question, *(f"{s.label} {s.section} {s.text}" for s in sources)])
        question_negates = bool(_NEGATION.search(question))
        yes_no = bool(_YES_NO.match(question))
        top = relevant[0].score if relevant else 0.0
        on_question = {(m.source, m.index) for m in relevant[:ON_QUESTION_RANK]
                       if m.score >= ON_QUESTION_SHARE * top}
        listed = sum(claim.item for claim in claims) >= 2  # a list, not one bulleted line
        results = []
        for claim in claims:
            terms = content_terms(claim.text)
            if not terms or (claim.lead_in and not terms - asked - LEAD_IN_TERMS):
                # "Yes." or "To install it, run:" has nothing to check
                results.append(SentenceSupport(claim.text, claim.cited, None, 0.0, None))
                continue
            # A sentence is checked against what it cites; an uncited one against every source.
            # Small models often cite the wrong excerpt: when what it cites does not support
            # it, another source that does counts (the pipeline corrects the marker).
            cited = [by_number[n] for n in claim.cited if n in by_number]
            support, best = self._best(claim.text, cited or list(sources))
            if cited and (support is None or support.score < self.threshold):
                others = [s for s in sources if s.number not in claim.cited]
                other, number = self._best(claim.text, others)
                if other is not None and other.score >= self.threshold:
                    support, best = other, number
            # A negation the question lacks: news, if its passage has one too.
            negates = bool(_NEGATION.search(claim.text)) and not question_negates
            added = terms - asked  # what the sentence says beyond the question
            rule = self.checks.__contains__
            weak = support is None or support.score < self.threshold
            problem = ""
            invented = [name for name in sorted(code_names(claim.text))
                        if not names_in(name, written)] \
                if rule("invents_name") and not claim.code else []
            if rule("from_example") and len((terms & EXAMPLE_TERMS) - known) >= 2:
                problem = FROM_EXAMPLE
            elif invented:
                problem = INVENTS_NAME.format(name=f"`{invented[0]}`")
            elif rule("unsupported") and weak:
                problem = UNSUPPORTED
            elif support is None:  # no passage at all: nothing to rest on
                problem = UNSUPPORTED
            elif rule("negates") and negates and not _NEGATION.search(
                    _window(by_number[best], support.index)):
                problem = NEGATES
            elif rule("circular") and circular(content_words(claim.text)):
                problem = CIRCULAR
            elif rule("restates") and question and not added & known and not (
                    yes_no and negates) and not (listed and claim.item) and not (
                    _names_code(claim.text, question, sources)):
                # What it adds counts wherever the sources say it: its best-matching window
                # is often the sentence that restates the question, not the one with the
                # value ("The ticker symbol is GLXZ.").
                # (To a yes/no question, a negation its passage shares is the answer:
                # "Does docchat send my files?" "docchat does not send them.")
                problem = RESTATES
            elif rule("new_share") and question and \
                    len(added & support.terms) < NEW_SHARE * len(added):
                problem = UNSUPPORTED  # what it adds is mostly not in its window
            elif rule("off_question") and on_question:
                best = self._on_question(claim.text, added, sources, on_question,
                                         (best, support.index))
                problem = "" if best is not None else OFF_QUESTION
            results.append(SentenceSupport(
                claim.text, claim.cited, not problem, support.score if support else 0.0,
                None if problem else best, problem))
        return results

    def _on_question(self, claim: str, added: frozenset[str], sources: Sequence[Source],
                     on_question: set[tuple[int, int]], best: tuple[int, int]) -> int | None:
        """The source through which `claim` rests on a sentence that matches the question,
        or None: its best window's, if that touches one; else one whose window around a
        matching sentence supports it and says everything it adds to the question
        (`added`). The best window is sometimes another passage's copy of the fact
        ("Drawings in colour by C. Fleming Williams … are for sale") while the title page
        that answers says it too."""
        source, index = best
        if any((source, i) in on_question for i in range(index - 1, index + 2)):
            return source
        # (a matching sentence may be in a source the prompt left out: not checked against)
        matching = {number for number, _ in on_question}
        for candidate in (s for s in sources if s.number in matching):
            windows = self.scorer.support_windows(claim, candidate)
            if any(w.score >= self.threshold and added <= w.terms
                   for w in windows if (candidate.number, w.index) in on_question):
                return candidate.number
        return None

    def _best(self, claim: str, candidates: Sequence[Source]) -> tuple[Support | None, int | None]:
        scored = [(self.scorer.support_window(claim, s), s.number) for s in candidates]
        return max(scored, key=lambda pair: pair[0].score, default=(None, None))


def _names_code(claim: str, question: str, sources: Sequence[Source]) -> bool:
    """Whether `claim` names, in backticks, code that the question does not and a source
    does, each as a whole token: "… the `retrieval.k` setting." says which setting, although
    its words ("retrieval", a one-letter "k") are all the question's own. (Not a stop word or a
    single character: `is` or `k` is in nearly every passage.)"""
    for span in {span.strip().lower() for span in _CODE_SPAN.findall(claim)}:
        if len(span) < 2 or span in STOP_WORDS:
            continue
        token = re.compile(rf"(?<![\w.]){re.escape(span)}(?![\w.])", re.I)
        if not token.search(question) and any(token.search(s.text) for s in sources):
            return True
    return False


def circular(words: Sequence[str]) -> bool:
    """Whether a sentence's content words begin and end alike with one or two words, none a
    number, between: "X is owned by X", "The top_p setting is set to the top_p setting". (A
    statement said twice, nothing between, still says something.)"""
    for k in range(1, (len(words) - 1) // 2 + 1):
        between = words[k:len(words) - k]
        if (words[:k] == words[-k:] and 1 <= len(between) <= 2
                and not any(ch.isdigit() for word in between for ch in word)):
            return True
    return False


def _window(source: Source, index: int) -> str:
    """The supporting window: sentence `index` of `source` and its neighbours."""
    sentences = split_sentences(source.text)
    return " ".join(sentences[max(0, index - 1):index + 2])
