"""Beyond round two's list (item 2's class, a path that follows a link): a signed file link
served whatever sat at the indexed path, so someone who could write in a watched or synced
folder could swap an indexed file for a link to any server file and read it through the
link docchat had signed for the original."""

from __future__ import annotations

import httpx

from tests.security.conftest import served
from tests.security.test_paths import SERVER_FILE


def test_a_file_swapped_for_a_link_is_not_served(tmp_path):
    with served(tmp_path) as (url, app):
        reply = httpx.post(f"{url}/v1/chat/completions", timeout=60, json={
            "messages": [{"role": "user", "content": "How long is the Zephyr pump warranty?"}]})
        source = next(s for s in reply.json()["sources"] if s["file_name"] == "guide.md")
        assert httpx.get(url + source["url"]).status_code == 200
        indexed = next(s for s in app.state.files() if s.endswith("guide.md"))
        secret = open(SERVER_FILE).read()
        swapped = tmp_path / "swap"
        swapped.symlink_to(SERVER_FILE)
        swapped.replace(indexed)  # the indexed path is now a link to a server file
        for link in (source["url"], source["context_url"]):
            response = httpx.get(url + link)
            assert response.status_code == 404, link
            assert secret.strip() not in response.text
