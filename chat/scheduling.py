"""First tokens first: while a question still waits for its first token, answers that are
already streaming pause between tokens (at most `max_pause_s` at a time).

On a small CPU, concurrent answers share the cores. Without this, a new question's retrieval,
evidence scoring and prompt processing compete with every streaming answer, and its time to
first token grows with the number of readers. LLM servers schedule prompt processing before
decoding for the same reason; here it is a counter and a condition variable, shared by every
pipeline in the process. The pause is capped so streams always progress.

A generation never waits for its own question: the pipeline hands its ticket to the backend
through a context variable (the backends' interface stays messages in, text out), because
the first text a streamer delivers can lag the first token by a few tokens.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar


class Ticket:
    """One question waiting for its first token."""

    def __init__(self, gate: "FirstTokenGate") -> None:
        self._gate = gate
        self.pending = True

    def release(self) -> None:
        """At the first token, or when the question ends without one; repeats are no-ops."""
        with self._gate._changed:
            if self.pending:
                self.pending = False
                self._gate._waiting -= 1
                self._gate._changed.notify_all()


CURRENT: ContextVar[Ticket | None] = ContextVar("docchat_first_token_ticket", default=None)


class FirstTokenGate:
    def __init__(self, max_pause_s: float = 2.0) -> None:
        self.max_pause_s = max_pause_s
        self._waiting = 0
        self._changed = threading.Condition()

    def enter(self) -> Ticket:
        with self._changed:
            self._waiting += 1
        return Ticket(self)

    def yield_to_new_questions(self, own: Ticket | None = None) -> None:
        """Called between the tokens of a streaming answer; `own` is its question's ticket."""
        def others_waiting() -> int:
            return self._waiting - (1 if own is not None and own.pending else 0)

        with self._changed:
            self._changed.wait_for(lambda: others_waiting() <= 0, timeout=self.max_pause_s)

    @property
    def waiting(self) -> int:
        return self._waiting


GATE = FirstTokenGate()
