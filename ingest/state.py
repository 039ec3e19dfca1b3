"""What is indexed: one row per (collection, file) with the file's content hash.

Checked before parsing, so an unchanged file costs one hash and one lookup. LangChain's
record manager hashes chunks, which needs the file parsed first; that is the work this skips.

Also kept here: chunks not stored because they duplicate a stored one (`duplicates`, so a file
whose passage is stored under another file is re-done when that file goes), and a marker for a
run in progress (`runs`), so the next run knows when one was killed and checks the index.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from filelock import FileLock

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    collection TEXT NOT NULL,
    source TEXT NOT NULL,
    file_hash TEXT NOT NULL,
    chunks INTEGER NOT NULL,
    ingested_at REAL NOT NULL,
    PRIMARY KEY (collection, source)
);
CREATE TABLE IF NOT EXISTS duplicates (
    collection TEXT NOT NULL,
    source TEXT NOT NULL,
    chunk_id TEXT NOT NULL,
    canonical_id TEXT NOT NULL,
    canonical_source TEXT NOT NULL,
    PRIMARY KEY (collection, chunk_id)
);
CREATE INDEX IF NOT EXISTS duplicates_by_canonical ON duplicates (collection, canonical_source);
CREATE TABLE IF NOT EXISTS runs (
    collection TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    started_at REAL NOT NULL
);
"""


@dataclass(frozen=True)
class Duplicate:
    source: str
    chunk_id: str  # the id the chunk would have had
    canonical_id: str  # the stored chunk it repeats
    canonical_source: str


class IngestState:
    def __init__(self, path: Path, collection: str) -> None:
        self.path = Path(path)
        self.collection = collection
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(_SCHEMA)

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

    def hashes(self) -> dict[str, str]:
        """Every indexed source's content hash, in one query (a run checks thousands)."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT source, file_hash FROM files WHERE collection = ?", (self.collection,)
            ).fetchall()
        return dict(rows)

    def record(self, source: str, file_hash: str, chunks: int) -> None:
        self.record_many([(source, file_hash, chunks)], [])

    def record_many(self, files: list[tuple[str, str, int]], duplicates: list[Duplicate]) -> None:
        """Files (source, hash, chunks incl. duplicates) and their duplicate chunks, at once."""
        now = time.time()
        with self._connect() as db:
            db.executemany(
                "DELETE FROM duplicates WHERE collection = ? AND source = ?",
                [(self.collection, source) for source, _, _ in files],
            )
            db.executemany(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)",
                [(self.collection, source, h, chunks, now) for source, h, chunks in files],
            )
            db.executemany(
                "INSERT OR REPLACE INTO duplicates VALUES (?, ?, ?, ?, ?)",
                [(self.collection, d.source, d.chunk_id, d.canonical_id, d.canonical_source)
                 for d in duplicates],
            )

    def forget(self, sources: list[str]) -> None:
        with self._connect() as db:
            rows = [(self.collection, s) for s in sources]
            db.executemany("DELETE FROM files WHERE collection = ? AND source = ?", rows)
            db.executemany("DELETE FROM duplicates WHERE collection = ? AND source = ?", rows)

    def dependents(self, sources: list[str]) -> set[str]:
        """Other files with chunks that are stored only under one of `sources`."""
        with self._connect() as db:
            found = set()
            for source in sources:
                found.update(row[0] for row in db.execute(
                    "SELECT DISTINCT source FROM duplicates "
                    "WHERE collection = ? AND canonical_source = ?", (self.collection, source)))
        return found - set(sources)

    def duplicate_counts(self) -> dict[str, int]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT source, COUNT(*) FROM duplicates WHERE collection = ? GROUP BY source",
                (self.collection,),
            ).fetchall()
        return dict(rows)

    def duplicates_of(self, chunk_ids: list[str]) -> dict[str, list[str]]:
        """For stored chunks, the other sources that contain the same passage."""
        out: dict[str, list[str]] = {}
        with self._connect() as db:
            for cid in chunk_ids:
                out[cid] = [row[0] for row in db.execute(
                    "SELECT DISTINCT source FROM duplicates WHERE collection = ? "
                    "AND canonical_id = ? ORDER BY source", (self.collection, cid))]
        return out

    def begin_run(self) -> bool:
        """Mark a writing run as started; True if the previous one never finished."""
        with self._connect() as db:
            interrupted = db.execute(
                "SELECT 1 FROM runs WHERE collection = ?", (self.collection,)
            ).fetchone() is not None
            db.execute("INSERT OR REPLACE INTO runs VALUES (?, ?, ?)",
                       (self.collection, os.getpid(), time.time()))
        return interrupted

    def end_run(self) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM runs WHERE collection = ?", (self.collection,))

    def lock(self) -> "FileLock":
        """One writer per collection and data directory (see ingest.pipeline)."""
        from filelock import FileLock

        return FileLock(self.path.with_name(f"ingest-{self.collection}.lock"))

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
