"""One ingest run for test_crash.py: `python crash_run.py DATA_DIR FOLDER` (with --prune)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import ingest.offline  # noqa: F401
import ingest.pipeline
from tests.fakes import FakeEmbeddings
from tests.ingest.test_pipeline import make_ingestor


class SlowEmbeddings(FakeEmbeddings):
    """A few ms per text, like a small model: kills then land while chunks are embedded."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        time.sleep(0.004 * len(texts))
        return super().embed_documents(texts)


def main() -> None:
    data, folder = Path(sys.argv[1]), Path(sys.argv[2])
    ingest.pipeline.WRITE_BATCH_CHUNKS = 48  # several batches per run: kills land between them
    ingestor = make_ingestor(data)
    ingestor.embedder = SlowEmbeddings()
    ingestor.config = ingestor.config.model_copy(update={"parse_workers": 1})  # as by default
    report = ingestor.ingest([folder], prune=True)
    if report.failed:
        sys.exit(f"failed: {report.failed}")


if __name__ == "__main__":
    main()
