"""Ingest files and folders: hash → (skip if unchanged) → load → chunk → embed → write.

One broken file never stops the batch: its failure is recorded in the report with the reason.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from langchain_core.documents import Document

from ingest.chunking import chunk_elements, content_hash, embedding_text
from ingest.config import IngestConfig
from ingest.embedder import SentenceTransformerEmbeddings
from ingest.errors import LoadError
from ingest.loaders import load_file
from ingest.state import IngestState
from ingest.store import ChunkStore
from ingest.types import FileResult, IngestReport, TextElement

Loader = Callable[[Path], list[TextElement]]
Progress = Callable[[FileResult], None]


class Ingestor:
    def __init__(
        self,
        store: ChunkStore,
        state: IngestState,
        embedder: SentenceTransformerEmbeddings,
        config: IngestConfig,
        loader: Loader = load_file,
    ) -> None:
        self.store = store
        self.state = state
        self.embedder = embedder
        self.config = config
        self.loader = loader

    def ingest(self, paths: Iterable[Path], progress: Progress | None = None) -> IngestReport:
        report = IngestReport()
        started = time.perf_counter()
        for path, result in expand_paths(paths):
            if result is None:
                result = self.ingest_file(path)
            report.results.append(result)
            if progress is not None:
                progress(result)
        report.seconds = time.perf_counter() - started
        return report

    def ingest_file(self, path: Path) -> FileResult:
        started = time.perf_counter()
        source = str(path.resolve())
        try:
            file_hash = _hash_file(path)
        except OSError as exc:
            return FileResult(source, "failed", reason=f"cannot read: {exc.strerror or exc}")
        if self.state.file_hash(source) == file_hash:
            return FileResult(source, "unchanged", seconds=time.perf_counter() - started)
        try:
            docs = self.chunk(path, source, file_hash)
        except LoadError as exc:
            return FileResult(source, "failed", reason=exc.reason,
                              seconds=time.perf_counter() - started)
        embeddings = self.embedder.embed_documents([embedding_text(d) for d in docs])
        # Replace the file's old chunks; the state row is written last, so a crash before it
        # leaves the file marked stale and the next run redoes it.
        self.store.delete_source(source)
        self.store.add(docs, embeddings)
        self.state.record(source, file_hash, len(docs))
        return FileResult(source, "ingested", chunks=len(docs),
                          seconds=time.perf_counter() - started)

    def chunk(self, path: Path, source: str, file_hash: str) -> list[Document]:
        elements = self.loader(path)
        pieces = chunk_elements(
            elements,
            count_tokens=self.embedder.count_tokens,
            chunk_tokens=self.config.chunk_tokens,
            chunk_overlap=self.config.chunk_overlap,
            max_tokens=self.embedder.max_tokens,
        )
        if not pieces:
            raise LoadError(source, "no text left after splitting into chunks")
        docs = []
        for index, (text, meta) in enumerate(pieces):
            chunk_id = f"{file_hash[:24]}-{index:05d}"
            meta.update(
                source=source,
                file_name=path.name,
                file_type=path.suffix.lower().lstrip(".") or "unknown",
                chunk_index=index,
                chunk_id=chunk_id,
                content_hash=content_hash(text),
            )
            docs.append(Document(id=chunk_id, page_content=text, metadata=meta))
        return docs


def expand_paths(paths: Iterable[Path]) -> Iterator[tuple[Path, FileResult | None]]:
    """Files to ingest, folders walked recursively in sorted order.

    Yields (path, None) for a file to ingest, or (path, result) for one that is not ingested
    (a missing path, a hidden file or folder inside a folder) so the report says so.
    """
    for path in paths:
        path = Path(path).expanduser()
        if path.is_file():
            yield path, None
        elif path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in [d for d in dirs if d.startswith(".")]:
                    dirs.remove(name)
                    hidden = Path(root, name)
                    yield hidden, FileResult(str(hidden), "skipped", reason="hidden folder")
                for name in sorted(files):
                    file = Path(root, name)
                    if name.startswith("."):
                        yield file, FileResult(str(file), "skipped", reason="hidden file")
                    else:
                        yield file, None
        else:
            yield path, FileResult(str(path), "failed", reason="not found")


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
