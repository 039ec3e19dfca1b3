"""The web chat in Debian's Chromium, driven by Playwright: ask, see the answer stream in,
see its sources."""

from __future__ import annotations

import re
import shutil
import time

import pytest

from chat.settings import ServerConfig
from evals.servers import free_port
from tests.security.browser import wait_for_answer as _wait_for_answer, wait_for_text
from ui.serve import build_server_app, start_in_thread

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
    """The app as `docchat serve` runs it: the API with the web chat mounted."""
    port = free_port()
    server = start_in_thread(build_server_app(docchat, ServerConfig(port=port)), "127.0.0.1",
                             port)
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(browser, web_url):
    page = browser.new_page()
    page.goto(web_url)
    yield page
    page.close()


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


HOSTILE = (
    "Falcon lantern manual.\n\n"
    "The Falcon lantern battery lasts nine hours on a full charge "
    "<script>window.__pwned = 'script'</script> and recharges over USB.\n\n"
    "<img src=x onerror=\"window.__pwned = 'img'\"> The Falcon lantern weighs 300 grams.\n\n"
    "Read [the Falcon lantern manual](javascript:window.__pwned='link') for the warranty.\n"
)


def choose(page, dropdown: str, option: str) -> None:
    page.locator(f"{dropdown} input").click()
    page.get_by_role("option", name=option, exact=True).click()


def wait_for_answer(page, timeout: float = 120) -> str:
    """A real model's answer: it may pause longer between pieces than a fake's."""
    return _wait_for_answer(page, timeout, quiet=3)


def test_upload_a_hostile_file_then_ask_and_nothing_executes(page, tmp_path, network_guard):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    hostile = tmp_path / "falcon.txt"
    hostile.write_text(HOSTILE)
    page.get_by_role("tab", name="Documents").click()
    page.locator("#upload input[type=file]").set_input_files(str(hostile))
    page.locator("#add-files").click()
    wait_for_text(page, "#results", "ingested")
    assert "falcon.txt" in page.locator("#results").inner_text()
    wait_for_text(page, "#documents", "falcon.txt")
    # The box shows a file as "falcon" and ".txt": look for the stem.
    assert "falcon" not in page.locator("#upload").inner_text(), "the upload box is emptied"

    page.get_by_role("tab", name="Chat").click()
    box = page.locator("#question textarea")
    box.fill("How long does the Falcon lantern battery last?")
    box.press("Enter")
    wait_for_answer(page)
    panel = page.locator("#sources")
    assert "falcon.txt" in panel.inner_text()
    assert "<script>" in panel.inner_text(), "the markup is shown as text"
    assert panel.locator("mark").count() > 0, "supporting words are highlighted"
    assert page.evaluate("window.__pwned") is None, "no document text ran as script"
    assert dialogs == []
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    assert not [h for h in hrefs if h.strip().lower().startswith("javascript:")]
    assert network_guard.attempts == []


def test_a_source_opens_its_original_file(page, web_url):
    link = page.locator("#sources a.dc-open").first
    href = link.get_attribute("href")
    assert href.startswith("/files/")
    import httpx

    opened = httpx.get(web_url.rstrip("/") + href)
    assert opened.status_code == 200 and "sandbox" in opened.headers["content-security-policy"]
    forged = httpx.get(web_url.rstrip("/") + href.split("?")[0] + "?sig=0000")
    assert forged.status_code == 403


def test_a_cited_pdf_page_opens_at_its_page_with_the_passage_highlighted(page, web_url):
    import httpx

    from tests.docs_fixtures import highlighted_pixels

    page.get_by_role("tab", name="Chat").click()
    box = page.locator("#question textarea")
    box.fill("How do I reset the Kestrel router?")
    box.press("Enter")
    wait_for_answer(page)
    source = page.locator("#sources .dc-source", has_text="router.pdf, p. 2").first
    assert source.locator("a.dc-open").get_attribute("href").endswith("#page=2")
    with page.context.expect_page() as opened:
        source.locator("a.dc-page").click()
    shown = opened.value
    shown.wait_for_load_state()
    assert "/page?sig=" in shown.url
    width = shown.evaluate("() => document.images.length && document.images[0].naturalWidth")
    assert width > 500, "the page is shown as an image"
    assert highlighted_pixels(httpx.get(shown.url).content) > 1000, "the passage is highlighted"
    shown.close()


def test_copying_an_answer_keeps_its_citations(browser, web_url):
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(web_url)
    box = page.locator("#question textarea")
    box.fill("How do I reset the Kestrel router?")
    box.press("Enter")
    shown = wait_for_answer(page)
    assert re.search(r"\[\d\]", shown), shown
    page.locator("#chat .bot").last.hover()
    page.locator("#chat").get_by_label("Copy message").last.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert re.findall(r"\[\d\]", copied) == re.findall(r"\[\d\]", shown), copied
    context.close()


def test_the_map_shows_the_collection_and_the_last_questions_sources(page):
    page.get_by_role("tab", name="Map").click()
    page.locator("#draw-map").click()
    page.locator("#map img").wait_for(timeout=120_000)
    assert page.locator("#map img").first.get_attribute("src")


def test_a_like_is_saved_with_the_question_and_sources(page, docchat):
    import json

    page.get_by_role("tab", name="Chat").click()
    feedback = docchat.settings.data_dir / "feedback.jsonl"
    before = feedback.read_text().count("\n") if feedback.exists() else 0
    page.locator("#chat").get_by_label("Like").last.click()
    deadline = time.monotonic() + 20
    while not feedback.exists() or feedback.read_text().count("\n") == before:
        assert time.monotonic() < deadline, "no feedback line was written"
        time.sleep(0.2)
    record = json.loads(feedback.read_text().splitlines()[-1])
    assert record["liked"] is True and record["question"] and record["sources"]


def test_a_new_collection_gets_its_own_files_answers_and_settings(page, web_url, tmp_path,
                                                                  docchat):
    import httpx

    first = docchat.settings.collection

    notes = tmp_path / "compost.md"
    notes.write_text("# Compost\n\nA compost heap should be turned every two weeks so that "
                     "it stays aerobic and does not smell.\n")
    page.get_by_role("tab", name="Settings").click()
    page.locator("#new-collection textarea").fill("gardening")
    page.locator("#create-collection").click()
    wait_for_text(page, "#settings-status", "Collection gardening chosen")

    page.get_by_role("tab", name="Documents").click()
    page.locator("#upload input[type=file]").set_input_files(str(notes))
    page.locator("#add-files").click()
    wait_for_text(page, "#documents", "compost.md")
    assert "router.pdf" not in page.locator("#documents").inner_text(), \
        "the new collection lists only its own files"

    page.get_by_role("tab", name="Chat").click()
    assert "gardening" in page.locator("#chat-collection").inner_text()
    box = page.locator("#question textarea")
    box.fill("How often should a compost heap be turned?")
    box.press("Enter")
    wait_for_answer(page)
    panel = page.locator("#sources")
    assert "compost.md" in panel.inner_text() and "router.pdf" not in panel.inner_text()
    href = panel.locator("a.dc-open").first.get_attribute("href")
    assert href.startswith("/files/gardening/")
    opened = httpx.get(web_url.rstrip("/") + href)
    assert opened.status_code == 200 and "every two weeks" in opened.text

    page.get_by_role("tab", name="Settings").click()
    choose(page, "#collection", first)
    page.locator("#k input[type=number]").fill("1")
    page.locator("#k input[type=number]").press("Enter")
    page.locator("#apply-settings").click()
    wait_for_text(page, "#settings-status", f"Applied: collection {first}, k=1")
    page.get_by_role("tab", name="Chat").click()
    box.fill("How do I reset the Kestrel router?")
    box.press("Enter")
    wait_for_answer(page)
    assert page.locator("#sources .dc-source").count() == 1, "k=1: one source"
    assert "router.pdf" in panel.inner_text()

    page.get_by_role("tab", name="Settings").click()
    choose(page, "#collection", "gardening")
    page.locator("#apply-settings").click()
    wait_for_text(page, "#settings-status", "Applied: collection gardening")
    page.locator("#confirm-delete input").check()
    page.locator("#delete-collection").click()
    wait_for_text(page, "#settings-status", "Deleted collection gardening (1 files)")
    page.get_by_role("tab", name="Chat").click()
    assert f"collection {first}" in page.locator("#chat-collection").inner_text()


def test_switching_the_generator_backend_answers_with_the_new_one(page, monkeypatch):
    from chat.generators.hf import TransformersGenerator

    calls = []  # the server runs in this process: watch the transformers backend answer
    original = TransformersGenerator.stream

    def stream(self, messages, **kwargs):
        calls.append(messages)
        yield from original(self, messages, **kwargs)

    monkeypatch.setattr(TransformersGenerator, "stream", stream)
    page.get_by_role("tab", name="Settings").click()
    choose(page, "#generator", "transformers (transformers, smollm2-135m)")
    page.locator("#apply-settings").click()
    wait_for_text(page, "#settings-status", "Applied")
    page.get_by_role("tab", name="Chat").click()
    box = page.locator("#question textarea")
    box.fill("How do I reset the Kestrel router?")
    box.press("Enter")
    answer = wait_for_answer(page)
    assert answer and not answer.startswith("⚠"), answer
    assert len(calls) == 1 and "twelve seconds" in calls[0][-1]["content"]
    assert "router.pdf" in page.locator("#sources").inner_text()


def test_with_a_key_the_browser_logs_in_and_then_asks(browser, docchat, indexed):
    """The login page works through ui.security's guard (only what it needs is public), and
    after logging in the chat works as without a key."""
    key = "browser-test-key-91d3"
    port = free_port()
    server = start_in_thread(build_server_app(docchat, ServerConfig(port=port, api_key=key)),
                             "127.0.0.1", port)
    context = browser.new_context()  # its own cookies
    try:
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{port}/")
        page.get_by_label("username").fill("me")
        page.get_by_label("password").fill("wrong-key-wrong-key")
        page.get_by_role("button", name="Login").click()
        wait_for_text(page, "body", "Incorrect")
        page.get_by_label("username").fill("me")  # the form is emptied after a failure
        page.get_by_label("password").fill(key)
        page.get_by_role("button", name="Login").click()
        page.locator("#question textarea").wait_for(timeout=30_000)
        box = page.locator("#question textarea")
        box.fill("How do I reset the Kestrel router?")
        box.press("Enter")
        wait_for_answer(page)
        assert "router.pdf" in page.locator("#sources").inner_text()
    finally:
        context.close()
        server.should_exit = True


def test_title_icon_focus_and_a_stop_button_that_stops_the_model(browser, web_url, monkeypatch):
    import httpx

    from chat.generators.llamacpp import LlamaCppGenerator
    from ui.web import FAVICON

    page = browser.new_page()  # a fresh session: the default (llama.cpp) generator
    page.goto(web_url)
    page.locator("#question textarea").wait_for(timeout=30_000)
    deadline = time.monotonic() + 10
    while page.title() != "docchat":  # set once the app has mounted
        assert time.monotonic() < deadline, f"page title {page.title()!r}"
        time.sleep(0.1)
    icon = httpx.get(web_url + "favicon.ico")
    assert icon.status_code == 200 and icon.content == FAVICON.read_bytes()

    # Asked with the button, answered: the cursor is back in the question box.
    page.locator("#question textarea").fill("How do I reset the Kestrel router?")
    page.locator("#ask").click()
    wait_for_answer(page)
    focused = "document.activeElement === document.querySelector('#question textarea')"
    deadline = time.monotonic() + 10
    while not page.evaluate(focused):
        assert time.monotonic() < deadline, "focus did not return to the question box"
        time.sleep(0.1)

    # A model that would talk for a minute: Stop ends the generation itself.
    state = {"tokens": 0, "closed": False}

    def slow(self, messages, **kwargs):
        try:
            for _ in range(600):
                state["tokens"] += 1
                yield "word "
                time.sleep(0.1)
        finally:
            state["closed"] = True

    monkeypatch.setattr(LlamaCppGenerator, "stream", slow)
    page.locator("#question textarea").fill("How long does the Zephyr pump warranty last?")
    page.locator("#ask").click()
    wait_for_text(page, "#chat .bot >> nth=-1", "word word word")
    page.locator("#stop").click()
    deadline = time.monotonic() + 15
    while not state["closed"]:
        assert time.monotonic() < deadline, "the generation went on after Stop"
        time.sleep(0.1)
    stopped_at = state["tokens"]
    time.sleep(1.5)
    assert state["tokens"] == stopped_at < 600
    assert page.evaluate(focused), "Stop leaves the cursor in the question box"
    page.close()


def _serve(docchat, port: int):
    return start_in_thread(build_server_app(docchat, ServerConfig(port=port)), "127.0.0.1", port)


def _stop(server, port: int) -> None:
    """Stop a served app and wait until its port refuses connections."""
    import socket

    server.should_exit = True
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        except OSError:
            return
        assert time.monotonic() < deadline, "the server did not stop"
        time.sleep(0.1)


def test_a_conversation_is_kept_across_reload_and_restart_and_only_for_its_browser(
        browser, docchat, indexed):
    question = "How long does the Zephyr pump warranty last?"
    port = free_port()
    server = _serve(docchat, port)
    url = f"http://127.0.0.1:{port}/"
    mine, other = browser.new_context(), browser.new_context()
    try:
        page = mine.new_page()
        page.goto(url)
        page.locator("#question textarea").fill(question)
        page.locator("#ask").click()
        answer = wait_for_answer(page)
        wait_for_text(page, "#conversations", question)

        page.reload()  # the chat on screen is gone; the sidebar still has it
        wait_for_text(page, "#conversations", question)
        page.locator("#conversations label", has_text=question).click()
        wait_for_text(page, "#chat", answer[:40])
        assert question in page.locator("#chat").inner_text()

        _stop(server, port)  # a restart on the same address: the browser keeps its id
        server = _serve(docchat, port)
        page.goto(url)
        wait_for_text(page, "#conversations", question)
        page.locator("#conversations label", has_text=question).click()
        wait_for_text(page, "#chat", answer[:40])

        # a follow-up goes into the same conversation, and the export holds both
        page.locator("#question textarea").fill("What does the warranty cover?")
        page.locator("#ask").click()
        wait_for_answer(page)
        page.locator("#conversation-title input, #conversation-title textarea").fill("Pump")
        page.locator("#rename").click()
        wait_for_text(page, "#conversations", "Pump")
        page.locator("#export-conversation").click()
        link = page.locator("#export-file a").first
        link.wait_for(timeout=30_000)
        import httpx

        href = link.get_attribute("href")
        href = href if href.startswith("http") else url.rstrip("/") + href
        exported = httpx.get(href, cookies={c["name"]: c["value"] for c in mine.cookies()}).text
        assert exported.startswith("# Pump") and question in exported
        assert "What does the warranty cover?" in exported and "Sources:" in exported

        stranger = other.new_page()  # another browser sees none of it
        stranger.goto(url)
        stranger.locator("#question textarea").wait_for(timeout=30_000)
        time.sleep(2)  # the sidebar is filled on load
        assert "Pump" not in stranger.locator("#conversations").inner_text()
        assert question not in stranger.locator("#conversations").inner_text()

        page.locator("#delete-conversation").click()
        deadline = time.monotonic() + 30
        while "Pump" in page.locator("#conversations").inner_text():
            assert time.monotonic() < deadline, "the deleted conversation is still listed"
            time.sleep(0.2)
    finally:
        mine.close()
        other.close()
        server.should_exit = True
