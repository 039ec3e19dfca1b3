"""Reuse generations across evaluation runs: `--reuse-generations` in `python -m evals answers`.

A run that changes only what docchat does around the model (a check, a threshold, what is
shown) asks the model the same prompts again; at 10-40 s per question on 2 cores that is most
of an evaluation's time. The cache replays the text a prompt produced before (same model,
messages and sampling settings), piece by piece as it streamed, and asks the model only for
new prompts, or for more of a text than an earlier run read (a run that stopped the stream
early stored only what it read). Timings of replayed answers are not the model's: reports
count replayed answers, and latency is reported from runs without the cache.

Pieces are stored with their tokens' probability margins (chat.judge.certainty) where the
backend reports them. A text stored without them replays without them, unless the run weighs
them (`margins=True`: a profile with sure_below); then it is generated afresh.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chat.generators.base import Generator, Piece, TextStream


class CachingGenerator:
    """`generator` with its streams recorded in, and replayed from, an SQLite file."""

    def __init__(self, generator: Generator, path: Path, identity: str,
                 margins: bool = False) -> None:
        self.inner = generator
        self.margins = margins and getattr(generator, "reports_margins", False)
        self.local = generator.local
        self.identity = identity  # which model: part of every key
        self.replayed = self.generated = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS streams (key TEXT PRIMARY KEY, "
                         "pieces TEXT NOT NULL, complete INTEGER NOT NULL)")
        self._lock = threading.Lock()
        if hasattr(generator, "next_token_probabilities"):  # only what the model can do
            self.next_token_probabilities = self._next_token_probabilities

    def __getattr__(self, name: str) -> Any:  # load(), close(), a backend's own methods
        return getattr(self.inner, name)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def key(self, messages: Sequence[dict[str, str]], **settings: Any) -> str:
        blob = json.dumps([self.identity, list(messages), settings], sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def _next_token_probabilities(self, messages: Sequence[dict[str, str]]
                                  ) -> dict[str, float]:
        key = self.key(messages, next_token=True)
        with self._lock:
            row = self._db.execute("SELECT pieces FROM streams WHERE key = ?", (key,)).fetchone()
        if row is not None:
            return json.loads(row[0])
        probabilities = self.inner.next_token_probabilities(messages)
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO streams VALUES (?, ?, 1)",
                             (key, json.dumps(probabilities)))
            self._db.commit()
        return probabilities

    def stream(self, messages: Sequence[dict[str, str]], *, max_new_tokens: int,
               temperature: float) -> TextStream:
        key = self.key(messages, max_new_tokens=max_new_tokens, temperature=temperature)
        with self._lock:
            row = self._db.execute("SELECT pieces, complete FROM streams WHERE key = ?",
                                   (key,)).fetchone()
        if row is not None and self._lacks_margins(json.loads(row[0])):
            row = None
        if row is not None:
            pieces, complete = json.loads(row[0]), bool(row[1])
            self.replayed += 1
            yield from map(_piece, pieces)
            if complete:
                return
            # The earlier run stopped reading here; this one wants more: generate afresh and
            # skip what was replayed.
            self.replayed -= 1
        self.generated += 1
        seen, complete = [], False
        skip = len("".join(map(_piece, json.loads(row[0])))) if row is not None else 0
        stream = self.inner.stream(messages, max_new_tokens=max_new_tokens,
                                   temperature=temperature)
        try:
            text = ""
            for piece in stream:
                seen.append(piece)
                before, text = len(text), text + piece
                if len(text) > skip:
                    # (a piece that straddles the replayed end loses its margins: only when
                    # the model split its text otherwise than the stored stream)
                    yield piece if before >= skip else piece[skip - before:]
            complete = True
        finally:
            stream.close()
            if complete or row is None or len("".join(seen)) > skip:
                self._store(key, seen, complete)

    def _lacks_margins(self, stored: list) -> bool:
        return self.margins and bool(stored) and not any(isinstance(p, list) for p in stored)

    def _store(self, key: str, pieces: list[str], complete: bool) -> None:
        stored = [[p, list(p.margins)] if getattr(p, "margins", ()) else str(p) for p in pieces]
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO streams VALUES (?, ?, ?)",
                             (key, json.dumps(stored), int(complete)))
            self._db.commit()


def _piece(stored: str | list) -> str:
    """A stored piece: its text, or [text, margins]."""
    return Piece(stored[0], stored[1]) if isinstance(stored, list) else stored
