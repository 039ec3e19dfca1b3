"""The vector index: one Chroma collection of chunks with their embeddings and metadata.

docchat always passes its own embeddings; Chroma's default embedding function would try to
download a model.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from langchain_core.documents import Document

from ingest.config import IndexConfig
from ingest.errors import StoreError

# Chroma's add() rejects batches above its max_batch_size (~5k); stay well below.
_WRITE_BATCH = 1000


# Chroma distance -> similarity (higher is better) for the normalised vectors docchat stores.
_SIMILARITY = {
    "cosine": lambda d: 1.0 - d,
    "ip": lambda d: 1.0 - d,  # Chroma's ip distance is 1 - dot product
    "l2": lambda d: 1.0 - d / 2.0,  # squared L2 of unit vectors = 2 - 2 cos
}


VERSION_KEY = "docchat_version"  # collection metadata: changes whenever the chunks change
CONNECT_TIMEOUT_S = 5.0


class ChunkStore:
    """One collection, embedded under `path` or on a Chroma server (`index.backend`)."""

    def __init__(self, path: Path, collection: str, distance: str = "cosine",
                 index: IndexConfig | None = None) -> None:
        self.path = Path(path)
        self.collection_name = collection
        self.distance = distance
        self.index = index or IndexConfig()

    @property
    def remote(self) -> bool:
        return self.index.backend == "server"

    @property
    def location(self) -> str:
        if self.remote:
            return f"the Chroma server at {self.index.url}"
        return f"the index at {self.path}"

    @cached_property
    def _client(self):
        import chromadb
        from chromadb.config import Settings

        settings = Settings(anonymized_telemetry=False)
        try:
            if not self.remote:
                self.path.mkdir(parents=True, exist_ok=True)
                return chromadb.PersistentClient(path=str(self.path), settings=settings)
            return connect_server(self.index, settings)
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"Could not open {self.location}: {exc}") from exc

    @cached_property
    def _collection(self):
        try:
            collection = self._client.get_or_create_collection(
                self.collection_name,
                configuration={"hnsw": {"space": self.distance}},
                embedding_function=None,
            )
        except Exception as exc:
            raise StoreError(f"Could not open {self.location}: {exc}") from exc
        space = (collection.configuration_json.get("hnsw") or {}).get("space", self.distance)
        if space != self.distance:
            raise StoreError(
                f"Collection {self.collection_name!r} was built with distance {space!r}, but "
                f"ingest.distance is {self.distance!r}. Use {space!r}, or ingest into a new "
                "collection."
            )
        return collection

    def _call(self, operation: str, *args: Any, **kwargs: Any) -> Any:
        """Run a collection operation (see _retrying)."""
        return self._retrying(lambda: getattr(self._collection, operation)(*args, **kwargs))

    def _retrying(self, action: Any) -> Any:
        """Run `action`; on a server, retry connection errors, then explain."""
        attempts = 1 + (self.index.retries if self.remote else 0)
        for attempt in range(attempts):
            try:
                return action()
            except Exception as exc:
                if not (self.remote and _is_transport_error(exc)):
                    raise
                if attempt + 1 == attempts:
                    raise StoreError(
                        f"{self.location} did not answer ({type(exc).__name__}: {exc}) after "
                        f"{attempts} attempt(s). Is it running? Check index.url and "
                        "index.timeout_s."
                    ) from exc
                time.sleep(0.2 * 2**attempt)

    def version(self) -> str | None:
        """Changes whenever any process changes this collection's chunks."""
        def fresh_metadata():
            _ = self._collection  # created (and its distance checked) on first use
            return self._client.get_collection(self.collection_name,
                                               embedding_function=None).metadata
        return (self._retrying(fresh_metadata) or {}).get(VERSION_KEY)

    def bump_version(self) -> str:
        version = uuid.uuid4().hex
        self._call("modify", metadata={VERSION_KEY: version})
        return version

    def add(self, docs: Sequence[Document], embeddings: Sequence[Sequence[float]]) -> None:
        if len(docs) != len(embeddings):
            raise ValueError(f"{len(docs)} documents but {len(embeddings)} embeddings")
        for start in range(0, len(docs), _WRITE_BATCH):
            part = docs[start : start + _WRITE_BATCH]
            self._call(
                "upsert",
                ids=[d.metadata["chunk_id"] for d in part],
                documents=[d.page_content for d in part],
                metadatas=[d.metadata for d in part],
                embeddings=[list(e) for e in embeddings[start : start + _WRITE_BATCH]],
            )

    def get(self, ids: Sequence[str]) -> list[Document]:
        """The chunks with these ids, in the order given (missing ids are left out)."""
        if not ids:
            return []
        got = self._call("get", ids=list(ids), include=["documents", "metadatas"])
        by_id = {
            cid: Document(id=cid, page_content=text, metadata=dict(meta))
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"])
        }
        return [by_id[i] for i in ids if i in by_id]

    def chunks_of(self, source: str) -> list[Document]:
        """Every stored chunk of one source, in document order."""
        got = self._call("get", where={"source": source}, include=["documents", "metadatas"])
        docs = [Document(id=cid, page_content=text, metadata=dict(meta))
                for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"])]
        return sorted(docs, key=lambda d: d.metadata.get("chunk_index", 0))

    def embeddings(self, ids: Sequence[str]) -> dict[str, list[float]]:
        got = self._call("get", ids=list(ids), include=["embeddings"])
        return {cid: list(vec) for cid, vec in zip(got["ids"], got["embeddings"])}

    def all(self, include_embeddings: bool = False) -> dict[str, list]:
        """Every chunk: ids, documents, metadatas (and embeddings), read in pages."""
        include = ["documents", "metadatas"] + (["embeddings"] if include_embeddings else [])
        out: dict[str, list] = {"ids": [], "documents": [], "metadatas": [], "embeddings": []}
        total = self.count()
        for offset in range(0, total, _WRITE_BATCH * 5):
            page = self._call("get", include=include, limit=_WRITE_BATCH * 5, offset=offset)
            for key in out:
                if key == "ids" or key in include:
                    out[key].extend(page[key])
        return out

    def source_counts(self) -> dict[str, int]:
        """How many chunks each source has in the store (for crash recovery)."""
        counts: dict[str, int] = {}
        for offset in range(0, self.count(), _WRITE_BATCH * 5):
            page = self._call("get", include=["metadatas"], limit=_WRITE_BATCH * 5, offset=offset)
            for meta in page["metadatas"]:
                counts[meta["source"]] = counts.get(meta["source"], 0) + 1
        return counts

    def nearest_each(
        self, embeddings: Sequence[Sequence[float]]
    ) -> list[tuple[str, str, str, float]]:
        """For each embedding its nearest stored chunk: (chunk id, source, text, similarity)."""
        if len(embeddings) == 0 or self.count() == 0:
            return []
        to_similarity = _SIMILARITY[self.distance]
        out = []
        for start in range(0, len(embeddings), _WRITE_BATCH):
            part = [[float(x) for x in e] for e in embeddings[start : start + _WRITE_BATCH]]
            result = self._call("query", query_embeddings=part, n_results=1,
                                include=["metadatas", "documents", "distances"])
            for ids, metas, texts, dists in zip(result["ids"], result["metadatas"],
                                                result["documents"], result["distances"]):
                out.append((ids[0], metas[0]["source"], texts[0], to_similarity(float(dists[0]))))
        return out

    def drop(self) -> None:
        """Delete the whole collection (it is created again, empty, on next use)."""
        try:
            self._retrying(lambda: self._client.delete_collection(self.collection_name))
        except StoreError:
            raise
        except Exception:  # chromadb raises NotFoundError/ValueError when it does not exist
            pass
        self.__dict__.pop("_collection", None)

    def delete_sources(self, sources: Sequence[str]) -> None:
        for start in range(0, len(sources), _WRITE_BATCH):
            part = list(sources[start : start + _WRITE_BATCH])
            self._call("delete", where={"source": {"$in": part}})

    def count(self) -> int:
        return self._call("count")

    def _nearest(self, embedding, k: int, where, include: list[str]) -> dict | None:
        total = self.count()
        if total == 0:
            return None
        return self._call(
            "query", query_embeddings=[list(embedding)], n_results=min(k, total), where=where,
            include=include + ["distances"],
        )

    def query_ids(
        self, embedding: Sequence[float], k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """Like query(), ids and similarities only: cheaper when most results are dropped."""
        result = self._nearest(embedding, k, where, [])
        if result is None:
            return []
        to_similarity = _SIMILARITY[self.distance]
        return [(cid, to_similarity(float(d)))
                for cid, d in zip(result["ids"][0], result["distances"][0])]

    def query(
        self, embedding: Sequence[float], k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[Document, float]]:
        """The k nearest chunks with their similarity (for cosine: 1 - cosine distance)."""
        result = self._nearest(embedding, k, where, ["documents", "metadatas"])
        if result is None:
            return []
        hits = zip(result["ids"][0], result["documents"][0], result["metadatas"][0],
                   result["distances"][0])
        to_similarity = _SIMILARITY[self.distance]
        return [
            (Document(id=cid, page_content=text, metadata=dict(meta)), to_similarity(float(dist)))
            for cid, text, meta, dist in hits
        ]


def connect_server(index: IndexConfig, settings: Any) -> Any:
    """A Chroma HttpClient whose requests time out (Chroma's own client waits forever)."""
    import chromadb
    import httpx

    url = urlparse(index.url or "")
    headers = dict(index.headers)
    if index.token is not None:
        headers["Authorization"] = f"Bearer {index.token.get_secret_value()}"
    timeout = httpx.Timeout(index.timeout_s, connect=min(CONNECT_TIMEOUT_S, index.timeout_s))
    try:  # bounded check first: creating the client makes an unbounded request
        httpx.get(f"{index.url.rstrip('/')}/api/v2/heartbeat", headers=headers,
                  timeout=timeout).raise_for_status()
    except httpx.HTTPError as exc:
        raise StoreError(
            f"Cannot reach the Chroma server at {index.url} ({type(exc).__name__}: {exc}). "
            "Start it (`chroma run --path DIR --port N`) or fix index.url."
        ) from exc
    client = chromadb.HttpClient(
        host=url.hostname, port=url.port or (443 if url.scheme == "https" else 80),
        ssl=url.scheme == "https", headers=headers, settings=settings,
    )
    client._server._session.timeout = timeout  # private, but the only place to set it
    return client


def _is_transport_error(exc: BaseException) -> bool:
    import httpx

    return isinstance(exc, (httpx.TransportError, ConnectionError, TimeoutError))
