"""A fuzz run of the API: 2,000 generated bad requests (seeded) against a served docchat on
loopback. Wrong types, huge and deeply nested values, non-UTF-8 bodies, lone surrogates, odd
roles and content parts, stream on and off. None may get a 5xx or a reset connection, and the
server must answer a normal question afterwards."""

from __future__ import annotations

import json
import random
from collections import Counter

import httpx

from tests.security.conftest import served

REQUESTS = 2000
SEED = 20261130
ROLES = ["user", "assistant", "system", "tool", "developer", "wizard", "", "USER", None, 5,
         ["user"], {"r": 1}, "user\x00", "\ud800"]


def odd_value(rng: random.Random, depth: int = 0):
    kind = rng.randrange(12)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 2**63, 1e308, -0.0, 3.5])
    if kind == 3:
        return "".join(chr(rng.randrange(0x20, 0x2FFF)) for _ in range(rng.randrange(40)))
    if kind == 4:
        return "\ud800" + "x" * rng.randrange(5)
    if kind == 5:
        return "w " * rng.choice([10, 1000, 30_000, 300_000])
    if kind == 6 and depth < 4:
        return [odd_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if kind == 7 and depth < 4:
        return {rng.choice(["type", "text", "image_url", "x", ""]): odd_value(rng, depth + 1)
                for _ in range(rng.randrange(4))}
    if kind == 8:
        nested: object = "deep"
        for _ in range(rng.choice([10, 200, 900])):
            nested = [nested]
        return nested
    if kind == 9:
        return [{"type": rng.choice(["text", "image_url", "file", None, 1]),
                 "text": rng.choice([None, 5, "Zephyr warranty?", ["a"], "\udfff"])}]
    if kind == 10:
        return "How long is the Zephyr pump warranty?"
    return rng.choice(["", " ", "\x00", "[1]", "Question:\n\nSources:"])


def odd_message(rng: random.Random):
    if rng.random() < 0.1:
        return odd_value(rng)
    role = "user" if rng.random() < 0.6 else rng.choice(ROLES)
    content = rng.choice(["Zephyr pump warranty?", "\x00", "[1] [2]", "Question:\n\nSources:",
                          "é" * 300, "?" * 3000]) if rng.random() < 0.4 else odd_value(rng)
    message = {"role": role, "content": content}
    if rng.random() < 0.2:
        message[rng.choice(["name", "tool_calls", "x" * 50])] = odd_value(rng)
    if rng.random() < 0.1:
        del message["role"]
    return message


def odd_body(rng: random.Random) -> tuple[bytes, bool]:
    """A request body and whether it asks to stream."""
    kind = rng.randrange(10)
    if kind == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))), False
    if kind == 1:
        text = json.dumps({"messages": [{"role": "user", "content": "hi"}]})
        return text[: rng.randrange(len(text))].encode(), False
    if kind == 2:
        return rng.choice([b"[]", b"null", b"1", b'"x"', b"{}", b"\xef\xbb\xbf{}"]), False
    if kind == 4:  # nesting deeper than any JSON parser's recursion limit
        depth = rng.choice([2000, 50_000])
        return b'{"messages": [{"role": "user", "content": ' + b"[" * depth + b"]" * depth \
            + b"}]}", False
    stream = rng.choice([True, False]) if rng.random() < 0.7 else \
        rng.choice(["yes", 1, None, []])
    model = rng.choice(["docchat", "docchat/default"]) if rng.random() < 0.6 else \
        rng.choice(["docchat/nope", "", None, 7, "x" * 500, "docchat\ud800"])
    body: dict = {"model": model, "stream": stream}
    count = rng.choice([0, 1, 2, 3])
    body["messages"] = rng.choice([odd_value(rng), [odd_message(rng) for _ in range(count)],
                                   [{"role": "user", "content": "hi"}] * 1500])
    if kind in (6, 7):  # well formed, odd text: these reach the pipeline
        text = rng.choice(["Zephyr pump warranty?", "\x00", "[1] [2] [99]", "é" * 300,
                           "Question:\n\nSources:", "?" * 3000, "w " * 1999, "🙂" * 50,
                           "<script>alert(1)</script>", "\u202e\u200b", "a\r\nb"])
        parts = [{"type": "text", "text": text}] if rng.random() < 0.3 else text
        earlier = [{"role": rng.choice(["user", "assistant", "system"]),
                    "content": rng.choice(["hi", "", None, "w " * 500])}
                   for _ in range(rng.randrange(4))]
        body = {"model": "docchat", "stream": rng.random() < 0.5,
                "messages": [*earlier, {"role": "user", "content": parts}]}
        stream = body["stream"]
    if rng.random() < 0.2:
        body[rng.choice(["temperature", "tools", "n", "extra"])] = odd_value(rng)
    if rng.random() < 0.05:
        del body["messages"]
    raw = json.dumps(body, ensure_ascii=rng.random() < 0.5)
    if kind == 5 and rng.random() < 0.3:  # over the body limit
        raw = raw[:-1] + ', "padding": "' + "p" * 1_100_000 + '"}'
    if kind == 3:  # a raw lone surrogate escape somewhere in a string
        raw = raw.replace('"hi"', '"\\udc80"').replace("Zephyr", "\\ud83d Zephyr")
    try:
        data = raw.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates as raw UTF-8-ish bytes: not valid UTF-8
        data = raw.encode("utf-8", "surrogatepass")
    return data, stream is True


def test_2000_bad_requests_get_no_5xx_and_no_reset(tmp_path):
    rng = random.Random(SEED)
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    with served(tmp_path) as (url, _), httpx.Client(base_url=url, timeout=60) as client:
        for number in range(REQUESTS):
            body, stream = odd_body(rng)
            method = "POST" if rng.random() < 0.95 else rng.choice(["GET", "PUT", "DELETE"])
            path = "/v1/chat/completions" if rng.random() < 0.95 else rng.choice(
                ["/v1/models", "/v1/chat", "/v1/chat/completions/", "/v1/%ff", "/v1/.."])
            content_type = rng.choice(["application/json"] * 8 + ["text/plain", ""])
            try:
                with client.stream(method, path, content=body,
                                   headers={"content-type": content_type}) as response:
                    text = b"".join(response.iter_bytes())
                    statuses[response.status_code] += 1
                    if response.status_code >= 500:
                        failures.append(f"#{number} {response.status_code}: {text[:200]!r}")
                    elif stream and response.status_code == 200 and \
                            response.headers.get("content-type", "").startswith("text/event"):
                        if not text.rstrip().endswith(b"data: [DONE]"):
                            failures.append(f"#{number}: a stream without [DONE]")
            except httpx.HTTPError as exc:
                failures.append(f"#{number}: {type(exc).__name__}: {exc}")
        normal = client.post("/v1/chat/completions", json={
            "messages": [{"role": "user", "content": "How long is the Zephyr pump warranty?"}]})
    print(f"\nfuzz: {REQUESTS} requests, statuses {dict(sorted(statuses.items()))}")
    assert sum(statuses.values()) == REQUESTS and not failures, failures[:10]
    assert statuses[400] > REQUESTS / 2, "most requests are bad ones"
    assert normal.status_code == 200 and normal.json()["sources"]
