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
from ingest.keyword_index import KeywordIndex
from ingest.loaders import load_file
from ingest.state import IngestState, sources_under
from ingest.store import ChunkStore
from ingest.types import FileResult, IngestReport, SourceText, TextElement

Loader = Callable[[Path], list[TextElement]]
Progress = Callable[[FileResult], None]


class Ingestor:
    def __init__(
        self,
        store: ChunkStore,
        keyword_index: KeywordIndex,
        state: IngestState,
        embedder: SentenceTransformerEmbeddings,
        config: IngestConfig,
        loader: Loader = load_file,
    ) -> None:
        self.store = store
        self.keyword_index = keyword_index
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
        self.sync_keyword_index(changed=report.count("ingested") > 0)
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
        self._write([(source, file_hash, docs)])
        return FileResult(source, "ingested", chunks=len(docs),
                          seconds=time.perf_counter() - started)

    def ingest_texts(self, records: Iterable[SourceText], batch_chunks: int = 512) -> IngestReport:
        """Ingest already-extracted texts (e.g. a JSONL corpus) without a file parser.

        Same chunking, embedding and bookkeeping as files; embeddings are batched across
        records, which matters when each record is short.
        """
        report = IngestReport()
        started = time.perf_counter()
        batch: list[tuple[str, str, list[Document]]] = []
        pending = 0
        for record in records:
            file_hash = content_hash(record.title + "\x00" + record.text)
            if self.state.file_hash(record.source) == file_hash:
                report.results.append(FileResult(record.source, "unchanged"))
                continue
            elements = [TextElement(record.text, "NarrativeText", headings=(record.title,))
                        if record.title else TextElement(record.text, "NarrativeText")]
            try:
                docs = self._documents(elements, record.source, record.source, file_hash)
            except LoadError as exc:
                report.results.append(FileResult(record.source, "failed", reason=exc.reason))
                continue
            batch.append((record.source, file_hash, docs))
            pending += len(docs)
            report.results.append(FileResult(record.source, "ingested", chunks=len(docs)))
            if pending >= batch_chunks:
                self._write(batch)
                batch, pending = [], 0
        if batch:
            self._write(batch)
        self.sync_keyword_index(changed=report.count("ingested") > 0)
        report.seconds = time.perf_counter() - started
        return report

    def remove(self, paths: Iterable[Path]) -> list[str]:
        """Remove indexed files, or every indexed file under a folder; returns their sources.

        Works on what is indexed, so files already deleted from disk can be removed too.
        """
        targets = [str(Path(path).expanduser().resolve()) for path in paths]
        return self.remove_sources(sources_under(self.state.files(), targets))

    def remove_sources(self, sources: Iterable[str]) -> list[str]:
        """Remove these exact sources (paths or record ids); returns those that were indexed."""
        indexed = self.state.files()
        gone = sorted(s for s in set(sources) if s in indexed)
        if gone:
            self.store.delete_sources(gone)
            self.state.forget(gone)
            self.sync_keyword_index(changed=True)
        return gone

    def _write(self, batch: list[tuple[str, str, list[Document]]]) -> None:
        docs = [d for _, _, file_docs in batch for d in file_docs]
        embeddings = self.embedder.embed_documents([embedding_text(d) for d in docs])
        # Replace the files' old chunks; state rows are written last, so a crash before them
        # leaves the files marked stale and the next run redoes them.
        self.store.delete_sources([source for source, _, _ in batch])
        self.store.add(docs, embeddings)
        for source, file_hash, file_docs in batch:
            self.state.record(source, file_hash, len(file_docs))

    def sync_keyword_index(self, changed: bool) -> None:
        """After a run: mark the collection changed (so other processes rebuild too), then
        bring this process's BM25 index up to date."""
        if changed:
            self.store.bump_version()
        refresh_keyword_index(self.store, self.keyword_index)

    def chunk(self, path: Path, source: str, file_hash: str) -> list[Document]:
        return self._documents(self.loader(path), source, path.name, file_hash)

    def _documents(
        self, elements: list[TextElement], source: str, name: str, file_hash: str
    ) -> list[Document]:
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
        # Ids depend on the source too: two copies of one file must not overwrite each other.
        prefix = content_hash(source + "\x00" + file_hash)[:24]
        for index, (text, meta) in enumerate(pieces):
            chunk_id = f"{prefix}-{index:05d}"
            meta.update(
                source=source,
                file_name=name,
                file_type=Path(name).suffix.lower().lstrip(".") or "unknown",
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


def refresh_keyword_index(store: ChunkStore, keyword_index: KeywordIndex) -> bool:
    """Rebuild BM25 from the vector store when the store changed since it was built, or when
    they disagree (a run killed between writing chunks and rebuilding). True if rebuilt.

    Each docchat process keeps its own BM25 index under data_dir; the store's version (in the
    collection's metadata) tells every process, embedded or against one Chroma server, when
    another one changed the chunks.
    """
    version = store.version()
    if keyword_index.built_from() == version and keyword_index.count() == store.count():
        return False
    chunks = store.all()
    texts = [
        embedding_text(Document(page_content=t, metadata=m))
        for t, m in zip(chunks["documents"], chunks["metadatas"])
    ]
    keyword_index.rebuild(chunks["ids"], texts, chunks["metadatas"], built_from=version)
    return True
