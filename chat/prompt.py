"""Build the chat messages: instructions, numbered sources fitted to a token budget, question.

Two kinds of context: whole chunks (`build_prompt`, for models that read well), or the
excerpts that match the question best, each with its neighbouring sentences
(`build_evidence_prompt`). A small model given less and better text answers more often and
starts sooner (measured in `python -m evals answers`, see answer.context).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from chat.evidence import SentenceMatch
from chat.text import located_sentences
from chat.types import Source
from ingest.chunking import SECTION_SEP, read_outline
from ingest.errors import DocchatError

SYSTEM_PROMPT = (
    "You answer questions using only the numbered sources the user gives you. "
    "Cite the source of each statement with its number in brackets, like [1]. "
    "If the sources do not contain the answer, say that the documents do not say."
)

# For models that follow instructions (chat.profiles "plain"): no worked example, which a
# capable model does not need and which cost the 135M model's answers their own words.
# Worded like LangChain's RAG prompt (the naive anchor's, evals/anchor.py), plus citations:
# told to "reply exactly: The documents do not say" instead, Qwen2.5-Coder-1.5B declined 8 of
# 27 SQuAD tune questions whose answer its excerpts held (docs/answers.md).
ANSWER_PROMPT = (
    "You are an assistant for question-answering tasks. Use the following numbered excerpts "
    "from the user's documents to answer the question. If you don't know the answer, just "
    "say that you don't know. Use three sentences maximum and keep the answer concise. Cite "
    "the excerpt each statement comes from with its number in brackets, like [2]."
)

EVIDENCE_PROMPT = (
    "Answer the question using only the numbered excerpts. Reply in one or two short "
    "sentences and cite the excerpt you used in brackets, like [1]. If the excerpts do not "
    "answer the question, reply: The documents do not say."
)
# A worked example before the real excerpts: the 135M model copies its shape (a short answer
# in its own words with a marker) far more often than it follows the instructions alone
# (SQuAD tune articles: docs/answers.md). It is the same in every prompt, so the generator
# computes it once (chat.generators.prefix_cache) and it adds nothing to the first-token time.
EXAMPLES: tuple[tuple[str, str], ...] = (
    ("Excerpts:\n\n[1] pumps.md — Warranty\nThe Zephyr pump comes with a warranty of seven "
     "years from the date of purchase.\n\n[2] router.md — Resetting\nHold the red button "
     "for ten seconds to reset the router.\n\nQuestion: How long is the Zephyr pump's "
     "warranty?",
     "Seven years from the date of purchase [1]."),
)

Message = dict[str, str]


class PromptTooLong(DocchatError):
    """The question alone does not fit the prompt budget: no source could be given."""


@dataclass(frozen=True)
class Prompt:
    messages: list[Message]
    sources: tuple[Source, ...]  # the sources that fit the budget, in prompt order
    dropped: int  # sources left out because the budget was spent

    @property
    def headers(self) -> tuple[str, ...]:
        """The sources' header lines, as the prompt shows them (an echo of one ends the
        answer)."""
        return tuple(header(s) for s in self.sources)


def header(source: Source) -> str:
    line = f"[{source.number}] {source.label}"
    return f"{line} — {source.section}" if source.section else line


def excerpt_header(source: Source, offsets: Sequence[int]) -> str:
    """header() naming the section the excerpt's lines (at `offsets` of the text) are in: a
    chunk may span several ("Changelog" holds "Changelog > 2.0.0 > Timeout replaces
    tuples"), and the heading path is often what the excerpt is about. Lines under several
    headings get the path they share. It begins as header() does (an echo of either ends the
    answer, chat.echo)."""
    paths = {source.section_at(offset) for offset in offsets}
    # The deepest heading path (the chunk's or one its outline names) that every line's path
    # is or lies under; compared as whole paths, since a heading may itself hold " > ".
    known = {source.section, *(path for _, path in read_outline(source.outline))}
    shared = [k for k in known if k and all(p == k or p.startswith(k + SECTION_SEP)
                                              for p in paths)]
    section = max(shared, key=len, default=source.section)
    line = f"[{source.number}] {source.label}"
    return f"{line} — {section}" if section else line


def _excerpt(split: Sequence[tuple[int, int, str]], chosen: Sequence[int]) -> str:
    """The chosen sentences: "…" where sentences were skipped, and a line break where the
    text has one (a heading, a list item or a table row is not run into the next line)."""
    text, last = "", None
    for i in chosen:
        line, _, sentence = split[i]
        if last is None:
            text = sentence
        elif i != last + 1:
            text += f" … {sentence}"
        else:
            text += ("\n" if line != split[last][0] else " ") + sentence
        last = i
    return text


def format_source(source: Source) -> str:
    return f"{header(source)}\n{source.text}"


def build_prompt(
    question: str,
    sources: Sequence[Source],
    *,
    count_tokens: Callable[[str], int],
    budget: int,
    style: str = "worked-example",
) -> Prompt:
    """Fit whole sources, best first, into `budget` tokens. The question is never cut: one
    that leaves no room for a source is refused (PromptTooLong). `style` "plain" gives
    ANSWER_PROMPT's instructions."""
    system, label = (ANSWER_PROMPT, "Excerpts") if style == "plain" else (SYSTEM_PROMPT,
                                                                          "Sources")

    def user_text(blocks: list[str]) -> str:
        return f"{label}:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question}"

    check_fits(question, count_tokens=count_tokens, budget=budget)
    used = count_tokens(system) + count_tokens(user_text([]))
    blocks: list[str] = []
    kept: list[Source] = []
    for source in sources:
        block = format_source(source)
        cost = count_tokens(block) + 2
        if used + cost > budget:
            continue
        used += cost
        blocks.append(block)
        kept.append(source)
    messages = [
        {"role": "system", "content": system},
        {"role": "user", "content": user_text(blocks)},
    ]
    return Prompt(messages, tuple(kept), dropped=len(sources) - len(kept))


def build_evidence_prompt(
    question: str,
    sources: Sequence[Source],
    ranked: Sequence[SentenceMatch],
    *,
    count_tokens: Callable[[str], int],
    budget: int,
    sentences: int = 3,
    neighbours: int = 1,
    style: str = "worked-example",
) -> Prompt:
    """The best `sentences` matches for the question, each with `neighbours` sentences on
    either side, grouped by source under the sources' own numbers, the best source last:
    the 135M model mostly answers from the excerpt it read last, right before the question
    (on SQuAD tune articles, best last doubled how often its own text holds the answer:
    docs/answers.md). The budget is spent best source first. Every retrieved source stays an
    answer source (for citations and the sources panel). `style` "worked-example" puts
    EXAMPLES before the excerpts; "plain" gives ANSWER_PROMPT's instructions only."""
    check_fits(question, count_tokens=count_tokens, budget=budget)
    by_number = {s.number: s for s in sources}
    picked: dict[int, set[int]] = {}  # source number -> sentence indexes, best source first
    seen_texts: set[str] = set()
    for match in ranked:
        if len(seen_texts) == sentences:
            break
        if match.text in seen_texts or match.source not in by_number:
            continue
        seen_texts.add(match.text)
        window = range(match.index - neighbours, match.index + neighbours + 1)
        picked.setdefault(match.source, set()).update(window)
    system, examples = (EVIDENCE_PROMPT, EXAMPLES) if style == "worked-example" else \
        (ANSWER_PROMPT, ())
    shared = system + "".join(a + b for a, b in examples)
    blocks, used = [], count_tokens(shared) + count_tokens(question) + 8 + 8 * len(examples)
    for number, indexes in picked.items():
        source = by_number[number]
        split = located_sentences(source.text)
        chosen = sorted(i for i in indexes if 0 <= i < len(split))
        offsets = [split[i][1] for i in chosen]
        block = f"{excerpt_header(source, offsets)}\n{_excerpt(split, chosen)}"
        cost = count_tokens(block) + 2
        if used + cost > budget:
            continue
        used += cost
        blocks.append(block)
    if style == "worked-example":
        blocks.reverse()  # the best excerpt last, next to the question (see the docstring)
    user = "Excerpts:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question}"
    messages = [{"role": "system", "content": system}]
    for asked, answered in examples:
        messages += [{"role": "user", "content": asked},
                     {"role": "assistant", "content": answered}]
    messages.append({"role": "user", "content": user})
    return Prompt(messages, tuple(sources), dropped=0)


# A question must leave at least this share of the budget for sources.
MIN_SOURCE_SHARE = 0.5


def check_fits(question: str, *, count_tokens: Callable[[str], int], budget: int) -> None:
    """Refuse a question that would leave less than half the prompt budget for sources.
    Cheap: counts at most a few times the budget's characters."""
    room = int(budget * (1 - MIN_SOURCE_SHARE)) - count_tokens(SYSTEM_PROMPT)
    # Count a prefix only: a token is rarely longer than 16 characters.
    tokens = count_tokens(question[: room * 16])
    if tokens > room or len(question) > room * 16:
        raise PromptTooLong(
            f"The question is too long for the model: about {tokens:,} tokens, and at most "
            f"{room:,} fit beside the sources (generator.context_tokens = {budget:,})."
        )
