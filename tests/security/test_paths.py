"""Items 3, 6 and 11: which server files the web chat may read, and which paths it shows.

3: a crafted call to the upload handler named /etc/hostname and it was ingested.
6: the re-sync box ingested any path the process could read (/etc/passwd).
11: API sources carried absolute server paths.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from chat.settings import ServerConfig
from tests.security.conftest import fn_index, gradio_call, served
from ui.security import Policy, Refused, UploadRegistry

SERVER_FILE = "/etc/hostname" if Path("/etc/hostname").is_file() else "/etc/passwd"


def file_data(path: str) -> dict:
    return {"path": path, "meta": {"_type": "gradio.FileData"}, "orig_name": Path(path).name}


def added(message: dict) -> list[list]:
    return message["output"]["data"][0]["data"] if message["success"] else []


@pytest.mark.parametrize("path", [SERVER_FILE, "{uploads}/../../../..{file}",
                                  "{uploads}/x/../../../../..{file}", "http://127.0.0.1:9/x.txt"])
@pytest.mark.parametrize("server", ["open_server", "unlaunched_server"])
def test_a_crafted_upload_cannot_name_a_server_file(request, path, server):
    """Also with Gradio's own check off (Blocks mounted without launching skip it)."""
    from gradio.utils import get_upload_folder

    url, app = request.getfixturevalue(server)
    path = path.format(uploads=get_upload_folder(), file=SERVER_FILE)
    message = gradio_call(url, fn_index(url, "add-files"), [[file_data(path)], None])
    assert message.get("status") == 403, message
    assert "Only files uploaded" in message["body"]["error"]["message"]
    assert not any("hostname" in s or "passwd" in s for s in app.state.files())


def test_a_server_file_cannot_ride_in_the_chat_history(open_server):
    """The chatbot takes the conversation as input; Gradio would copy a file named in it
    into its cache and serve it back."""
    url, _ = open_server
    history = [{"role": "user", "content": [{"type": "file", "file": file_data(SERVER_FILE)}]}]
    message = gradio_call(url, fn_index(url, "question", "submit"),
                          ["Zephyr warranty?", history, None, None, "", None])
    assert message.get("status") == 403, message


def test_the_upload_handler_takes_only_files_the_upload_route_stored(tmp_path):
    """docchat's own check, behind the middleware's: the cache folder proves nothing, since
    Gradio copies whatever a request names into it."""
    cache = tmp_path / "cache"
    (cache / "abc").mkdir(parents=True)
    planted = cache / "abc" / "hostname"
    planted.write_text("copied here by Gradio")
    uploaded = cache / "def" / "notes.txt"
    uploaded.parent.mkdir()
    uploaded.write_text("uploaded")
    registry = UploadRegistry()
    registry.add(str(uploaded))
    policy = Policy.from_config(ServerConfig())
    assert policy.uploaded_file(uploaded, registry) == uploaded.resolve()
    for path in [planted, cache / "def" / ".." / "abc" / "hostname", Path(SERVER_FILE)]:
        with pytest.raises(Refused, match="Only files uploaded"):
            policy.uploaded_file(path, registry)


def test_without_sync_roots_the_web_chat_cannot_read_server_folders(open_server):
    url, _ = open_server
    config = httpx.get(f"{url}/config").json()
    ids = {c.get("props", {}).get("elem_id") for c in config["components"]}
    assert "sync-path" not in ids and "sync-off" in ids
    with pytest.raises(Refused, match="server.sync_roots"):
        Policy.from_config(ServerConfig()).sync_target("/etc")


def test_sync_reads_only_under_its_roots_and_follows_no_link_out(tmp_path):
    root = tmp_path / "shared-docs"
    (root / "team").mkdir(parents=True)
    (root / "team" / "kiln.md").write_text("# Kiln\n\nThe kiln fires stoneware at 1240 degrees.\n")
    (root / "team" / "escape.txt").symlink_to(SERVER_FILE)
    (tmp_path / "data").mkdir()
    with served(tmp_path, docs=False, sync_roots=[root]) as (url, app):
        resync = fn_index(url, "sync")
        for path in ["/etc", SERVER_FILE, f"{root}/../../../etc", str(tmp_path)]:
            rows = added(gradio_call(url, resync, [path, None]))
            assert rows and rows[0][1] == "refused", (path, rows)
        rows = added(gradio_call(url, resync, [str(root), None]))
        results = {Path(r[0]).name: r[1] for r in rows}
        assert results == {"kiln.md": "ingested", "escape.txt": "skipped"}, rows
        assert [Path(s).name for s in app.state.files()] == ["kiln.md"]


def test_api_sources_show_paths_relative_to_the_collections_folder(open_server, tmp_path):
    url, app = open_server
    reply = httpx.post(f"{url}/v1/chat/completions", timeout=60, json={
        "messages": [{"role": "user", "content": "How long is the Zephyr pump warranty?"}]})
    sources = reply.json()["sources"]
    assert sources and all(not s["source"].startswith("/") for s in sources)
    assert "guide.md" in [s["source"] for s in sources]
    assert str(app.settings.data_dir.parent) not in reply.text


def test_absolute_paths_when_configured():
    policy = Policy.from_config(ServerConfig(show_paths="absolute"))
    assert policy.display_paths(["/srv/a/x.md"]) == {"/srv/a/x.md": "/srv/a/x.md"}
    relative = Policy.from_config(ServerConfig())
    assert relative.display_paths(["/srv/a/x.md", "/srv/a/b/y.md", "squad#3"]) == {
        "/srv/a/x.md": "x.md", "/srv/a/b/y.md": "b/y.md", "squad#3": "squad#3"}
