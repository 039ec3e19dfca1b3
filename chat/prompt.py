"""Build the chat messages: instructions, numbered sources fitted to a token budget, question."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from chat.types import Source
from ingest.errors import DocchatError

SYSTEM_PROMPT = (
    "You answer questions using only the numbered sources the user gives you. "
    "Cite the source of each statement with its number in brackets, like [1]. "
    "If the sources do not contain the answer, say that the documents do not say."
)

Message = dict[str, str]


class PromptTooLong(DocchatError):
    """The question alone does not fit the prompt budget: no source could be given."""


@dataclass(frozen=True)
class Prompt:
    messages: list[Message]
    sources: tuple[Source, ...]  # the sources that fit the budget, in prompt order
    dropped: int  # sources left out because the budget was spent


def format_source(source: Source) -> str:
    header = f"[{source.number}] {source.label}"
    if source.section:
        header += f" — {source.section}"
    return f"{header}\n{source.text}"


def build_prompt(
    question: str,
    sources: Sequence[Source],
    *,
    count_tokens: Callable[[str], int],
    budget: int,
) -> Prompt:
    """Fit whole sources, best first, into `budget` tokens. The question is never cut: one
    that leaves no room for a source is refused (PromptTooLong)."""
    def user_text(blocks: list[str]) -> str:
        return "Sources:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question}"

    check_fits(question, count_tokens=count_tokens, budget=budget)
    used = count_tokens(SYSTEM_PROMPT) + count_tokens(user_text([]))
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
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": user_text(blocks)},
    ]
    return Prompt(messages, tuple(kept), dropped=len(sources) - len(kept))


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
