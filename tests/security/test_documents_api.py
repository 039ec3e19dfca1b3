"""The document API through a served docchat: add, list, ask, delete; the same checks as web
uploads (key, names, types by content, bombs, sizes) and sync only under server.sync_roots."""

from __future__ import annotations

import io
import zipfile

import httpx
import pytest

from tests.security.conftest import KEY, served

NOTE = (b"# Falcon lantern\n\nThe Falcon lantern battery lasts nine hours on a full charge and "
        b"recharges over USB in three hours.\n")


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    root = tmp_path_factory.mktemp("api")
    (root / "shared").mkdir()
    (root / "shared" / "kite.md").write_text("# Kite\n\nThe Osprey kite flies in winds of "
                                            "ten to forty kilometres per hour.\n")
    with served(root, api_key=KEY, sync_roots=[str(root / "shared")],
                max_upload_mb=1) as (url, app):
        yield url, app, root


def _client(url: str, key: str | None = KEY) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(base_url=url, headers=headers, timeout=60)


def test_add_list_ask_and_delete_a_document(api):
    url, app, _ = api
    with _client(url) as http:
        added = http.post("/v1/documents", files=[("files", ("falcon.md", NOTE, "text/markdown"))])
        assert added.status_code == 200, added.text
        (row,) = added.json()["data"]
        assert row["status"] == "ingested" and row["chunks"] >= 1 and row["id"].startswith("doc-")
        again = http.post("/v1/documents", files=[("files", ("falcon.md", NOTE, "text/plain"))])
        assert again.json()["data"][0]["status"] == "unchanged"
        assert again.json()["data"][0]["id"] == row["id"], "ids are stable"

        listed = {d["id"]: d for d in http.get("/v1/documents").json()["data"]}
        assert listed[row["id"]]["filename"] == "falcon.md"
        assert not listed[row["id"]]["path"].startswith("/"), "server paths stay private"

        reply = http.post("/v1/chat/completions", json={
            "model": "docchat", "messages": [{"role": "user", "content":
                                              "How long does the Falcon lantern battery last?"}]})
        assert "falcon.md" in str(reply.json()["sources"])

        assert http.delete(f"/v1/documents/{row['id']}").json()["deleted"] is True
        assert row["id"] not in {d["id"] for d in http.get("/v1/documents").json()["data"]}
        assert http.delete(f"/v1/documents/{row['id']}").status_code == 404


def test_without_the_key_nothing_is_added_or_listed(api):
    url, app, _ = api
    before = len(app.state.files())
    with _client(url, key=None) as http:
        assert http.post("/v1/documents",
                         files=[("files", ("x.md", NOTE, "text/markdown"))]).status_code == 401
        assert http.get("/v1/documents").status_code == 401
    with _client(url, key="wrong-key-wrong-key") as http:
        assert http.delete("/v1/documents/doc-0").status_code == 401
    assert len(app.state.files()) == before


def test_hostile_uploads_are_refused_with_reasons_and_names_are_tamed(api):
    url, app, root = api
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "0" * 50_000_000)
    with _client(url) as http:
        response = http.post("/v1/documents", files=[
            ("files", ("../../../../tmp/escape.md", NOTE, "text/markdown")),
            ("files", ("bomb.docx", bomb.getvalue(), "application/octet-stream")),
            ("files", ("tool.md", b"\x7fELF\x02\x01\x01" + bytes(200), "text/markdown")),
            ("files", ("empty.txt", b"", "text/plain"))])
        assert response.status_code == 200, response.text
        rows = {r["filename"]: r for r in response.json()["data"]}
        bomb_row = rows["bomb.docx"]
        assert bomb_row["status"] == "refused" and "zip bomb" in bomb_row["reason"]
        assert rows["tool.md"]["status"] == "refused"
        assert rows["empty.txt"]["status"] == "refused" and "empty" in rows["empty.txt"]["reason"]
        escaped = rows["../../../../tmp/escape.md"]
        assert escaped["status"] == "ingested"
        kept = [s for s in app.state.files() if s.endswith("escape.md")]
        assert kept and all("/uploads/" in s for s in kept), kept

        too_big = http.post("/v1/documents",
                            files=[("files", ("big.txt", b"a " * 6_000_000, "text/plain"))])
        assert too_big.status_code == 413
        many = http.post("/v1/documents", files=[("files", (f"n{i}.md", NOTE, "text/markdown"))
                                                 for i in range(11)])
        assert many.status_code == 400 and "At most 10" in many.text
        bad = http.post("/v1/documents", data={"collection": "../etc"},
                        files=[("files", ("x.md", NOTE, "text/markdown"))])
        assert bad.status_code == 400 and "collection" in bad.text


def test_sync_reads_only_under_the_sync_roots(api):
    url, app, root = api
    with _client(url) as http:
        synced = http.post("/v1/documents/sync", json={"path": str(root / "shared")})
        assert synced.status_code == 200, synced.text
        assert [r["filename"] for r in synced.json()["data"]] == ["kite.md"]
        assert synced.json()["data"][0]["status"] == "ingested"
        outside = http.post("/v1/documents/sync", json={"path": str(root / "docs")})
        assert outside.status_code == 404
        assert http.post("/v1/documents/sync", json={"path": "/etc"}).status_code == 404


def test_while_another_run_writes_the_collection_the_api_says_so(api):
    url, app, _ = api
    with _client(url) as http:
        some_id = http.get("/v1/documents").json()["data"][0]["id"]
        with app.state.lock():
            added = http.post("/v1/documents",
                              files=[("files", ("busy.md", NOTE, "text/markdown"))])
            removed = http.delete(f"/v1/documents/{some_id}")
        assert added.status_code == removed.status_code == 409
        assert "Another docchat run is writing" in added.json()["error"]["message"]
        assert some_id in {d["id"] for d in http.get("/v1/documents").json()["data"]}


def test_sync_does_not_tell_which_server_paths_exist_or_where_the_roots_are(api):
    """Round two, item 8: 403 "not under sync_roots: /abs/root" for a path that exists,
    404 for one that does not."""
    url, _, root = api
    with _client(url) as http:
        answers = [http.post("/v1/documents/sync", json={"path": path})
                   for path in ("/etc", "/no/such/folder-7f3a", str(root / "docs"),
                                str(root / "shared" / "missing"))]
    assert len({(a.status_code, a.text) for a in answers}) == 1, [a.text for a in answers]
    assert answers[0].status_code == 404 and str(root) not in answers[0].text
