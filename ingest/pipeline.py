"""Ingest files and folders: hash → (skip if unchanged) → parse → chunk → embed → write.

One broken file never stops the batch: its failure is recorded in the report with the reason.
One writer per collection: a second run is refused (ingest.state's lock), and a run that was
killed is detected by the next one, which checks the index against the bookkeeping and redoes
whatever disagrees (`_recover`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from langchain_core.documents import Document

from ingest.chunking import content_hash, embedding_text
from ingest.config import IngestConfig
from ingest.dedup import split_duplicates
from ingest.embedder import SentenceTransformerEmbeddings
from ingest.errors import IngestBusyError, LoadError
from ingest.keyword_index import KeywordIndex
from ingest.loaders import FileLoader, LoadedFile
from ingest.parsing import (
    PARSE_RECIPE,
    ChunkSettings,
    ParseJob,
    Parsed,
    documents_of,
    make_documents,
    parse_all,
)
from ingest.state import IngestState, sources_under
from ingest.store import ChunkStore
from ingest.types import FileResult, IngestReport, SourceText, TextElement
from ingest.walk import expand_paths, hash_file

Loader = Callable[[Path], LoadedFile]
Progress = Callable[[FileResult], None]
# Chunks embedded and written together: large enough for efficient batches (sentence-
# transformers sorts each call's texts by length, so bigger calls pad less), small enough that
# a killed run loses little work.
WRITE_BATCH_CHUNKS = 1024


log = logging.getLogger("docchat.ingest")

class Ingestor:
    def __init__(
        self,
        store: ChunkStore,
        keyword_index: KeywordIndex,
        state: IngestState,
        embedder: SentenceTransformerEmbeddings,
        config: IngestConfig,
        loader: Loader | None = None,
        own_folders: Sequence[Path] = (),
    ) -> None:
        """`own_folders`: docchat's data and cache folders, never ingested as documents."""
        self.own_folders = tuple(own_folders)
        self.store = store
        self.keyword_index = keyword_index
        self.state = state
        self.embedder = embedder
        self.config = config
        self.loader = loader or FileLoader(config)

    # -- runs ------------------------------------------------------------------------------

    def ingest(self, paths: Iterable[Path], progress: Progress | None = None,
               prune: bool = False, on_plan: Callable[[int, int], None] | None = None,
               confine: Sequence[Path] | None = None) -> IngestReport:
        """Ingest files and folders. With `prune`, indexed files under the given folders (or
        given files) that no longer exist are removed: the index mirrors the folder.

        `progress` gets each file's result as it is done; `on_plan` gets (files found, files
        to parse) once every file is hashed. With `confine` (resolved folders), files whose
        real path lies outside them are skipped, links included."""
        paths = [Path(p).expanduser() for p in paths]
        report = IngestReport()
        started = time.perf_counter()
        with self._writing() as repaired:
            # Files a killed run left half-written are redone even if not named this time.
            unnamed = set(repaired) - sources_under(repaired, {str(p.resolve()) for p in paths})
            paths += [Path(s) for s in sorted(unnamed) if Path(s).is_file()]
            jobs = self._plan(paths, report, progress, confine)
            if on_plan is not None:
                on_plan(len(report.results) + len(jobs), len(jobs))
            changed = self._run_jobs(jobs, report, progress)
            if prune:
                changed |= bool(self._prune(paths, report))
            self.sync_keyword_index(changed=changed)
        report.results.sort(key=lambda r: r.path)
        report.seconds = time.perf_counter() - started
        return report

    def ingest_texts(self, records: Iterable[SourceText]) -> IngestReport:
        """Ingest already-extracted texts (e.g. a JSONL corpus) without a file parser.

        Same chunking, embedding, duplicate check and bookkeeping as files; embeddings are
        batched across records, which matters when each record is short.
        """
        report = IngestReport()
        started = time.perf_counter()
        settings = self._chunk_settings()
        with self._writing():
            known = self.state.hashes()
            batch: list[Parsed] = []
            for record in records:
                file_hash = self._versioned(content_hash(record.title + "\x00" + record.text))
                if known.get(record.source) == file_hash:
                    report.results.append(FileResult(record.source, "unchanged"))
                    continue
                job = ParseJob(Path(record.source), record.source, file_hash)
                elements = [TextElement(record.text, "NarrativeText",
                                        headings=(record.title,) if record.title else ())]
                try:
                    # A record id that looks like a file name gives its type (for filters).
                    file_type = Path(record.source).suffix.lower().lstrip(".") or "text"
                    docs = make_documents(elements, record.source, record.source, file_hash,
                                          file_type, settings)
                except LoadError as exc:
                    report.results.append(FileResult(record.source, "failed", reason=exc.reason))
                    continue
                batch.append(Parsed(job, docs))
                if sum(len(p.docs) for p in batch) >= WRITE_BATCH_CHUNKS:
                    self._write(batch, report)
                    batch = []
            self._write(batch, report)
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
        with self._writing():
            gone = self._remove(sources)
            if gone:
                self.sync_keyword_index(changed=True)
        return gone

    def drop_collection(self) -> int:
        """Delete every chunk, record and the keyword index of this collection; returns how
        many files it held. The documents on disk are not touched."""
        with self._writing():
            files = list(self.state.files())
            self.state.forget(files)
            self.store.drop()
            self.keyword_index.rebuild([], [], [])
        return len(files)

    def sync_keyword_index(self, changed: bool) -> None:
        """After a run: mark the collection changed (so other processes rebuild too), then
        bring this process's BM25 index up to date."""
        if changed:
            self.store.bump_version()
        refresh_keyword_index(self.store, self.keyword_index)

    def chunk(self, path: Path, source: str, file_hash: str) -> list[Document]:
        """One file's chunks, as they would be stored (no writing)."""
        docs, _ = documents_of(self.loader(path), source, path.name, file_hash,
                               self._chunk_settings())
        return docs

    # -- steps -----------------------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[list[str]]:
        """The collection's writer lock, and a run marker that tells the next run if this one
        was killed. Yields the files the repair after a killed run took out (to redo)."""
        from filelock import Timeout

        lock = self.state.lock()
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise IngestBusyError(
                f"Another docchat run is writing collection {self.state.collection!r} "
                f"(lock {lock.lock_file}); wait for it to finish, then run this again."
            ) from None
        try:
            repaired = self._recover() if self.state.begin_run() else []
            yield repaired
            self.state.end_run()
        finally:
            lock.release()

    def _recover(self) -> list[str]:
        """After a killed run: any file whose stored chunks disagree with the bookkeeping, and
        any chunks no file owns, are removed; returns the files, to be redone from scratch."""
        stored = self.store.source_counts()
        files = self.state.files()
        duplicates = self.state.duplicate_counts()
        bad = {s for s, n in files.items() if stored.get(s, 0) != n - duplicates.get(s, 0)}
        orphans = set(stored) - set(files)
        if bad | orphans:
            self.store.delete_sources(sorted(bad | orphans))
            self.state.forget(sorted(bad))
        self.store.bump_version()  # the keyword index may be stale whatever the counts say
        return sorted(bad)

    def _plan(self, paths: list[Path], report: IngestReport, progress: Progress | None,
              confine: Sequence[Path] | None = None) -> list[ParseJob]:
        """Hash every file; unchanged ones are done here, the rest become parse jobs."""
        known = self.state.hashes()
        jobs = []
        for path, result in expand_paths(paths, confine, self.own_folders):
            if result is None:
                source = str(path.resolve())
                try:
                    file_hash = self._versioned(hash_file(path))
                except OSError as exc:
                    reason = f"cannot read: {exc.strerror or exc}"
                    result = FileResult(source, "failed", reason=reason)
                else:
                    if known.get(source) != file_hash:
                        jobs.append(ParseJob(path, source, file_hash))
                        continue
                    result = FileResult(source, "unchanged")
            report.results.append(result)
            if progress is not None:
                progress(result)
        return jobs

    def _run_jobs(self, jobs: list[ParseJob], report: IngestReport,
                  progress: Progress | None) -> bool:
        settings = self._chunk_settings()
        batch: list[Parsed] = []
        redo: set[str] = set()
        for parsed in parse_all(jobs, self.loader, settings, self.config.parse_workers):
            if parsed.error:
                report.results.append(FileResult(parsed.job.source, "failed", reason=parsed.error,
                                                 seconds=parsed.seconds, notes=parsed.notes,
                                                 detail=parsed.detail))
                if parsed.detail:
                    log.info("%s: %s (%s)", parsed.job.source, parsed.error, parsed.detail)
                if progress is not None:
                    progress(report.results[-1])
                continue
            batch.append(parsed)
            if sum(len(p.docs) for p in batch) >= WRITE_BATCH_CHUNKS:
                redo |= self._write(batch, report, progress)
                batch = []
        redo |= self._write(batch, report, progress)
        # Files whose repeated passages were stored under a file just replaced: redo them.
        again = [Path(s) for s in sorted(redo) if Path(s).is_file()]
        if again:
            done = {r.path for r in report.results}
            extra = IngestReport()
            self._run_jobs(self._plan(again, extra, None), extra, None)
            report.results.extend(r for r in extra.results if r.path not in done)
        return bool(jobs) or bool(redo)

    def _write(self, batch: list[Parsed], report: IngestReport,
               progress: Progress | None = None) -> set[str]:
        """Embed and store a batch of parsed files; returns files to redo (see dependents)."""
        if not batch:
            return set()
        sources = [p.job.source for p in batch]
        docs = [d for p in batch for d in p.docs]
        embeddings = self.embedder.embed_documents([embedding_text(d) for d in docs])
        # Files with passages stored only under one of these: forgotten now, redone after.
        dependents = self.state.dependents(sources)
        self.state.forget(sorted(dependents))
        # Old chunks go first: a crash from here on leaves the run marker set, and the next run
        # repairs whatever this batch left half-written (new files have no old chunks: any
        # left by a killed run are orphans, which that repair removes).
        indexed = self.state.hashes()
        self.store.delete_sources([s for s in sources if s in indexed] + sorted(dependents))
        keep, duplicates = split_duplicates(docs, embeddings, self.store,
                                            self.config.duplicate_similarity)
        self.store.add([docs[i] for i in keep], [embeddings[i] for i in keep])
        self.state.record_many([(p.job.source, p.job.file_hash, len(p.docs)) for p in batch],
                               duplicates)
        repeated = {}
        for d in duplicates:
            repeated[d.source] = repeated.get(d.source, 0) + 1
        for p in batch:
            notes = p.notes
            if repeated.get(p.job.source):
                notes += (f"{repeated[p.job.source]} chunk(s) repeat stored passages and were "
                          "linked, not stored again",)
            result = FileResult(p.job.source, "ingested", chunks=len(p.docs),
                                seconds=p.seconds, notes=notes)
            report.results.append(result)
            if progress is not None:
                progress(result)
        return dependents

    def _prune(self, paths: list[Path], report: IngestReport) -> list[str]:
        """Indexed files under `paths` that are gone from disk."""
        targets = [str(p.resolve()) for p in paths]
        missing = [s for s in sources_under(self.state.files(), targets) if not Path(s).exists()]
        gone = self._remove(missing)
        report.results = [r for r in report.results
                          if not (r.status == "failed" and r.reason == "not found"
                                  and r.path in gone)]
        report.results.extend(FileResult(s, "removed", reason="deleted from disk") for s in gone)
        return gone

    def _remove(self, sources: Iterable[str]) -> list[str]:
        indexed = self.state.files()
        gone = sorted(s for s in set(sources) if s in indexed)
        if gone:
            dependents = self.state.dependents(gone)
            self.state.forget(gone + sorted(dependents))
            self.store.delete_sources(gone + sorted(dependents))
            again = [Path(s) for s in sorted(dependents) if Path(s).is_file()]
            if again:
                extra = IngestReport()
                self._run_jobs(self._plan(again, extra, None), extra, None)
        return gone

    def _versioned(self, file_hash: str) -> str:
        """The recorded hash also names how files were read and chunks made and embedded, so
        after changing the embedder, its backend or the chunk size, or upgrading to a docchat
        that reads files differently (PARSE_RECIPE), re-ingesting redoes the files."""
        cfg = self.config
        recipe = json.dumps([cfg.embedding_model, cfg.embed_backend, cfg.chunk_tokens,
                             cfg.chunk_overlap, PARSE_RECIPE])
        return f"{file_hash}-{content_hash(recipe)[:8]}"

    def _chunk_settings(self) -> ChunkSettings:
        # Workers need a picklable counter; fakes in tests count with a plain method.
        make_counter = getattr(self.embedder, "token_counter", None)
        counter = make_counter() if make_counter else None
        return ChunkSettings(
            count_tokens=counter or self.embedder.count_tokens,
            chunk_tokens=self.config.chunk_tokens,
            chunk_overlap=self.config.chunk_overlap,
            max_tokens=self.embedder.max_tokens,
        )


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
