"""Saved conversations through crafted Gradio calls: a conversation id is not enough to read
someone else's conversation; the browser it was saved from is needed too.

Round two, item 6: that browser was a client-chosen id (Gradio's BrowserState, whose
"private" secret /config served), so isolation rested on an unguessable uuid. Now it is an
id the server issues in a signed, HttpOnly cookie.
"""

from __future__ import annotations

import httpx

from tests.security.conftest import fn_index, gradio_call

QUESTION = "How long is the Zephyr pump warranty?"


def _browser(url: str) -> httpx.Cookies:
    """A browser's first visit: the page sets its id."""
    response = httpx.get(f"{url}/")
    assert "docchat-browser" in response.cookies
    assert "httponly" in response.headers["set-cookie"].lower()
    return response.cookies


def test_another_browser_cannot_open_a_conversation_by_its_id(open_server):
    url, app = open_server
    victim = _browser(url)
    asked = gradio_call(url, fn_index(url, "question", "submit"),
                        [QUESTION, [], None, None, None], session="victim-tab", cookies=victim)
    assert asked["success"] is True, asked
    conversation = asked["output"]["data"][5]["value"]  # the sidebar selects it
    assert isinstance(conversation, str) and len(conversation) == 32

    open_ = fn_index(url, "conversations", "input")
    victim_id = victim["docchat-browser"].split(".")[0]
    forged = [_browser(url), {"docchat-browser": victim_id},
              {"docchat-browser": f"{victim_id}.{'0' * 32}"}, None]
    # from the attacker's own tab and from the victim's tab (its session) without the
    # victim's cookie: another browser's, the victim's id unsigned or badly signed, none
    for cookies in forged:
        for session in ("attacker", "victim-tab"):
            stolen = gradio_call(url, open_, [conversation], session=session, cookies=cookies)
            assert "Zephyr" not in str(stolen), stolen
            assert stolen["success"] is False or "gone" in str(stolen["output"]) or \
                stolen["output"]["data"][0] == {"__type__": "update"}, stolen

    mine = gradio_call(url, open_, [conversation], session="victim-tab", cookies=victim)
    assert "Zephyr" in str(mine["output"]["data"][0])

    for cookies in forged:
        for name, data in (("rename", [conversation, "owned"]),
                           ("delete-conversation", [conversation])):
            gradio_call(url, fn_index(url, name), data, session="attacker", cookies=cookies)
    still = gradio_call(url, open_, [conversation], session="victim-tab", cookies=victim)
    assert "Zephyr" in str(still["output"]["data"][0]), "neither renamed away nor deleted"


def test_the_page_serves_no_secret_that_names_browsers(open_server):
    url, app = open_server
    secret = (app.settings.data_dir / "web-secret").read_text().strip()
    assert secret not in httpx.get(f"{url}/config").text
    assert secret not in httpx.get(f"{url}/").text
