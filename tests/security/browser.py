"""Helpers for attacks through a real browser: Debian's Chromium driven by Playwright, and a
listener on loopback that logs every request anything makes to it (the attacker's server)."""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
    "--disable-dev-shm-usage",
]


def needs_chromium(test):
    test = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed "
                                                       "(make test installs it)")(test)
    return pytest.mark.browser(test)


class Listener:
    """An HTTP server on 127.0.0.1 that records each request's path and serves `pages`."""

    def __init__(self, pages: dict[str, str] | None = None) -> None:
        self.requests: list[str] = []
        self.pages = pages or {}
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                listener.requests.append(f"{self.command} {self.path}")
                page = listener.pages.get(self.path.split("?")[0])
                body = (page or "").encode()
                self.send_response(200 if page is not None else 404)
                self.send_header("content-type", "text/html" if page else "image/png")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_HEAD = _any

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "Listener":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fetched(self, *, besides: tuple[str, ...] = ()) -> list[str]:
        return [r for r in self.requests if r.split(" ")[1].split("?")[0] not in besides]


@contextlib.contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def wait_for_text(page, selector: str, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while text not in (seen := page.locator(selector).inner_text()):
        assert time.monotonic() < deadline, f"{text!r} never appeared in {selector}: {seen!r}"
        time.sleep(0.2)


def wait_for_answer(page, timeout: float = 60, quiet: float = 2) -> str:
    """The last answer once it has stopped changing for `quiet` seconds."""
    bot = page.locator("#chat .bot").last
    deadline, last, since = time.monotonic() + timeout, None, time.monotonic()
    while time.monotonic() < deadline:
        text = bot.inner_text().strip() if bot.count() else ""
        if text != last:
            last, since = text, time.monotonic()
        elif text and time.monotonic() - since > quiet:
            return text
        time.sleep(0.1)
    raise AssertionError(f"no finished answer, last saw {last!r}")


def ask(page, question: str) -> str:
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()
    return wait_for_answer(page)
