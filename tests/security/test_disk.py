"""Round two, item 7: nothing a client does grows the server's disk without bound.

Gradio's upload cache kept uploads that were never added; feedback.jsonl took 900,000-
character comments; each export left a temporary folder; DELETE /v1/documents/{id} left the
uploaded file on disk.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import httpx

import ui.conversations_view
import ui.web
from tests.security.conftest import fn_index, gradio_call, served


def _ask(url: str, session: str, cookies=None) -> dict:
    asked = gradio_call(url, fn_index(url, "question", "submit"),
                        ["How long is the Zephyr pump warranty?", [], None, None, None],
                        session=session, cookies=cookies)
    assert asked["success"] is True, asked
    return asked


def test_a_huge_comment_is_refused(open_server):
    url, app = open_server
    _ask(url, "commenting-tab")
    sent = gradio_call(url, _send_comment(url), ["x" * 900_000, None, None],
                       session="commenting-tab")
    assert sent["success"] is True, sent
    assert "too long" in str(sent["output"]["data"][1])
    feedback = app.settings.data_dir / "feedback.jsonl"
    assert not feedback.exists() or feedback.stat().st_size < 100_000


def _send_comment(url: str) -> int:
    """The "Send comment" button has no elem_id: the handler whose inputs start with the
    comment box."""
    config = httpx.get(f"{url}/config").json()
    box = next(c["id"] for c in config["components"]
               if c.get("props", {}).get("elem_id") == "comment")
    for index, dep in enumerate(config["dependencies"]):
        if dep.get("inputs", [None])[:1] == [box] and dep.get("backend_fn"):
            return dep.get("id", index)
    raise AssertionError("no comment handler")


def test_deleting_an_uploaded_document_deletes_its_file(open_server):
    url, app = open_server
    note = b"# Heron\n\nThe Heron kettle holds 1.7 litres.\n"
    added = httpx.post(f"{url}/v1/documents", files=[("files", ("heron.md", note))], timeout=60)
    (row,) = added.json()["data"]
    kept = [Path(s) for s in app.state.files() if s.endswith("heron.md")]
    assert kept and kept[0].is_file() and "uploads" in kept[0].parts
    assert httpx.delete(f"{url}/v1/documents/{row['id']}").status_code == 200
    assert not kept[0].exists()
    assert any(Path(s).is_file() for s in app.state.files()), "other documents stay"


def _exports() -> list[Path]:
    return list(Path(tempfile.gettempdir()).glob("docchat-export*/**/conversation.md"))


def test_exports_and_unused_uploads_do_not_pile_up(tmp_path, monkeypatch):
    monkeypatch.setattr(ui.web, "CACHE_SWEEP_S", 1, raising=False)
    monkeypatch.setattr(ui.web, "CACHE_MAX_AGE_S", 1, raising=False)
    monkeypatch.setattr(ui.conversations_view, "EXPORT_KEEP_S", 0, raising=False)
    before = set(_exports())
    with served(tmp_path) as (url, _):
        stored = httpx.post(f"{url}/gradio_api/upload",
                            files=[("files", ("never-added.txt", b"a file nobody adds"))])
        (path,) = stored.json()
        assert Path(path).is_file()
        browser = httpx.get(f"{url}/").cookies
        _ask(url, "export-tab", browser)
        export = fn_index(url, "export-conversation")
        first = gradio_call(url, export, [None], session="export-tab", cookies=browser)
        second = gradio_call(url, export, [None], session="export-tab", cookies=browser)
        assert first["success"] and second["success"], (first, second)
        exports = set(_exports()) - before
        assert len(exports) == 1, exports  # the first export's folder is gone
        deadline = time.monotonic() + 15
        while Path(path).exists():
            assert time.monotonic() < deadline, "the unused upload is still cached"
            time.sleep(0.5)
