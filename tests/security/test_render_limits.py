"""Round two, item 11: repeatable CPU work without the key is bounded.

Rendering a hostile PDF page took ~2 s per request, with no cache and no bound on how many
at once, and the signed links that open it never expired.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

import ui.api
import ui.links
from tests.security.conftest import served

QUESTION = "How do I reset the Kestrel router?"


def _page_links(url: str) -> list[str]:
    reply = httpx.post(f"{url}/v1/chat/completions", timeout=60, json={
        "messages": [{"role": "user", "content": QUESTION}]}).json()
    links = [s["page_url"] for s in reply["sources"] if s.get("page_url")]
    assert links, "the router manual's pages are among the sources"
    return links


def test_pages_are_rendered_once_and_a_few_at_a_time(tmp_path, monkeypatch):
    calls, running, most = [], [0], [0]
    lock = threading.Lock()
    real = ui.api.render_page

    def slow_render(*args):
        with lock:
            calls.append(args[1:2])
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.5)  # a hostile page's drawing time, shortened
        try:
            return real(*args)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(ui.api, "render_page", slow_render)
    with served(tmp_path) as (url, _):
        link = url + _page_links(url)[0]
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: httpx.get(link, timeout=60), range(8)))
        assert all(a.status_code == 200 for a in answers), [a.status_code for a in answers]
        assert len(calls) == 1, f"the same page was drawn {len(calls)} times"
        assert most[0] <= 2


def test_signed_links_expire(tmp_path, monkeypatch):
    monkeypatch.setattr(ui.links, "LINK_TTL_S", -1, raising=False)
    with served(tmp_path) as (url, _):
        link = _page_links(url)[0]
        file_link = link.replace("/page?", "?")
        for path in (link, file_link, link.replace("/page?", "/context?")):
            response = httpx.get(url + path)
            assert response.status_code == 403, (path, response.status_code)


def test_distinct_pages_are_drawn_at_most_a_few_at_once(tmp_path):
    running, most = [0], [0]
    lock = threading.Lock()

    def render(path, page, passage):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.2)
        with lock:
            running[0] -= 1
        return f"{path.name}:{page}"

    files = []
    for i in range(6):
        files.append(tmp_path / f"{i}.pdf")
        files[-1].write_bytes(b"%PDF-1.4 " + bytes([i]))
    renders = ui.links.PageRenders(render, slots=2)
    with ThreadPoolExecutor(6) as pool:
        drawn = list(pool.map(lambda f: renders.get(f, 1, "passage"), files))
    assert drawn == [f"{i}.pdf:1" for i in range(6)] and most[0] == 2
