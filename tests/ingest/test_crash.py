"""SIGKILL an ingest process at random points, run it again, and check the index.

A real subprocess (tests/ingest/crash_run.py) ingests a folder with the real parser, Chroma and
keyword index and a fake embedder slowed down a little, so kills land in every phase: hashing,
parsing, embedding, writing chunks, writing state, rebuilding BM25.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.ingest.test_pipeline import make_ingestor
from tests.ingest.test_sync import consistent

ROOT = Path(__file__).resolve().parents[2]
TRIALS = 6


def write_folder(folder: Path, rng: random.Random, files: int = 24) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    words = "pump filter orchid router cable barley oats river heron invoice".split()
    for i in range(files):
        sections = []
        for s in range(6):
            body = " ".join(rng.choice(words) for _ in range(18))
            sections.append(f"## Part {s}\n\nFile {i} part {s} version {rng.random():.6f}: {body}.")
        (folder / f"doc{i:02d}.md").write_text(f"# Document {i}\n\n" + "\n\n".join(sections))


def run(data: Path, folder: Path, kill_after: float | None) -> int:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("crash_run.py")),
                             str(data), str(folder)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if kill_after is None:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()[-2000:]
        return 0
    time.sleep(kill_after)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    return proc.returncode


def test_index_is_consistent_after_sigkill_at_random_points(tmp_path):
    rng = random.Random(20261125)
    folder, data = tmp_path / "docs", tmp_path / "data"
    write_folder(folder, rng)
    killed = 0
    for trial in range(TRIALS):
        # The interpreter and imports take ~3 s; the run itself a few more.
        if run(data, folder, kill_after=rng.uniform(2.5, 9.0)) == -signal.SIGKILL:
            killed += 1
        # The folder changes between runs: edits, deletions, new files.
        for path in rng.sample(sorted(folder.glob("*.md")), 3):
            path.write_text(path.read_text() + f"\n\nEdited in trial {trial}.\n")
        rng.choice(sorted(folder.glob("*.md"))).unlink()
        (folder / f"new{trial}.md").write_text(f"# New {trial}\n\nAdded in trial {trial}.\n")
    assert killed >= TRIALS // 2, "most runs were really killed mid-way"
    run(data, folder, kill_after=None)  # a clean run after the last kill

    ingestor = make_ingestor(data)
    consistent(ingestor)
    on_disk = {str(p.resolve()) for p in folder.glob("*.md")}
    assert set(ingestor.state.files()) == on_disk
    duplicates = ingestor.state.duplicate_counts()
    for path in folder.glob("*.md"):
        # What is stored is what a fresh parse of the file's current content gives.
        source = str(path.resolve())
        fresh = [d.page_content for d in ingestor.chunk(path, source, "check")]
        stored = ingestor.store._collection.get(where={"source": source})["documents"]
        assert set(stored) <= set(fresh), path.name
        assert len(stored) + duplicates.get(source, 0) == len(fresh), path.name
