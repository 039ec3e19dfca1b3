"""Items 1 and 10: an empty key never turns authentication off; with a key, nothing but the
login page is served without it (no schemas, no Gradio config), and errors carry no internals."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from chat.settings import ServerConfig, load_settings
from evals.servers import free_port
from ingest.errors import ConfigError
from tests.security.conftest import KEY, fn_index, gradio_call, login
from ui.security import Policy
from ui.serve import require_safe_bind

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("DOCCHAT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("value", ["", " ", "\t"])
def test_an_empty_or_blank_key_in_the_environment_is_a_configuration_error(
        clean_env, monkeypatch, value):
    monkeypatch.setenv("DOCCHAT_SERVER__API_KEY", value)
    with pytest.raises(ConfigError, match="server.api_key: is empty"):
        load_settings()


@pytest.mark.parametrize("line", ['api_key = ""', 'api_key = " "'])
def test_an_empty_key_in_toml_is_a_configuration_error(clean_env, tmp_path, line):
    (tmp_path / "docchat.toml").write_text(f"[server]\n{line}\n")
    with pytest.raises(ConfigError, match="server.api_key: is empty"):
        load_settings()


def test_short_or_padded_keys_are_refused_too():
    with pytest.raises(ValueError, match="too short"):
        ServerConfig(api_key="k")
    with pytest.raises(ValueError, match="white space"):
        ServerConfig(api_key=f" {KEY}")


def test_one_decision_says_whether_auth_is_on():
    assert Policy.from_config(ServerConfig()).auth_on is False
    assert Policy.from_config(ServerConfig(api_key=KEY)).auth_on is True
    require_safe_bind(ServerConfig(host="127.0.0.1"))
    require_safe_bind(ServerConfig(host="0.0.0.0", api_key=KEY))
    with pytest.raises(ConfigError, match="Refusing to listen on 0.0.0.0 without authentication"):
        require_safe_bind(ServerConfig(host="0.0.0.0"))
    with pytest.raises(ConfigError):
        require_safe_bind(ServerConfig(host="my-laptop.example"))


def test_serve_with_an_empty_key_on_all_interfaces_does_not_start(tmp_path):
    """The reported attack: `DOCCHAT_SERVER__API_KEY= docchat serve --host 0.0.0.0`."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCCHAT_")}
    env.update(DOCCHAT_SERVER__API_KEY="", DOCCHAT_DATA_DIR=str(tmp_path / "data"))
    done = subprocess.run([sys.executable, "-m", "ui", "serve", "--host", "0.0.0.0",
                           "--port", str(port)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "server.api_key: is empty" in done.stderr
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2)


@pytest.mark.parametrize("path", ["/v1/models", "/config", "/gradio_api/info", "/openapi.json",
                                  "/gradio_api/queue/data?session_hash=x"])
def test_without_the_key_nothing_but_the_login_page_is_served(keyed_server, path):
    url, _ = keyed_server
    response = httpx.get(url + path)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_completions_need_the_key_and_a_browser_session_is_not_a_key(keyed_server):
    url, _ = keyed_server
    body = {"model": "docchat", "messages": [{"role": "user", "content": "Zephyr warranty?"}]}
    assert httpx.post(f"{url}/v1/chat/completions", json=body).status_code == 401
    cookies = login(url)
    assert httpx.post(f"{url}/v1/chat/completions", json=body,
                      cookies=cookies).status_code == 401
    ok = httpx.post(f"{url}/v1/chat/completions", json=body,
                    headers={"Authorization": f"Bearer {KEY}"}, timeout=60)
    assert ok.status_code == 200 and ok.json()["sources"]


def test_schemas_go_only_to_authenticated_clients(keyed_server):
    url, _ = keyed_server
    page = httpx.get(f"{url}/")
    assert page.status_code == 200  # the login page
    assert '"named_endpoints":{}' in page.text and "upload" not in page.text
    schema = httpx.get(f"{url}/openapi.json", headers={"Authorization": f"Bearer {KEY}"})
    assert schema.status_code == 200 and "/v1/chat/completions" in schema.json()["paths"]
    wrong = httpx.get(f"{url}/openapi.json", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


def test_web_chat_errors_carry_no_paths_or_exception_text(keyed_server):
    """A crafted value for the "remove a document" dropdown made Gradio answer with the
    list of choices: every indexed absolute path. Now the handler checks the value itself,
    paths are shown relative to the collection's folder, and an exception's text stays in
    the server log."""
    url, app = keyed_server
    cookies = login(url)
    session = "tab-1"
    listed = gradio_call(url, fn_index(url, None, "load", cookies=cookies), [None],
                         session=session, cookies=cookies)
    assert "guide.md" in str(listed["output"]), "the tab lists the documents"
    crafted = gradio_call(url, fn_index(url, "remove", cookies=cookies),
                          ["/not/a/choice", None], session=session, cookies=cookies)
    assert crafted["success"] is True and len(app.state.files()) == 4, "nothing removed"
    text = str(crafted)
    assert str(app.settings.data_dir) not in text and "not in the list of choices" not in text

    # A handler that fails (a slider given text) says only that it failed.
    failed = gradio_call(url, fn_index(url, "apply-settings", cookies=cookies),
                         [None, "default", "not-a-number", 1, 1, False, "default"],
                         session=session, cookies=cookies)
    assert failed["success"] is False
    assert failed["output"].get("error") is None, "no exception text reaches the browser"


@pytest.mark.parametrize("key", [" hunter2-secret-key-123 ", "hunter2"])
def test_a_malformed_key_is_explained_at_start_without_printing_it(clean_env, tmp_path, key):
    """Issue 30, item 10: a padded or short key was printed whole in the start-up error."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCCHAT_")}
    env.update(DOCCHAT_SERVER__API_KEY=key, DOCCHAT_DATA_DIR=str(tmp_path / "data"))
    done = subprocess.run([sys.executable, "-m", "ui", "config"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    said = done.stdout + done.stderr
    assert done.returncode != 0 and "server.api_key" in said, said
    assert "white space" in said or "too short" in said, said
    assert "hunter2" not in said, said
