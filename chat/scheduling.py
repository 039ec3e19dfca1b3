"""First tokens first, one question at a time: how concurrent answers share a small CPU.

On a small CPU, concurrent answers share the cores. Without scheduling, a new question's
retrieval, evidence scoring and prompt processing compete with every streaming answer, and its
time to first token grows with the number of readers. LLM servers schedule prompt processing
before decoding for the same reason. Here, for generators that run in this process:

- questions take turns, in arrival order, from retrieval to their first token. Processed
  together, a burst of questions would all get their first token at the end of the burst,
  their answers would end together, and the next questions would come as a burst again; in
  turn, the first is answered first and the answers stay spread out. A turn is capped at
  `max_turn_s`: it is an optimisation, never a lock that a stuck generation could hold;
- while a question has the turn, answers that are already streaming pause between tokens
  (at most `max_pause_s` at a time, so streams always progress).

A generation never waits for its own question: the pipeline hands its ticket to the backend
through a context variable (the backends' interface stays messages in, text out), because
the first text a streamer delivers can lag the first token by a few tokens.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from contextvars import ContextVar


class Ticket:
    """One question waiting for its first token."""

    def __init__(self, gate: "FirstTokenGate") -> None:
        self._gate = gate
        self.pending = True

    def wait_for_turn(self) -> None:
        """Block until the questions that came earlier have their first token (capped)."""
        gate = self._gate
        deadline = time.monotonic() + gate.max_turn_s
        with gate._changed:
            while gate._turns and gate._turns[0] is not self:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                gate._changed.wait(left)

    def release(self) -> None:
        """At the first token, or when the question ends without one; repeats are no-ops."""
        gate = self._gate
        with gate._changed:
            if self.pending:
                self.pending = False
                gate._turns.remove(self)
                gate._changed.notify_all()


CURRENT: ContextVar[Ticket | None] = ContextVar("docchat_first_token_ticket", default=None)


class FirstTokenGate:
    def __init__(self, max_pause_s: float = 2.0, max_turn_s: float = 60.0) -> None:
        self.max_pause_s = max_pause_s
        self.max_turn_s = max_turn_s
        self._turns: deque[Ticket] = deque()  # the head holds the turn
        self._changed = threading.Condition()

    def enter(self) -> Ticket:
        ticket = Ticket(self)
        with self._changed:
            self._turns.append(ticket)
        return ticket

    def yield_to_new_questions(self, own: Ticket | None = None) -> None:
        """Called between the tokens of a streaming answer; `own` is its question's ticket.
        Pauses while another question has the turn (the questions queued behind it are
        blocked anyway; the question with the turn must never wait for the others)."""
        def another_has_the_turn() -> bool:
            return bool(self._turns) and self._turns[0] is not own

        with self._changed:
            self._changed.wait_for(lambda: not another_has_the_turn(),
                                   timeout=self.max_pause_s)

    @property
    def waiting(self) -> int:
        """Questions without their first token yet."""
        return len(self._turns)


GATE = FirstTokenGate()
