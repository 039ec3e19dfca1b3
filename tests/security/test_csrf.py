"""Round two, item 3: another site's page cannot change anything (CSRF), key or not.

A page on another origin POSTed a multipart form to /v1/documents with `mode: "no-cors"`: a
"simple" request, sent without a preflight, and its Host is loopback, so the file was
ingested. The same worked for Gradio's upload route.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import pytest

from tests.security.browser import Listener, chromium, needs_chromium
from tests.security.conftest import KEY, fn_index, gradio_call, served

ATTACK = """<!doctype html><title>cute cats</title><script>
function form(name, text) {
  const data = new FormData();
  data.append("files", new Blob([text], {type: "text/plain"}), name);
  return data;
}
Promise.allSettled([
  fetch("%(target)s/v1/documents", {method: "POST", mode: "no-cors",
        body: form("planted.txt", "The planted fact: the kiln code is 99.")}),
  fetch("%(target)s/gradio_api/upload", {method: "POST", mode: "no-cors",
        body: form("planted-upload.txt", "Planted through Gradio.")}),
  fetch("%(target)s/v1/documents/sync", {method: "POST", mode: "no-cors",
        headers: {"content-type": "text/plain"}, body: '{"path": "/etc"}'}),
]).then(() => { document.title = "sent"; });
</script>"""


def _uploaded(name: str) -> list[Path]:
    return list(Path(os.environ["GRADIO_TEMP_DIR"]).rglob(name))


@needs_chromium
def test_a_page_on_another_origin_cannot_add_or_upload_files(tmp_path):
    with served(tmp_path) as (url, app), Listener() as listener, chromium() as browser:
        listener.pages["/attack.html"] = ATTACK % {"target": url}
        before = set(app.state.files())
        page = browser.new_page()
        page.goto(f"{listener.url}/attack.html")
        deadline = time.monotonic() + 30
        while page.title() != "sent":
            assert time.monotonic() < deadline, "the attack page never sent its requests"
            time.sleep(0.1)
        time.sleep(1)
        assert set(app.state.files()) == before, "nothing was ingested"
        assert _uploaded("planted-upload.txt") == [], "nothing was stored by Gradio"


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site", "Origin": "http://127.0.0.1:1"},  # another port
])
def test_state_changing_requests_from_other_sites_are_refused_with_a_key_too(
        keyed_server, headers):
    url, app = keyed_server
    auth = {"Authorization": f"Bearer {KEY}"}
    files = {"files": ("planted.txt", b"The planted fact: the kiln code is 99.", "text/plain")}
    document = next(iter(app.state.files()))
    from ui.documents_api import document_id

    for method, path, kwargs in [
            ("POST", "/v1/documents", {"files": files}),
            ("DELETE", f"/v1/documents/{document_id(document)}", {}),
            ("POST", "/v1/documents/sync", {"json": {"path": "/etc"}}),
            ("POST", "/gradio_api/upload", {"files": files}),
            ("POST", "/v1/chat/completions", {"json": {"messages": [
                {"role": "user", "content": "Zephyr?"}]}})]:
        response = httpx.request(method, url + path, headers={**auth, **headers}, **kwargs)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["error"]["code"] == "cross_site_request"
    assert document in app.state.files()
    assert not any("planted" in s for s in app.state.files())


def test_gradio_events_from_another_site_are_refused_and_same_site_ones_work(open_server):
    url, _ = open_server
    listing = fn_index(url, None, "load")
    refused = gradio_call(url, listing, [None], headers={"Origin": "http://evil.example"})
    assert refused.get("status") == 403
    same = {"Origin": url, "Sec-Fetch-Site": "same-origin"}
    assert gradio_call(url, listing, [None], headers=same)["success"] is True
    # clients that are not browsers send neither header: the key (if any) decides
    assert httpx.post(f"{url}/v1/chat/completions", timeout=60, json={"messages": [
        {"role": "user", "content": "Zephyr pump warranty?"}]}).status_code == 200


def test_another_site_cannot_log_the_user_out(keyed_server):
    """Gradio's /logout is a GET: an <img> on another page would end the session."""
    from tests.security.conftest import login

    url, _ = keyed_server
    cookies = login(url)
    page = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Dest": "image"}
    refused = httpx.get(f"{url}/logout", cookies=cookies, headers=page)
    assert refused.status_code == 403
    assert httpx.get(f"{url}/config", cookies=cookies).status_code == 200, "still logged in"
