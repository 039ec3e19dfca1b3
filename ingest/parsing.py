"""Parse and chunk files, in worker processes while the main process embeds.

Parsing is CPU-bound Python (unstructured, pdfminer), so threads would not overlap it with
embedding; a process pool does. Workers are started with "spawn": forking a process that has
torch loaded is not safe. A pool costs a few seconds to start (imports), so small runs parse
in-process.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_core.documents import Document

from ingest.chunking import chunk_elements, content_hash
from ingest.errors import LoadError
from ingest.types import TextElement, numbered_id

if TYPE_CHECKING:
    from ingest.loaders import LoadedFile

# Below this many files to parse, a worker pool's start-up costs more than it saves.
MIN_FILES_FOR_WORKERS = 4
# Bump when what a file is read into changes (a reader fixed, text repaired): it is part of
# every recorded file hash (ingest.pipeline), so the next sync reads the files again.
PARSE_RECIPE = 3


@dataclass(frozen=True)
class ChunkSettings:
    count_tokens: Callable[[str], int]  # picklable when parsing runs in workers
    chunk_tokens: int
    chunk_overlap: int
    max_tokens: int


@dataclass(frozen=True)
class ParseJob:
    path: Path
    source: str
    file_hash: str


@dataclass
class Parsed:
    job: ParseJob
    docs: list[Document] = field(default_factory=list)
    error: str = ""
    detail: str = ""
    notes: tuple[str, ...] = ()
    seconds: float = 0.0


def parse_all(
    jobs: list[ParseJob], loader, settings: ChunkSettings, workers: int
) -> Iterator[Parsed]:
    """Parsed files in the order of `jobs`; with workers > 0 they parse ahead of the caller."""
    if workers <= 0 or len(jobs) < MIN_FILES_FOR_WORKERS:
        for job in jobs:
            yield parse_file(job, loader, settings)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context,
                             initializer=_exit_with_parent, initargs=(os.getpid(),)) as pool:
        yield from pool.map(_parse_in_worker, _with(jobs, loader, settings))


def _exit_with_parent(parent: int) -> None:
    """A worker outlives a parent killed with SIGKILL: its task queue's pipe stays open (the
    worker holds both ends), so it would wait forever holding its memory. Watch instead."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def _with(jobs: Iterable[ParseJob], loader, settings) -> Iterator[tuple]:
    for job in jobs:
        yield job, loader, settings


def _parse_in_worker(args: tuple) -> Parsed:
    import ingest.offline  # noqa: F401  (a spawned worker starts without the app's switches)

    return parse_file(*args)


def parse_file(job: ParseJob, loader, settings: ChunkSettings) -> Parsed:
    started = time.perf_counter()
    try:
        docs, notes = documents_of(loader(job.path), job.source, job.path.name, job.file_hash,
                                   settings)
    except LoadError as exc:
        return Parsed(job, error=exc.reason, detail=exc.detail,
                      seconds=time.perf_counter() - started)
    except Exception as exc:  # a reader's own bug: this file fails, the batch goes on
        from ingest.loaders import describe, detail

        return Parsed(job, error=describe(exc), detail=detail(exc),
                      seconds=time.perf_counter() - started)
    return Parsed(job, docs, notes=notes, seconds=time.perf_counter() - started)


def documents_of(loaded: LoadedFile, source: str, name: str, file_hash: str,
                 settings: ChunkSettings) -> tuple[list[Document], tuple[str, ...]]:
    """A loaded file's chunks, as stored, and its notes (what was worked around)."""
    elements, repaired = repair_encoding(loaded.elements)
    docs = make_documents(elements, source, name, file_hash, loaded.file_type, settings,
                          loaded.metadata)
    notes = loaded.notes + (("text decoded with the wrong encoding (mojibake such as 'Ã©' "
                             f"for 'é') repaired in {repaired} passage(s)",)
                            if repaired else ())
    return docs, notes


def repair_encoding(elements: list[TextElement]) -> tuple[list[TextElement], int]:
    """The elements with mojibake undone by ftfy, and how many texts (passages and distinct
    headings) it changed. A page saved through two encodings reads "Â£850,000"; the reader
    cannot know, the text can."""
    from ftfy import fix_encoding

    out, changed, headings_fixed = [], 0, set()
    for element in elements:
        if element.text.isascii() and all(h.isascii() for h in element.headings):
            out.append(element)  # nothing to repair (and most text is ASCII)
            continue
        text = fix_encoding(element.text)
        headings = tuple(fix_encoding(h) for h in element.headings)
        changed += text != element.text
        headings_fixed.update(h for h, new in zip(element.headings, headings) if h != new)
        out.append(replace(element, text=text, headings=headings))
    return out, changed + len(headings_fixed)


def make_documents(
    elements: list[TextElement], source: str, name: str, file_hash: str, file_type: str,
    settings: ChunkSettings, file_metadata: dict[str, str] | None = None,
) -> list[Document]:
    pieces = chunk_elements(
        elements,
        count_tokens=settings.count_tokens,
        chunk_tokens=settings.chunk_tokens,
        chunk_overlap=settings.chunk_overlap,
        max_tokens=settings.max_tokens,
    )
    if not pieces:
        raise LoadError(source, "no text left after splitting into chunks")
    docs = []
    # Ids depend on the source too: two copies of one file must not overwrite each other.
    prefix = content_hash(source + "\x00" + file_hash)[:24]
    for index, (text, meta) in enumerate(pieces):
        chunk_id = numbered_id(prefix, index)
        meta.update(
            **(file_metadata or {}),  # a page's own title and tags (front matter)
            source=source,
            file_name=name,
            file_type=file_type,
            chunk_index=index,
            chunk_id=chunk_id,
            content_hash=content_hash(text),
        )
        docs.append(Document(id=chunk_id, page_content=text, metadata=meta))
    return docs
