"""The BM25 keyword index (bm25s), persisted beside the Chroma collection.

Rebuilt from the collection's chunks at the end of an ingest run that changed something (a
few seconds for 100k chunks), never per query. bm25s has no incremental update; a rebuild
keeps BM25's document statistics exact. Each build is written to a fresh folder and then
published by atomically replacing the CURRENT pointer, so readers in other processes never
see a half-written index and pick up a new one on their next query.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

# BM25+ (Lv & Zhai 2011; delta 0.5) with k1 1.2 / b 0.9, and a chunk's score plus its whole
# file's score (the file's chunks as one text: chunking loses the evidence spread over a
# document's other passages). Chosen together by `python -m evals tune-retrieval`, by the best
# worst case over SciFact and SQuAD train queries, among the variants whose IDF stays positive
# (Robertson's is 0 for a term in half the files: a one-file collection would match nothing)
# x 4 k1 x 3 b x 3 file weights (docs/retrieval.md).
METHOD = "bm25+"
K1 = 1.2
B = 0.9
DELTA = 0.5
DOC_WEIGHT = 1.0
# What a build's scores depend on besides the chunks: an index built another way is rebuilt.
RECIPE = (f"bm25s {METHOD} k1={K1} b={B} delta={DELTA} doc={DOC_WEIGHT} en-stopwords "
          "snowball-english")
_POINTER = "CURRENT"
_BUILT_FROM = "BUILT_FROM"  # the vector store version this build reflects, and the recipe


@dataclass
class _Loaded:
    version: str
    bm25: object
    ids: list[str]
    sources: np.ndarray
    file_types: np.ndarray
    documents: object = None  # BM25 over whole files (their chunks joined), or None
    document_of: np.ndarray | None = None  # chunk row -> document row


class KeywordIndex:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._loaded: _Loaded | None = None
        self._lock = threading.Lock()

    # ---- writing -------------------------------------------------------------------------
    def rebuild(self, ids: Sequence[str], texts: Sequence[str], metadatas: Sequence[dict],
                built_from: str | None = None) -> None:
        """Build from these chunks and publish; `built_from` is the store version they are."""
        bm25s = _bm25s()

        self.path.mkdir(parents=True, exist_ok=True)
        version = uuid.uuid4().hex[:12]
        staging = self.path / f".building-{version}"
        staging.mkdir()
        sources = [m.get("source", "") for m in metadatas]
        document_of = document_rows(sources)
        if ids:
            bm25 = bm25s.BM25(k1=K1, b=B, delta=DELTA, method=METHOD)
            bm25.index(tokenize(texts), show_progress=False)
            bm25.save(str(staging), show_progress=False)
            if DOC_WEIGHT:
                joined: list[list[str]] = [[] for _ in range(max(document_of) + 1)]
                for row, text in zip(document_of, texts):
                    joined[row].append(text)
                documents = bm25s.BM25(k1=K1, b=B, delta=DELTA, method=METHOD)
                documents.index(tokenize(["\n".join(parts) for parts in joined]),
                                show_progress=False)
                documents.save(str(staging / "documents"), show_progress=False)
        (staging / "chunks.json").write_text(json.dumps({
            "ids": list(ids),
            "sources": sources,
            "file_types": [m.get("file_type", "") for m in metadatas],
            "document_of": document_of,
        }))
        (staging / _BUILT_FROM).write_text(f"{built_from or ''}\n{RECIPE}")
        os.replace(staging, self.path / version)
        pointer = self.path / f".{_POINTER}.{version}"
        pointer.write_text(version)
        os.replace(pointer, self.path / _POINTER)  # the atomic switch
        for old in self.path.iterdir():
            if old.is_dir() and old.name != version and not old.name.startswith("."):
                shutil.rmtree(old, ignore_errors=True)

    def count(self) -> int | None:
        """Chunks in the published index, or None when there is none yet. Reads only the id
        list, not the BM25 matrix: an ingest run checks this without searching."""
        for _ in range(2):  # a second look if a newer build replaced it meanwhile
            version = self._current_version()
            if version is None:
                return None
            if self._loaded is not None and self._loaded.version == version:
                return len(self._loaded.ids)
            try:
                return len(json.loads((self.path / version / "chunks.json").read_text())["ids"])
            except FileNotFoundError:
                continue
        return None  # a broken pointer: the caller's count check then rebuilds the index

    def built_from(self) -> str | None:
        """The store version the published index was built from (None: none, unknown, or
        built with other BM25 settings than today's)."""
        version = self._current_version()
        if version is None:
            return None
        try:
            text = (self.path / version / _BUILT_FROM).read_text()
            store_version, _, recipe = text.partition("\n")
        except FileNotFoundError:
            return None
        return (store_version.strip() or None) if recipe.strip() == RECIPE else None

    def sources(self) -> set[str]:
        """Every source (file path or record id) in the published index."""
        loaded = self._load()
        return set() if loaded is None else set(loaded.sources.tolist())

    # ---- reading -------------------------------------------------------------------------
    def _current_version(self) -> str | None:
        try:
            return (self.path / _POINTER).read_text().strip() or None
        except FileNotFoundError:
            return None

    def _load(self) -> _Loaded | None:
        version = self._current_version()
        if version is None:
            return None
        with self._lock:
            if self._loaded is None or self._loaded.version != version:
                try:
                    self._loaded = self._read(version)
                except FileNotFoundError:  # replaced by a newer build while we looked
                    self._loaded = self._read(self._current_version() or version)
            return self._loaded

    def _read(self, version: str) -> _Loaded:
        bm25s = _bm25s()

        folder = self.path / version
        meta = json.loads((folder / "chunks.json").read_text())
        bm25 = bm25s.BM25.load(str(folder), show_progress=False) if meta["ids"] else None
        documents = None
        if (folder / "documents").is_dir():
            documents = bm25s.BM25.load(str(folder / "documents"), show_progress=False)
        return _Loaded(version, bm25, meta["ids"], np.array(meta["sources"], dtype=object),
                       np.array(meta["file_types"], dtype=object), documents,
                       np.array(meta.get("document_of", []), dtype=np.int64))

    def idf(self, terms: Sequence[str]) -> dict[str, float]:
        """Inverse document frequency of stemmed terms, log(1 + N / (1 + df)): how rare a
        word is in this collection. A term the index has never seen counts as rarest."""
        loaded = self._load()
        if loaded is None or loaded.bm25 is None:
            return {t: 1.0 for t in terms}
        n = loaded.bm25.scores["num_docs"]
        indptr = loaded.bm25.scores["indptr"]
        nnz = len(loaded.bm25.scores["indices"])
        out = {}
        for term in terms:
            i = loaded.bm25.vocab_dict.get(term)
            df = 0 if i is None else (indptr[i + 1] if i + 1 < len(indptr) else nnz) - indptr[i]
            out[term] = float(np.log1p(n / (1 + df)))
        return out

    def search(
        self, query: str, k: int, *, sources: set[str] | None = None,
        file_types: set[str] | None = None,
    ) -> list[tuple[str, float]]:
        """Top-k chunk ids by BM25 score (> 0), optionally restricted by source or file type."""
        loaded = self._load()
        if loaded is None or loaded.bm25 is None or k <= 0:
            return []
        tokens = tokenize([query], return_ids=False)[0]
        if not tokens:
            return []
        scores = match_scores(loaded.bm25, tokens)
        if loaded.documents is not None:
            scores = scores + DOC_WEIGHT * match_scores(loaded.documents,
                                                        tokens)[loaded.document_of]
        if sources is not None:
            scores = scores * np.isin(loaded.sources, list(sources))
        if file_types is not None:
            scores = scores * np.isin(loaded.file_types, list(file_types))
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(loaded.ids[i], float(scores[i])) for i in top if scores[i] > 0]


def match_scores(bm25, tokens: list[str]) -> np.ndarray:
    """BM25 scores in which 0 means "no query term occurs". bm25s adds to every document, for
    BM25+ and BM25L, what a term that does not occur in it would score (delta times the IDF):
    the same for all documents, so taking it away changes no order, and the filters and the
    fusion's floor can keep reading 0 as no match."""
    scores = bm25.get_scores(tokens)
    if getattr(bm25, "nonoccurrence_array", None) is not None:
        ids = bm25.get_tokens_ids(tokens)
        scores = scores - bm25.nonoccurrence_array[ids].sum()
        scores[scores < 1e-5] = 0.0  # float rounding of the subtraction is not a match
    return scores


def document_rows(sources: Sequence[str]) -> list[int]:
    """Each chunk's document (file) as a row number, in order of first appearance."""
    rows: dict[str, int] = {}
    return [rows.setdefault(source, len(rows)) for source in sources]


@lru_cache(maxsize=1)
def _bm25s():
    import logging

    import bm25s

    # bm25s sets its logger to DEBUG on import: "DEBUG:bm25s:Building index…" on every start
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


@lru_cache(maxsize=1)
def stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: Sequence[str], return_ids: bool = True):
    """Lower-case words, English stop words removed, Snowball-stemmed (PyStemmer)."""
    bm25s = _bm25s()
    return bm25s.tokenize(
        list(texts), stopwords="en", stemmer=stemmer(), return_ids=return_ids,
        show_progress=False,
    )
