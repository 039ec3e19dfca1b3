"""The ingest pipeline with the real parser and Chroma, and a fake embedder."""

from pathlib import Path

import pytest

from ingest.config import IndexConfig, IngestConfig
from ingest.keyword_index import KeywordIndex
from ingest.pipeline import Ingestor
from ingest.state import IngestState
from ingest.store import ChunkStore
from tests.docs_fixtures import write_fixture_docs
from tests.fakes import FakeEmbeddings


def make_ingestor(data: Path, collection: str = "test", chunk_tokens: int = 20,
                  index: IndexConfig | None = None) -> Ingestor:
    # Small chunks (fake tokens are words), so each fixture section becomes its own chunk.
    # Parsed in this process (a worker imports unstructured again, ~10 s); test_sync and
    # test_crash run the workers.
    return Ingestor(
        ChunkStore(data / "chroma", collection, index=index),
        KeywordIndex(data / "bm25" / collection),
        IngestState(data / "state.sqlite", collection),
        FakeEmbeddings(),
        IngestConfig(chunk_tokens=chunk_tokens, chunk_overlap=4, parse_workers=0),
    )


@pytest.fixture
def new_ingestor(tmp_path, index_config, collection_name):
    """An ingestor on the embedded store or on a real Chroma server (tests run on both)."""
    return lambda: make_ingestor(tmp_path / "data", collection_name, index=index_config)


@pytest.fixture
def docs(tmp_path) -> dict[str, Path]:
    return write_fixture_docs(tmp_path / "docs")


def all_chunks(store: ChunkStore) -> list[dict]:
    got = store._collection.get(include=["metadatas", "documents"])
    return [dict(m, text=t) for m, t in zip(got["metadatas"], got["documents"])]


def test_ingests_each_format_with_metadata(tmp_path, docs, new_ingestor):
    ingestor = new_ingestor()
    report = ingestor.ingest([docs["guide.md"].parent])
    assert report.count("ingested") == 4, report.to_dict()
    assert report.failed == []
    chunks = all_chunks(ingestor.store)
    assert len(chunks) == report.chunks == ingestor.store.count()
    by_type = {c["file_type"] for c in chunks}
    assert by_type == {"md", "html", "docx", "pdf"}
    warranty = next(c for c in chunks if "seven years" in c["text"])
    assert warranty["section"].startswith("Zephyr pump handbook")
    cleaning = next(c for c in chunks if "intake filter" in c["text"])
    assert cleaning["section"] == "Zephyr pump handbook > Cleaning"
    assert warranty["file_name"] == "guide.md"
    reset = next(c for c in chunks if "twelve seconds" in c["text"])
    assert reset["page"] == 2
    assert all(len(c["content_hash"]) == 64 for c in chunks)
    assert len({c["chunk_id"] for c in chunks}) == len(chunks)


def test_rerun_skips_unchanged_and_replaces_changed_files(tmp_path, docs, new_ingestor):
    ingestor = new_ingestor()
    first = ingestor.ingest([docs["guide.md"].parent])
    calls_after_first = len(ingestor.embedder.calls)

    again = ingestor.ingest([docs["guide.md"].parent])
    assert again.count("unchanged") == 4
    assert len(ingestor.embedder.calls) == calls_after_first, "nothing re-embedded"
    assert ingestor.store.count() == first.chunks

    docs["guide.md"].write_text("# Zephyr pump\n\nThe warranty now lasts ten years.\n")
    changed = ingestor.ingest([docs["guide.md"].parent])
    assert changed.count("ingested") == 1 and changed.count("unchanged") == 3
    texts = [c["text"] for c in all_chunks(ingestor.store) if c["file_name"] == "guide.md"]
    assert any("ten years" in t for t in texts)
    assert not any("seven years" in t for t in texts), "old chunks of a changed file are gone"


def test_mojibake_is_repaired_and_reported(tmp_path, new_ingestor):
    # A real page double-encoded its pound signs: valid UTF-8 that reads "Â£850,000".
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "club.txt").write_text("Norwich paid Â£850,000 to Wolves for the striker in "
                                     "1997, a club record at the time.\n", encoding="utf-8")
    (folder / "plain.txt").write_text("The café opened in 1997 and still serves tea.\n",
                                      encoding="utf-8")
    report = new_ingestor().ingest([folder])
    results = {Path(r.path).name: r for r in report.results}
    assert results["club.txt"].status == "ingested"
    assert any("mojibake" in n for n in results["club.txt"].notes), results["club.txt"].notes
    assert results["plain.txt"].notes == (), "right text is not touched or reported"
    texts = [c["text"] for c in all_chunks(new_ingestor().store)]
    assert any("paid £850,000 to Wolves" in t for t in texts), texts
    assert any("The café opened" in t for t in texts)


def test_a_new_parse_recipe_reads_unchanged_files_again(tmp_path, docs, new_ingestor,
                                                        monkeypatch):
    # An upgrade that reads files differently must reach indexes built before it.
    ingestor = new_ingestor()
    ingestor.ingest([docs["guide.md"].parent])
    monkeypatch.setattr("ingest.pipeline.PARSE_RECIPE", 10**6)
    again = new_ingestor().ingest([docs["guide.md"].parent])
    assert again.count("ingested") == 4, again.to_dict()
    assert again.count("unchanged") == 0


def test_broken_files_are_reported_and_the_batch_goes_on(tmp_path, docs, new_ingestor):
    folder = docs["guide.md"].parent
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.txt").write_text("   \n\n  \t\n")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\nthis is not really a pdf\n")
    (folder / ".hidden.md").write_text("# secret\n\nnot ingested\n")
    (folder / ".git").mkdir()
    (folder / ".git" / "config").write_text("[core]\n")
    ingestor = new_ingestor()
    report = ingestor.ingest([folder, tmp_path / "missing.md"])

    status = {Path(r.path).name: (r.status, r.reason) for r in report.results}
    assert status["empty.txt"] == ("failed", "the file is empty (0 bytes)")
    assert status["blank.txt"][0] == "failed"
    assert "no text" in status["blank.txt"][1]
    assert status["broken.pdf"][0] == "failed" and status["broken.pdf"][1]
    assert status["missing.md"] == ("failed", "not found")
    assert status[".hidden.md"] == ("skipped", "hidden file")
    assert status[".git"] == ("skipped", "hidden folder")
    assert report.count("ingested") == 4, "the good files are still ingested"
    assert {c["file_name"] for c in all_chunks(ingestor.store)} == set(docs)


def test_collections_are_separate(tmp_path, docs):
    data = tmp_path / "data"
    make_ingestor(data, "first").ingest([docs["guide.md"]])
    second = make_ingestor(data, "second")
    assert second.store.count() == 0
    assert second.ingest([docs["guide.md"]]).count("ingested") == 1, "not 'unchanged'"


def test_store_query_returns_similarity_and_honours_filters(tmp_path, docs, new_ingestor):
    ingestor = new_ingestor()
    ingestor.ingest([docs["guide.md"].parent])
    vector = ingestor.embedder.embed_query("reset the Kestrel router red button")
    hits = ingestor.store.query(vector, k=3)
    assert hits[0][0].metadata["file_name"] == "router.pdf"
    assert hits[0][1] >= hits[1][1] >= hits[2][1]
    only_md = ingestor.store.query(vector, k=3, where={"file_type": "md"})
    assert {d.metadata["file_type"] for d, _ in only_md} == {"md"}


def test_removing_files_updates_store_keyword_index_and_state(tmp_path, docs, new_ingestor):
    ingestor = new_ingestor()
    ingestor.ingest([docs["guide.md"].parent])
    assert [i for i, _ in ingestor.keyword_index.search("orchids rainwater", 3)]
    docs["orchids.html"].unlink()  # already gone from disk: removal works on the index
    gone = ingestor.remove([docs["orchids.html"]])
    assert gone == [str(docs["orchids.html"].resolve())]
    names = {c["file_name"] for c in all_chunks(ingestor.store)}
    assert names == {"guide.md", "budget.docx", "router.pdf"}
    assert ingestor.keyword_index.search("orchids rainwater", 3) == []
    assert ingestor.keyword_index.count() == ingestor.store.count()
    assert str(docs["orchids.html"].resolve()) not in ingestor.state.files()

    assert len(ingestor.remove([docs["guide.md"].parent])) == 3, "a folder removes its files"
    assert ingestor.store.count() == 0 and ingestor.keyword_index.count() == 0
    assert ingestor.remove([tmp_path / "never-indexed.md"]) == []


def test_records_are_removed_by_their_id_and_idf_follows_the_index(tmp_path, new_ingestor):
    from ingest.types import SourceText

    ingestor = new_ingestor()
    ingestor.ingest_texts([SourceText("rec-1", "Zephyr pumps need filters.", "Pumps"),
                           SourceText("rec-2", "Orchids need rainwater and pumps.", "Plants")])
    idf = ingestor.keyword_index.idf(["pump", "orchid", "unseen"])
    assert idf["unseen"] > idf["orchid"] > idf["pump"], "rarer words weigh more"
    assert ingestor.remove_sources(["rec-2", "never-indexed"]) == ["rec-2"]
    assert set(ingestor.state.files()) == {"rec-1"}
    assert ingestor.keyword_index.search("orchids rainwater", 3) == []


def test_keyword_index_is_repaired_when_it_disagrees_with_the_store(docs, new_ingestor):
    ingestor = new_ingestor()
    ingestor.ingest([docs["guide.md"]])
    ingestor.keyword_index.rebuild([], [], [])  # as if a run died before the rebuild
    report = ingestor.ingest([docs["guide.md"]])
    assert report.count("unchanged") == 1
    assert ingestor.keyword_index.count() == ingestor.store.count() > 0
