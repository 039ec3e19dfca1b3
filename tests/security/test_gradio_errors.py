"""Round two, item 9: Gradio's own 422 answers no longer echo the request.

FastAPI's validation errors under Gradio's routes carried the request back ("input": the
body, up to the 1 MiB limit). Same rule as the API: a short error, no echo.
"""

from __future__ import annotations

import httpx
import pytest

MARK = "ECHO-ME-" * 20_000  # 160 kB


@pytest.mark.parametrize("path,body", [
    ("/gradio_api/queue/join", {"data": MARK}),
    ("/gradio_api/queue/join", {"fn_index": MARK, "session_hash": MARK}),
    ("/gradio_api/cancel", {"event_id": [MARK]}),
])
def test_a_gradio_validation_error_is_short_and_echoes_nothing(open_server, path, body):
    url, _ = open_server
    response = httpx.post(url + path, json=body)
    assert response.status_code == 422, response.text[:300]
    assert "ECHO-ME" not in response.text and len(response.content) < 300
    assert response.json()["error"]["code"] == "invalid_request_error"
