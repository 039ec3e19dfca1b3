"""Item 4, DNS rebinding: a page on attacker.example whose name resolves to 127.0.0.1 makes
the victim's browser send `Host: attacker.example:PORT` to docchat. Without a key only
loopback names are answered; with a key, loopback, `server.host` and `server.allowed_hosts`."""

from __future__ import annotations

import httpx
import pytest

from chat.settings import ServerConfig
from tests.security.conftest import KEY
from ui.security import Policy

PATHS = ["/", "/v1/models", "/config", "/gradio_api/info",
         "/gradio_api/queue/data?session_hash=x"]


@pytest.mark.parametrize("path", PATHS)
def test_a_foreign_host_name_is_refused_without_a_key(open_server, path):
    url, _ = open_server
    port = url.rsplit(":", 1)[1]
    response = httpx.get(url + path, headers={"Host": f"attacker.example:{port}"})
    assert response.status_code == 421
    assert response.json()["error"]["code"] == "misdirected_request"
    assert "guide.md" not in response.text


def test_a_foreign_host_cannot_ask_either(open_server):
    url, _ = open_server
    response = httpx.post(f"{url}/v1/chat/completions", headers={"Host": "attacker.example"},
                          json={"messages": [{"role": "user", "content": "Zephyr warranty?"}]})
    assert response.status_code == 421


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "LOCALHOST"])
def test_loopback_names_are_served(open_server, host):
    url, _ = open_server
    port = url.rsplit(":", 1)[1]
    assert httpx.get(f"{url}/v1/models", headers={"Host": f"{host}:{port}"}).status_code == 200


@pytest.mark.parametrize("host", ["", "127.0.0.1:notaport", "user@127.0.0.1", "127.0.0.1/x"])
def test_malformed_host_headers_are_refused(open_server, host):
    url, _ = open_server
    assert httpx.get(f"{url}/v1/models", headers={"Host": host}).status_code == 421


def test_with_a_key_the_allowed_hosts_are_served_and_no_others(keyed_server):
    url, _ = keyed_server
    key = {"Authorization": f"Bearer {KEY}"}
    allowed = httpx.get(f"{url}/v1/models", headers={"Host": "docs.example.org", **key})
    assert allowed.status_code == 200
    other = httpx.get(f"{url}/v1/models", headers={"Host": "attacker.example", **key})
    assert other.status_code == 421


def test_host_patterns():
    policy = Policy.from_config(ServerConfig(api_key=KEY, host="0.0.0.0",
                                             allowed_hosts=["*.corp.example", "chat.example"]))
    assert policy.host_allowed("a.corp.example:443") and policy.host_allowed("chat.example")
    assert not policy.host_allowed("corp.example.evil") and not policy.host_allowed("0.0.0.0")
    keyed_on_address = Policy.from_config(ServerConfig(api_key=KEY, host="192.0.2.7"))
    assert keyed_on_address.host_allowed("192.0.2.7:7860")
    anything = Policy.from_config(ServerConfig(api_key=KEY, allowed_hosts=["*"]))
    assert anything.host_allowed("whatever.example")
    # Without a key the list is not used: only loopback names.
    assert not Policy.from_config(ServerConfig(allowed_hosts=["*"])).host_allowed("x.example")
    with pytest.raises(ValueError):
        ServerConfig(allowed_hosts=["a.*.example"])
