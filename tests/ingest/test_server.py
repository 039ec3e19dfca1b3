"""A Chroma server shared by several docchat processes, and its failure modes.

Each test that can runs on the embedded store too (`index_config`); the failure tests start
and stop their own `chroma run`.
"""

from __future__ import annotations

import socket

import pytest
from langchain_core.documents import Document

from chat.settings import load_settings
from ingest.config import IndexConfig, IngestConfig
from ingest.errors import ConfigError, StoreError
from ingest.keyword_index import KeywordIndex
from ingest.pipeline import Ingestor, refresh_keyword_index
from ingest.state import IngestState
from ingest.store import ChunkStore
from ingest.types import SourceText
from retriever.config import RetrieverConfig
from retriever.search import Retriever
from evals.servers import chroma_server, free_port
from tests.fakes import FakeEmbeddings


def instance(folder, shared, index_config, collection):
    """What one docchat process holds: its own data_dir (BM25 index, ingest state); the
    chunks are in `shared` (embedded) or on the server."""
    store = ChunkStore(shared, collection, index=index_config)
    keywords = KeywordIndex(folder / "bm25")
    ingestor = Ingestor(store, keywords, IngestState(folder / "state.sqlite", collection),
                        FakeEmbeddings(), IngestConfig())
    retriever = Retriever(store, keywords, FakeEmbeddings(), RetrieverConfig(mode="bm25"),
                          refresh=lambda: refresh_keyword_index(store, keywords), refresh_s=0)
    return ingestor, retriever


def test_what_one_process_ingests_another_finds_and_forgets(tmp_path, index_config,
                                                            collection_name):
    shared = tmp_path / "chroma"  # embedded: one database directory; server: unused
    a_ingest, _ = instance(tmp_path / "a", shared, index_config, collection_name)
    _, b_search = instance(tmp_path / "b", shared, index_config, collection_name)
    assert b_search.retrieve("kestrel router reset") == []

    a_ingest.ingest_texts([SourceText("router", "Hold the red button to reset the Kestrel "
                                                "router.", "Router"),
                           SourceText("pump", "The Zephyr pump warranty lasts seven years.")])
    hits = b_search.retrieve("kestrel router reset", k=1)
    assert [h.document.metadata["source"] for h in hits] == ["router"]
    assert b_search.keyword_index.built_from() == a_ingest.store.version()

    a_ingest.remove_sources(["router"])
    assert b_search.retrieve("kestrel router reset") == []
    assert b_search.keyword_index.count() == 1


def test_server_settings_are_checked_at_start(tmp_path):
    with pytest.raises(ConfigError, match="index.url"):
        load_settings(data_dir=tmp_path, index={"backend": "server"})
    with pytest.raises(ConfigError, match="http://host:port"):
        load_settings(data_dir=tmp_path, index={"backend": "server", "url": "localhost"})


def test_a_server_that_is_down_at_start_is_a_clear_error(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    store = ChunkStore(tmp_path, "test", index=IndexConfig(backend="server", url=url))
    with pytest.raises(StoreError, match=f"Cannot reach the Chroma server at {url}.*chroma run"):
        store.count()


def test_a_server_that_never_answers_times_out(tmp_path):
    with socket.socket() as listener:  # accepts connections, never replies
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        store = ChunkStore(tmp_path, "test",
                           index=IndexConfig(backend="server", url=url, timeout_s=1))
        with pytest.raises(StoreError, match="ReadTimeout"):
            store.count()


def test_a_server_lost_mid_session_is_reported_then_used_again_intact(tmp_path):
    port = free_port()
    index = IndexConfig(backend="server", url=f"http://127.0.0.1:{port}", retries=1)
    doc = Document(page_content="hello", metadata={"chunk_id": "c1", "source": "s1"})
    with chroma_server(tmp_path / "db", port):
        store = ChunkStore(tmp_path, "test", index=index)
        store.add([doc], [[1.0, 0.0]])
    with pytest.raises(StoreError, match="did not answer.*after 2 attempt"):
        store.count()
    with chroma_server(tmp_path / "db", port):  # same data, restarted
        assert store.count() == 1
        assert store.get(["c1"])[0].page_content == "hello"
