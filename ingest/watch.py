"""Keep a collection in step with folders: `docchat watch DIR` and `server.watch`.

watchfiles (Rust notify) reports changes; they are gathered while more keep coming (for at
most `quiet_s`: an editor's save is several events) and until every changed file's size has
stopped changing (a copy in progress is not read half-written). Then the folders are synced as
`docchat sync` does it: new and changed files ingested, files deleted or moved away removed,
unchanged files skipped by their hash, editors' temporary files skipped by the walk. If another
run holds the collection's writer lock, the sync is tried again after the next quiet spell.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from ingest.errors import DocchatError, IngestBusyError
from ingest.types import IngestReport
from ingest.walk import is_temporary

log = logging.getLogger("docchat.watch")

QUIET_S = 1.0
SETTLE_S = 0.5  # a changed file's size is looked at twice, this far apart


def settled(paths: Iterable[str], wait_s: float = SETTLE_S, rounds: int = 20) -> bool:
    """Whether these files have stopped growing (missing files count as settled)."""
    def sizes() -> dict[str, int]:
        out = {}
        for p in paths:
            try:
                out[p] = Path(p).stat().st_size
            except OSError:
                out[p] = -1
        return out

    before = sizes()
    for _ in range(rounds):
        time.sleep(wait_s)
        now = sizes()
        if now == before:
            return True
        before = now
    return False


class FolderWatcher:
    def __init__(self, ingestor, folders: Sequence[Path], *,
                 on_report: Callable[[IngestReport], None] | None = None,
                 quiet_s: float = QUIET_S) -> None:
        self.ingestor = ingestor
        self.folders = [Path(f).expanduser().resolve() for f in folders]
        for folder in self.folders:
            if not folder.is_dir():
                raise DocchatError(f"Cannot watch {folder}: not a folder.")
        self.on_report = on_report or (lambda report: None)
        self.quiet_s = quiet_s
        self.stop = threading.Event()

    def relevant(self, path: str) -> bool:
        """A change worth a sync: inside a watched folder, not in a hidden folder or file
        there, not an editor's temporary file."""
        changed = Path(path)
        for folder in self.folders:
            if changed.is_relative_to(folder):
                inside = changed.relative_to(folder).parts
                return not any(p.startswith(".") for p in inside) and \
                    not is_temporary(changed.name)
        return False

    def sync(self) -> IngestReport | None:
        """One sync of the folders; None if another run holds the writer lock. Confined to
        the folders as server.sync_roots are: a link to a file outside is skipped, or its
        file would be indexed (and served) under the resolved outside path, which pruning
        the folder never reaches."""
        try:
            report = self.ingestor.ingest(self.folders, prune=True, confine=self.folders)
        except IngestBusyError:
            log.info("another docchat run is writing; the watched folders sync after it")
            return None
        self.on_report(report)
        return report

    def run(self) -> None:
        """Sync now, then after every quiet spell with changes, until `stop` is set."""
        import watchfiles

        pending = self.sync() is None
        changes = watchfiles.watch(
            *self.folders, watch_filter=lambda change, path: self.relevant(path),
            debounce=int(self.quiet_s * 1000), step=100, rust_timeout=500,
            yield_on_timeout=True, stop_event=self.stop, raise_interrupt=False)
        for batch in changes:
            if not batch and not pending:
                continue  # a timeout with nothing to do: look at `stop` again
            if not settled({path for _, path in batch}):
                pending = True  # still being written: the next round picks it up
                continue
            pending = self.sync() is None

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="docchat-watch", daemon=True)
        thread.start()
        return thread
