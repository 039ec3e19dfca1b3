"""Round two, item 2: a watched folder follows no link out of itself.

`ln -s /outside/secret.txt watched/evil-link.txt`, before the watcher starts or while it
runs, got the outside file indexed, listed by GET /v1/documents, cited and served. The
watcher is started on a served docchat as `docchat serve` (server.watch) and `docchat
watch` start it.
"""

from __future__ import annotations

import time

import httpx

from ingest.watch import FolderWatcher
from tests.security.conftest import served

SECRET = "The vault combination is 31-07-19."


def _listed(url: str) -> list[str]:
    return [d["filename"] for d in httpx.get(f"{url}/v1/documents").json()["data"]]


def _wait_for(url: str, name: str, timeout: float = 30) -> list[str]:
    deadline = time.monotonic() + timeout
    while name not in (listed := _listed(url)):
        assert time.monotonic() < deadline, f"{name} never indexed: {listed}"
        time.sleep(0.2)
    return listed


def test_a_watched_folder_indexes_no_file_a_link_points_to_outside_it(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET + "\n")
    (outside / "later.txt").write_text(SECRET + " Changed later.\n")
    watched = tmp_path / "watched"
    watched.mkdir()
    (watched / "notes.txt").write_text("The kiln fires stoneware at 1240 degrees.\n")
    (watched / "evil-link.txt").symlink_to(outside / "secret.txt")  # before start
    with served(tmp_path, docs=False) as (url, app):
        reports = []
        watcher = FolderWatcher(app.ingestor, [watched], on_report=reports.append,
                                quiet_s=0.2)
        thread = watcher.start()
        try:
            deadline = time.monotonic() + 60
            while not reports:  # the first sync is over: changes from now on are seen
                assert time.monotonic() < deadline, "no first sync"
                time.sleep(0.1)
            _wait_for(url, "notes.txt")
            (watched / "late-link.txt").symlink_to(outside / "later.txt")  # while running
            (watched / "more.txt").write_text("The glaze needs a second firing.\n")
            listed = _wait_for(url, "more.txt")
            assert not any(name in listed for name in
                           ("secret.txt", "later.txt", "evil-link.txt", "late-link.txt"))
            assert not any(str(outside) in s for s in app.state.files())
            reply = httpx.post(f"{url}/v1/chat/completions", timeout=60, json={
                "messages": [{"role": "user", "content": "What is the vault combination?"}]})
            assert "31-07-19" not in reply.text
        finally:
            watcher.stop.set()
            thread.join(timeout=10)
