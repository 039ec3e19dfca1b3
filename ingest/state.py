"""What is indexed: one row per (collection, file) with the file's content hash.

Checked before parsing, so an unchanged file costs one hash and one lookup. LangChain's
record manager hashes chunks, which needs the file parsed first; that is the work this skips.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    collection TEXT NOT NULL,
    source TEXT NOT NULL,
    file_hash TEXT NOT NULL,
    chunks INTEGER NOT NULL,
    ingested_at REAL NOT NULL,
    PRIMARY KEY (collection, source)
)
"""


class IngestState:
    def __init__(self, path: Path, collection: str) -> None:
        self.path = Path(path)
        self.collection = collection
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        try:
            with db:  # commits, or rolls back on error
                yield db
        finally:
            db.close()

    def file_hash(self, source: str) -> str | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT file_hash FROM files WHERE collection = ? AND source = ?",
                (self.collection, source),
            ).fetchone()
        return row[0] if row else None

    def record(self, source: str, file_hash: str, chunks: int) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)",
                (self.collection, source, file_hash, chunks, time.time()),
            )

    def forget(self, sources: list[str]) -> None:
        with self._connect() as db:
            db.executemany(
                "DELETE FROM files WHERE collection = ? AND source = ?",
                [(self.collection, s) for s in sources],
            )

    def files(self) -> dict[str, int]:
        """Indexed files of this collection and their chunk counts."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT source, chunks FROM files WHERE collection = ? ORDER BY source",
                (self.collection,),
            ).fetchall()
        return dict(rows)

    def collections(self) -> dict[str, tuple[int, int]]:
        """Every collection recorded in this state file: (files, chunks)."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT collection, COUNT(*), SUM(chunks) FROM files "
                "GROUP BY collection ORDER BY collection"
            ).fetchall()
        return {name: (files, chunks or 0) for name, files, chunks in rows}


def sources_under(sources: Iterable[str], paths: Iterable[str]) -> set[str]:
    """The sources that are one of `paths` or lie anywhere below one of them (as folders)."""
    exact = set(paths)
    prefixes = tuple(p.rstrip("/") + "/" for p in exact)
    return {s for s in sources if s in exact or s.startswith(prefixes)}
