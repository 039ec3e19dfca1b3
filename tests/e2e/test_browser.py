"""The web chat in Debian's Chromium, driven by Playwright: ask, see the answer stream in,
see its sources."""

from __future__ import annotations

import shutil
import time

import pytest

from evals.servers import free_port
from ui.web import build_app, launch

CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
    "--disable-dev-shm-usage",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed "
                                                "(make test installs it)"),
]


@pytest.fixture(scope="module")
def web_url(docchat, indexed):
    demo = build_app(docchat)
    port = free_port()
    launch(demo, "127.0.0.1", port, block=False)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture(scope="module")
def page(web_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(web_url)
        yield page
        browser.close()


def test_question_streams_an_answer_and_shows_its_sources(page, network_guard):
    box = page.locator("#question textarea")
    box.fill("How do I reset the Kestrel router?")
    box.press("Enter")

    bot = page.locator("#chat .bot").last
    seen: list[str] = []  # each distinct text the answer bubble showed
    deadline = time.monotonic() + 120
    last_change = time.monotonic()
    while time.monotonic() < deadline:
        text = bot.inner_text().strip() if bot.count() else ""
        if text and (not seen or text != seen[-1]):
            seen.append(text)
            last_change = time.monotonic()
        if seen and time.monotonic() - last_change > 3:  # finished: no change for 3 s
            break
        time.sleep(0.05)

    assert len(seen) >= 2, f"the answer should arrive in pieces, saw {seen!r}"
    assert len(seen[-1]) > len(seen[0])
    panel = page.locator("#sources").inner_text()
    assert "router.pdf, p. 2" in panel
    assert "twelve seconds" in panel, "the passage text is shown"
    assert network_guard.attempts == []
