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


def test_a_killed_runs_parse_worker_exits_too(tmp_path):
    """A pool worker would otherwise wait forever on its task queue, holding its memory."""
    write_folder(tmp_path / "docs", random.Random(7), files=60)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("crash_run.py")),
                             str(tmp_path / "data"), str(tmp_path / "docs")], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    workers: list[int] = []
    while not workers:
        assert time.monotonic() < deadline and proc.poll() is None, "no parse worker started"
        time.sleep(0.2)
        workers = _children(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    # The worker checks its parent every second; a busy machine may take a few more.
    deadline = time.monotonic() + 20
    while (alive := [pid for pid in workers if Path(f"/proc/{pid}").exists()]) and \
            time.monotonic() < deadline:
        time.sleep(0.5)
    assert alive == []


def _children(pid: int) -> list[int]:
    """Spawned worker processes whose parent is `pid` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue  # the process ended while we looked
        if ppid == pid and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return found
