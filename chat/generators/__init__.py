"""Generator backends: messages in, an iterator of text pieces out."""

from chat.generators.base import Generator

__all__ = ["Generator"]
