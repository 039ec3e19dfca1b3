"""Round two, item 4: the upload-provenance check reads the JSON as Gradio does.

The Guard looked for the bytes `gradio.FileData` in the body; `"_type":
"gradio\\u002eFileData"` passed it, and Gradio then took the path (a server file, or a URL it
tried to download) as an uploaded file.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.security.conftest import fn_index
from tests.security.test_paths import SERVER_FILE

SPELLINGS = ["gradio\\u002eFileData", "gradio.\\u0046ileData", "\\u0067radio.FileData"]


def _join(url: str, index: int, path: str, spelling: str | None) -> httpx.Response:
    meta = f', "meta": {{"_type": "{spelling}"}}' if spelling is not None else ""
    body = ('{"data": [[{"path": "%s"%s, "orig_name": "x.txt"}], null], "fn_index": %d, '
            '"session_hash": "%s", "trigger_id": null, "event_data": null}'
            % (path, meta, index, uuid.uuid4().hex))
    return httpx.post(f"{url}/gradio_api/queue/join", content=body.encode(),
                      headers={"content-type": "application/json"})


@pytest.mark.parametrize("spelling", [*SPELLINGS, None])
@pytest.mark.parametrize("path", [SERVER_FILE, "http://127.0.0.1:9/x.txt"])
def test_an_escaped_file_mark_does_not_get_a_server_file_or_url_through(
        unlaunched_server, spelling, path):
    url, app = unlaunched_server
    response = _join(url, fn_index(url, "add-files"), path, spelling)
    assert response.status_code == 403, response.text
    assert "Only files uploaded" in response.json()["error"]["message"]
    assert not any("hostname" in s or "passwd" in s for s in app.state.files())


def test_a_body_too_deeply_nested_to_check_is_refused(open_server):
    url, _ = open_server
    body = b'{"data": ' + b"[" * 5000 + b"]" * 5000 + b', "fn_index": 0, "session_hash": "x"}'
    response = httpx.post(f"{url}/gradio_api/queue/join", content=body,
                          headers={"content-type": "application/json"})
    assert response.status_code in (400, 403, 422), response.text
