"""Round two, item 5: other sites may not read the web chat's answers, ride its login cookie
or frame it.

With a key and an allowed host name, Gradio's CORS reflected any Origin, with credentials,
on /config (which holds the browser-state secret and the names of collections, generators
and sync roots); the login cookie was SameSite=None; any site could frame the chat.
"""

from __future__ import annotations

import time

import httpx

from tests.security.browser import Listener, chromium, needs_chromium
from tests.security.conftest import KEY

HOST = {"Host": "docs.example.org"}


def _login_cookies(url: str) -> tuple[str, list[str]]:
    response = httpx.post(f"{url}/login", data={"username": "me", "password": KEY},
                          headers=HOST)
    assert response.status_code == 200
    cookie = "; ".join(f"{k}={v}" for k, v in response.cookies.items())
    return cookie, response.headers.get_list("set-cookie")


def test_another_origin_cannot_read_config_with_the_users_cookie(keyed_server):
    url, _ = keyed_server
    cookie, _ = _login_cookies(url)
    for origin in ("http://evil.example", "https://docs.example.org.evil.example", "null"):
        response = httpx.get(f"{url}/config", headers={**HOST, "Cookie": cookie,
                                                        "Origin": origin})
        assert response.status_code == 200  # the user's own session, but not for that page
        assert "access-control-allow-origin" not in response.headers, origin
        assert "access-control-allow-credentials" not in response.headers, origin
        preflight = httpx.options(f"{url}/config", headers={
            **HOST, "Origin": origin, "Access-Control-Request-Method": "GET"})
        assert "access-control-allow-origin" not in preflight.headers, origin


def test_the_login_cookie_is_same_site_lax(keyed_server):
    url, _ = keyed_server
    _, cookies = _login_cookies(url)
    assert cookies and all("samesite=lax" in c.lower() for c in cookies), cookies
    assert not any("samesite=none" in c.lower() for c in cookies), cookies


@needs_chromium
def test_another_site_cannot_frame_the_chat(open_server):
    url, _ = open_server
    with Listener({"/frame.html": f"<iframe src='{url}/' width=800 height=600></iframe>"}) \
            as listener, chromium() as browser:
        page = browser.new_page()
        page.goto(f"{listener.url}/frame.html")
        time.sleep(3)
        framed = [f for f in page.frames if f != page.main_frame]
        assert framed, "the iframe exists"
        # a refused frame is Chromium's error page, with none of the chat in it
        assert not framed[0].url.startswith(url) or "docchat" not in framed[0].content()
        assert framed[0].locator("#question").count() == 0
