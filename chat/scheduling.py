"""First tokens first: while a question still waits for its first token, answers that are
already streaming pause between tokens (at most `max_pause_s` at a time).

On a small CPU, concurrent answers share the cores. Without this, a new question's retrieval,
evidence scoring and prompt processing compete with every streaming answer, and its time to
first token grows with the number of readers. LLM servers schedule prompt processing before
decoding for the same reason; here it is a counter and a condition variable, shared by every
pipeline in the process. The pause is capped so streams always progress.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class FirstTokenGate:
    def __init__(self, max_pause_s: float = 2.0) -> None:
        self.max_pause_s = max_pause_s
        self._waiting = 0
        self._changed = threading.Condition()

    def enter(self) -> Callable[[], None]:
        """A question starts; call the returned function (once is enough) at its first token
        or when it ends without one."""
        with self._changed:
            self._waiting += 1
        done = threading.Event()

        def release() -> None:
            if not done.is_set():
                done.set()
                with self._changed:
                    self._waiting -= 1
                    self._changed.notify_all()

        return release

    def yield_to_new_questions(self) -> None:
        """Called between the tokens of a streaming answer."""
        with self._changed:
            self._changed.wait_for(lambda: self._waiting == 0, timeout=self.max_pause_s)

    @property
    def waiting(self) -> int:
        return self._waiting


GATE = FirstTokenGate()
