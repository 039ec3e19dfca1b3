"""A watched folder: the index follows files created, edited, renamed and deleted within
seconds; temporary files are ignored; the writer lock is respected."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ingest.walk import is_temporary
from ingest.watch import FolderWatcher
from tests.ingest.test_pipeline import all_chunks, make_ingestor
from tests.ingest.test_sync import consistent

LIMIT_S = 10.0


def eventually(check, what: str, limit: float = LIMIT_S) -> float:
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < limit, f"not within {limit} s: {what}"
        time.sleep(0.1)
    return time.monotonic() - started


def texts(ingestor) -> str:
    return " ".join(c["text"] for c in all_chunks(ingestor.store))


@pytest.fixture
def watched(tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "start.md").write_text("# Start\n\nThe kettle boils in ninety seconds.\n")
    ingestor = make_ingestor(tmp_path / "data")
    reports = []
    watcher = FolderWatcher(ingestor, [folder], on_report=reports.append, quiet_s=0.3)
    thread = watcher.start()
    eventually(lambda: reports, "the first sync", limit=60)  # loads the parser on first use
    yield folder, ingestor, reports
    watcher.stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive(), "the watcher stops when asked"


def test_the_index_follows_create_edit_rename_and_delete(watched):
    folder, ingestor, reports = watched
    files = lambda: {Path(s).name for s in ingestor.state.files()}
    assert files() == {"start.md"}

    pump = folder / "pump.md"
    pump.write_text("# Pump\n\nThe Zephyr pump warranty lasts seven years.\n")
    eventually(lambda: "pump.md" in files(), "a new file is ingested")

    pump.write_text("# Pump\n\nThe Zephyr pump warranty lasts nine years.\n")
    eventually(lambda: "nine years" in texts(ingestor), "an edit replaces the chunks")
    assert "seven years" not in texts(ingestor)

    pump.rename(folder / "zephyr.md")
    eventually(lambda: files() == {"start.md", "zephyr.md"}, "a rename moves the file")

    (folder / "zephyr.md").unlink()
    eventually(lambda: files() == {"start.md"}, "a deletion removes it")
    # the sync is over once its report is in (the keyword index is rebuilt at its end)
    eventually(lambda: any(r.status == "removed" and r.path.endswith("zephyr.md")
                           for r in reports[-1].results), "the deleting sync's report")
    consistent(ingestor)  # no duplicate or orphan chunks, BM25 in step


def test_temporary_files_are_ignored_and_a_locked_collection_is_synced_after(watched):
    folder, ingestor, reports = watched
    for name in ("~$report.docx", "draft.md~", "#draft.md#", "notes.md.swp", "4913",
                 "movie.mkv.part", ".hidden.md"):
        (folder / name).write_text("The temporary text of an editor.\n")
    time.sleep(2.5)
    assert {Path(s).name for s in ingestor.state.files()} == {"start.md"}
    assert "temporary text" not in texts(ingestor)

    with ingestor.state.lock():  # another run is writing: the watcher waits its turn
        (folder / "later.md").write_text("# Later\n\nThe lantern weighs 300 grams.\n")
        time.sleep(2.0)
        assert "later.md" not in {Path(s).name for s in ingestor.state.files()}
    # no further change is needed: the refused sync is retried once the lock is free
    eventually(lambda: any(r.path.endswith("later.md") and r.status == "ingested"
                           for r in reports[-1].results), "the change made while locked")
    consistent(ingestor)


def test_what_counts_as_temporary():
    for name in ("~$report.docx", ".~lock.report.odt#", "draft.md~", "#draft.md#", "a.swp",
                 "4913", "x.part", "x.crdownload", "x.tmp"):
        assert is_temporary(name), name
    for name in ("report.docx", "notes.md", "tmp.md", "part.md"):
        assert not is_temporary(name), name
