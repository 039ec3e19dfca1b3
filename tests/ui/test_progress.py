import io

from rich.console import Console

from ingest.types import FileResult
from ui.progress import IngestProgress


def test_progress_counts_files_chunks_and_failures():
    out = io.StringIO()
    with IngestProgress(Console(file=out, force_terminal=True, width=120)) as bar:
        bar.file_done(FileResult("/d/a.md", "unchanged"))
        bar.planned(files=3, to_parse=2)
        bar.file_done(FileResult("/d/b.pdf", "ingested", chunks=7))
        bar.file_done(FileResult("/d/c.txt", "failed", reason="empty"))
        task = bar.task
        assert (task.completed, task.total) == (3, 3)
        assert task.fields == {"chunks": 7, "failed": 1}
    assert "c.txt" in out.getvalue() and "7 chunks" in out.getvalue()
