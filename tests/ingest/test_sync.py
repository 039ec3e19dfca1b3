"""Keeping the index in step with a folder: prune, duplicates, the writer lock, recovery after
a killed run, and parsing in worker processes."""

from __future__ import annotations

import pytest

from ingest.errors import IngestBusyError
from ingest.types import SourceText
from tests.docs_fixtures import write_fixture_docs
from tests.ingest.test_pipeline import all_chunks, make_ingestor

PASSAGE = ("The Zephyr pump warranty lasts seven years from the date of purchase, and the "
           "receipt must be kept as proof.")


@pytest.fixture
def docs(tmp_path):
    return write_fixture_docs(tmp_path / "docs")


def consistent(ingestor) -> None:
    """Every file's chunks are stored exactly once; no orphans; BM25 matches the store."""
    stored = ingestor.store.source_counts()
    files = ingestor.state.files()
    duplicates = ingestor.state.duplicate_counts()
    assert set(stored) <= set(files), "orphan chunks"
    for source, chunks in files.items():
        assert stored.get(source, 0) == chunks - duplicates.get(source, 0), source
    ids = [c["chunk_id"] for c in all_chunks(ingestor.store)]
    assert len(ids) == len(set(ids))
    assert ingestor.keyword_index.count() == ingestor.store.count()


def test_prune_removes_files_deleted_from_the_folder(tmp_path, docs):
    ingestor = make_ingestor(tmp_path / "data")
    folder = docs["guide.md"].parent
    ingestor.ingest([folder])
    docs["orchids.html"].unlink()
    kept = ingestor.ingest([folder])
    assert str(docs["orchids.html"].resolve()) in ingestor.state.files(), "no prune: kept"
    assert kept.count("removed") == 0
    report = ingestor.ingest([folder], prune=True)
    assert report.count("removed") == 1 and report.count("unchanged") == 3
    assert "orchids.html" not in {c["file_name"] for c in all_chunks(ingestor.store)}
    assert ingestor.keyword_index.search("orchids rainwater", 3) == []
    consistent(ingestor)


def test_a_moved_file_is_indexed_once_at_its_new_path(tmp_path, docs):
    ingestor = make_ingestor(tmp_path / "data")
    folder = docs["guide.md"].parent
    ingestor.ingest([folder])
    (folder / "sub").mkdir()
    docs["guide.md"].rename(folder / "sub" / "guide.md")
    report = ingestor.ingest([folder], prune=True)
    assert report.count("removed") == 1 and report.count("ingested") == 1
    names = [c["source"] for c in all_chunks(ingestor.store) if "seven years" in c["text"]]
    assert names == [str((folder / "sub" / "guide.md").resolve())]
    consistent(ingestor)


def test_a_repeated_passage_is_stored_once_and_linked(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text(f"# Pumps\n\n{PASSAGE}\n")
    (folder / "b.md").write_text(f"# Pumps\n\n{PASSAGE}\n\n# Other\n\nOrchids like rainwater.\n")
    ingestor = make_ingestor(tmp_path / "data", chunk_tokens=24)  # each section a chunk
    report = ingestor.ingest([folder])
    texts = [c["text"] for c in all_chunks(ingestor.store)]
    assert sum("seven years" in t for t in texts) == 1
    b = next(r for r in report.results if r.path.endswith("b.md"))
    assert any("linked" in n for n in b.notes)
    stored = next(c for c in all_chunks(ingestor.store) if "seven years" in c["text"])
    assert ingestor.state.duplicates_of([stored["chunk_id"]])[stored["chunk_id"]] == [
        str((folder / "b.md").resolve())]
    consistent(ingestor)
    # The stored copy's file goes: the passage must still be found, now under b.md.
    ingestor.remove([folder / "a.md"])
    left = [c for c in all_chunks(ingestor.store) if "seven years" in c["text"]]
    assert [c["file_name"] for c in left] == ["b.md"]
    consistent(ingestor)


def test_a_second_writer_is_refused_with_a_clear_message(tmp_path, docs):
    ingestor = make_ingestor(tmp_path / "data")
    with ingestor.state.lock():
        with pytest.raises(IngestBusyError, match="Another docchat run is writing"):
            ingestor.ingest([docs["guide.md"]])
    assert ingestor.ingest([docs["guide.md"]]).count("ingested") == 1


def test_a_killed_run_is_detected_and_repaired(tmp_path, docs):
    ingestor = make_ingestor(tmp_path / "data")
    folder = docs["guide.md"].parent
    ingestor.ingest([folder])
    # As if killed mid-batch: the run marker left behind, one file's chunks half deleted,
    # and chunks that no file owns.
    ingestor.state.begin_run()
    guide = str(docs["guide.md"].resolve())
    victim = next(c for c in all_chunks(ingestor.store) if c["source"] == guide)
    ingestor.store._collection.delete(ids=[victim["chunk_id"]])
    orphan = next(c for c in all_chunks(ingestor.store) if c["source"] != guide)
    ingestor.store._collection.upsert(ids=["orphan-1"], documents=["stray"],
                                      metadatas=[dict(orphan, source="/gone/x.md")],
                                      embeddings=[[0.1] * 64])
    report = ingestor.ingest([docs["router.pdf"]])  # another file: the repair still happens
    assert [r.status for r in report.results if r.path == guide] == ["ingested"]
    assert report.count("unchanged") == 1
    consistent(ingestor)


def test_parsing_in_worker_processes_gives_the_same_chunks(tmp_path, docs):
    serial = make_ingestor(tmp_path / "serial")
    serial.config = serial.config.model_copy(update={"parse_workers": 0})
    parallel = make_ingestor(tmp_path / "parallel")
    parallel.config = parallel.config.model_copy(update={"parse_workers": 2})
    folder = docs["guide.md"].parent
    a, b = serial.ingest([folder]), parallel.ingest([folder])
    assert a.count("ingested") == b.count("ingested") == 4

    def key(ingestor):
        return sorted((c["file_name"], c["chunk_index"], c["text"]) for c in
                      all_chunks(ingestor.store))

    assert key(serial) == key(parallel)


def test_records_rerun_unchanged_and_changed(tmp_path):
    ingestor = make_ingestor(tmp_path / "data")
    ingestor.ingest_texts([SourceText("r1", "Barley grows fast.", "Crops"),
                           SourceText("r2", "Oats like rain.", "Crops")])
    report = ingestor.ingest_texts([SourceText("r1", "Barley grows fast.", "Crops"),
                                    SourceText("r2", "Oats like sunshine.", "Crops")])
    assert (report.count("unchanged"), report.count("ingested")) == (1, 1)
    consistent(ingestor)


def test_same_template_with_other_figures_is_not_a_duplicate():
    from ingest.dedup import same_words

    assert same_words("Sales rose 4% in March.", "sales rose 4 % in march")
    assert not same_words("Sales rose 4% in March.", "Sales rose 7% in March.")
    assert not same_words(PASSAGE, "The Zephyr pump warranty lasts seven years.")


def test_changing_how_chunks_are_made_redoes_the_files(tmp_path, docs):
    ingestor = make_ingestor(tmp_path / "data")
    ingestor.ingest([docs["guide.md"]])
    assert ingestor.ingest([docs["guide.md"]]).count("unchanged") == 1
    ingestor.config = ingestor.config.model_copy(update={"chunk_tokens": 60})
    report = ingestor.ingest([docs["guide.md"]])
    assert report.count("ingested") == 1
    consistent(ingestor)
