"""The one interface every generator backend implements."""

import collections.abc
from collections.abc import Sequence
from typing import Protocol

# A generator object, not just an iterator: closing it must stop the backend's generation.
TextStream = collections.abc.Generator[str, None, None]


class Piece(str):
    """A piece of a stream's text with, for each of its tokens, how sure the model was: the
    chosen token's probability minus the runner-up's. Backends that can tell yield these
    (llamacpp); chat.judge.certainty reads them."""

    margins: tuple[float, ...] = ()

    def __new__(cls, text: str, margins: Sequence[float] = ()) -> "Piece":
        piece = super().__new__(cls, text)
        piece.margins = tuple(margins)
        return piece


class Generator(Protocol):
    # True when the model runs in this process: its answers share this machine's cores, so
    # the pipeline schedules them (chat.scheduling). False for a model server.
    local: bool

    def stream(
        self, messages: Sequence[dict[str, str]], *, max_new_tokens: int, temperature: float
    ) -> TextStream:
        """Yield the answer as it is generated, in text pieces."""
        ...

    def count_tokens(self, text: str) -> int:
        """Length of `text` in this model's tokens (used to fit the prompt)."""
        ...


class NextToken(Protocol):
    """A backend that can also say how likely each next token is (chat.judge asks it)."""

    def next_token_probabilities(self, messages: Sequence[dict[str, str]]) -> dict[str, float]:
        """The most likely first tokens of the reply to `messages` (text -> probability);
        empty when the backend cannot tell."""
        ...


def settled(text: str) -> str:
    """The part of decoded text that later tokens cannot change: without a character not
    complete yet (\ufffd) and without trailing spaces (a tokenizer's clean-up may still drop
    a space before punctuation)."""
    return text.rstrip("\ufffd").rstrip()
