"""The terminal progress bar of `docchat ingest`: files done of files found, and chunks."""

from __future__ import annotations

from pathlib import Path

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ingest.types import FileResult


class IngestProgress:
    def __init__(self, console=None) -> None:
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("files · {task.fields[chunks]} chunks · {task.fields[failed]} failed"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            transient=True,
            console=console,
        )
        self._task = self._bar.add_task("hashing", total=None, chunks=0, failed=0)
        self._chunks = self._failed = 0

    def __enter__(self) -> "IngestProgress":
        self._bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._bar.__exit__(*exc)

    @property
    def task(self):
        return self._bar.tasks[0]

    def planned(self, files: int, to_parse: int) -> None:
        self._bar.update(self._task, total=files, description=f"{to_parse} to parse")

    def file_done(self, result: FileResult) -> None:
        self._chunks += result.chunks if result.status == "ingested" else 0
        self._failed += result.status == "failed"
        self._bar.update(self._task, advance=1, description=Path(result.path).name[:40],
                         chunks=self._chunks, failed=self._failed)
