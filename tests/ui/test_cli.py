"""The CLI edge with fakes behind it: rendering, exit codes, error translation."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import ui.cli as cli
from chat.app import DocChat
from tests.docs_fixtures import write_fixture_docs
from tests.fakes import FakeEmbeddings, FakeGenerator

runner = CliRunner()


def fake_docchat(settings, generator):
    """The real wiring with the models swapped for fakes. Files are parsed in this process:
    a parse worker would import unstructured again (~10 s a run); tests/ingest/test_sync and
    test_crash cover the workers."""
    settings = settings.model_copy(update={
        "ingest": settings.ingest.model_copy(update={"parse_workers": 0})})
    app = DocChat(settings)
    app.embedder = FakeEmbeddings()
    app.generator = generator
    return app


@pytest.fixture
def fake_app(monkeypatch, tmp_path):
    gen = FakeGenerator()
    monkeypatch.setattr(cli, "_docchat", lambda settings: fake_docchat(settings, gen))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DOCCHAT_DATA_DIR", str(tmp_path / "data"))
    return gen


def test_ingest_prints_a_summary_and_fails_when_a_file_failed(fake_app, tmp_path):
    docs = write_fixture_docs(tmp_path / "docs")
    (tmp_path / "docs" / "empty.txt").write_bytes(b"")
    result = runner.invoke(cli.app, ["ingest", str(tmp_path / "docs")])
    assert result.exit_code == 1
    assert "4 ingested, 0 unchanged, 1 failed" in result.output
    assert "empty.txt: the file is empty" in result.output
    (tmp_path / "docs" / "blank.txt").write_bytes(b"")
    (tmp_path / "docs" / "odd.docx").write_bytes(b"PK\x03\x04 not a zip")
    result = runner.invoke(cli.app, ["ingest", "--json", str(tmp_path / "docs")])
    report = json.loads(result.output)
    assert report["formats"][".txt"] == {"failed": 2}
    assert report["formats"][".docx"] == {"unchanged": 1, "failed": 1}
    assert report["formats"][".md"] == {"unchanged": 1}
    assert report["refusals"][0] == {"reason": "the file is empty (0 bytes)", "files": 2}
    failed = next(r for r in report["results"] if r["path"].endswith("odd.docx"))
    assert "damaged" in failed["reason"] and "detail" in failed
    result = runner.invoke(cli.app, ["ingest", str(tmp_path / "docs")])
    assert "failed, by reason: 2 × the file is empty (0 bytes); 1 × the name says .docx" \
        in result.output

    for name in ("empty.txt", "blank.txt", "odd.docx"):
        (tmp_path / "docs" / name).unlink()
    result = runner.invoke(cli.app, ["ingest", "--json", str(docs["guide.md"].parent)])
    assert result.exit_code == 0
    assert json.loads(result.output)["unchanged"] == 4


def test_ask_streams_the_answer_then_lists_sources(fake_app, tmp_path):
    write_fixture_docs(tmp_path / "docs")
    runner.invoke(cli.app, ["ingest", str(tmp_path / "docs")])
    fake_app.enqueue("Seven years [1].")
    result = runner.invoke(cli.app, ["ask", "How long is the Zephyr pump warranty?", "-k", "2"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Seven years [1].")
    assert "*[1] guide.md" in result.output
    assert "[2]" in result.output and "*[2]" not in result.output

    fake_app.enqueue("Seven years [1].")
    result = runner.invoke(cli.app, ["ask", "--json", "Zephyr pump warranty?"])
    data = json.loads(result.output)
    assert data["cited"] == [1]
    assert data["sources"][0]["file_name"] == "guide.md"
    assert {"retrieve_s", "first_token_s", "total_s"} <= set(data["timings"])


def test_ask_filters_by_type_and_folder(fake_app, tmp_path):
    docs = write_fixture_docs(tmp_path / "docs")
    runner.invoke(cli.app, ["ingest", str(tmp_path / "docs")])
    fake_app.enqueue("An answer.")
    result = runner.invoke(cli.app, ["ask", "--json", "--type", "pdf", "warranty router pump"])
    assert {s["file_name"] for s in json.loads(result.output)["sources"]} == {"router.pdf"}
    fake_app.enqueue("An answer.")
    result = runner.invoke(cli.app, ["ask", "--json", "--file", str(docs["guide.md"]), "pump"])
    assert {s["file_name"] for s in json.loads(result.output)["sources"]} == {"guide.md"}
    fake_app.enqueue("An answer.")
    result = runner.invoke(cli.app, ["ask", "--folder", str(tmp_path / "nowhere"), "pump"])
    assert "within the files, folders or file types you selected" in result.output


def test_collections_lists_names_and_counts(fake_app, tmp_path):
    docs = write_fixture_docs(tmp_path / "docs")
    runner.invoke(cli.app, ["ingest", "-c", "first", str(docs["guide.md"])])
    runner.invoke(cli.app, ["ingest", "-c", "second", str(tmp_path / "docs")])
    lines = runner.invoke(cli.app, ["collections"]).output.splitlines()
    assert lines[0].startswith("first\t1 files\t") and lines[1].startswith("second\t4 files")


def test_remove_reports_what_it_removed(fake_app, tmp_path):
    docs = write_fixture_docs(tmp_path / "docs")
    runner.invoke(cli.app, ["ingest", str(tmp_path / "docs")])
    result = runner.invoke(cli.app, ["remove", str(docs["router.pdf"])])
    assert result.exit_code == 0
    assert "router.pdf" in result.output and "1 files removed" in result.output
    assert runner.invoke(cli.app, ["remove", str(docs["router.pdf"])]).exit_code == 1


def test_ask_on_an_empty_index_says_so(fake_app):
    result = runner.invoke(cli.app, ["ask", "anything?"])
    assert result.exit_code == 0
    assert "Nothing in your documents matches: the index is empty." in result.output


def test_bad_configuration_is_a_clean_error(fake_app, monkeypatch, capsys):
    monkeypatch.setenv("DOCCHAT_RETRIEVAL__K", "0")
    monkeypatch.setattr("sys.argv", ["docchat", "ask", "q"])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "retrieval.k" in err and "DOCCHAT_RETRIEVAL__K" in err
    assert "Traceback" not in err


def test_config_command_prints_effective_settings(fake_app, tmp_path):
    Path("docchat.toml").write_text('collection = "mine"\n')
    result = runner.invoke(cli.app, ["config"])
    assert json.loads(result.output)["collection"] == "mine"


def test_chat_keeps_the_conversation_so_follow_ups_find_their_subject(fake_app, tmp_path,
                                                                       monkeypatch):
    # fake vectors: thresholds calibrated on real ones do not apply
    monkeypatch.setenv("DOCCHAT_ANSWER__ANSWER_ABOVE", "0")
    monkeypatch.setenv("DOCCHAT_ANSWER__NOTHING_BELOW", "0")
    write_fixture_docs(tmp_path / "docs")
    runner.invoke(cli.app, ["ingest", str(tmp_path / "docs")])
    fake_app.enqueue("Hold the red button [1].")
    fake_app.enqueue("It costs 89 euros [1].")
    result = runner.invoke(
        cli.app, ["chat"], input="How do I reset the Kestrel router?\nAnd what does it cost?\n"
    )
    assert result.exit_code == 0, result.output
    second = result.output.rsplit("It costs 89 euros", 1)[1]
    assert "*[1] router.pdf" in second
    # the second prompt carried the router question, so its sources were the router's
    assert "Kestrel" in fake_app.seen[1][-1]["content"].split("Question:")[1]


def test_ask_does_not_stream_a_refusal_before_the_near_miss_it_becomes(fake_app, tmp_path):
    """The model's "I do not know." is held back: the terminal shows only the checked near
    miss, not the refusal first and the near miss after it."""
    write_fixture_docs(tmp_path / "docs")
    runner.invoke(cli.app, ["ingest", str(tmp_path / "docs")])
    fake_app.enqueue("I do not know.")
    result = runner.invoke(cli.app, ["ask", "How long does the Zephyr pump warranty last?"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        "Your documents may not answer this. The closest passage is:\n“"), result.output
    assert "I do not know" not in result.output and "Checked answer:" not in result.output
    assert "seven years" in result.output


def test_sync_mirrors_the_folder_and_passwords_open_pdfs(fake_app, tmp_path):
    from tests.ingest.test_loaders import _encrypted_pdf

    docs = write_fixture_docs(tmp_path / "docs")
    locked = _encrypted_pdf(tmp_path / "docs", "s3cret")
    (tmp_path / "docs" / "plain.pdf").unlink()
    result = runner.invoke(cli.app, ["ingest", str(tmp_path / "docs")])
    assert result.exit_code == 1 and "locked.pdf: the PDF is encrypted" in result.output
    result = runner.invoke(cli.app, ["sync", "--pdf-password", "s3cret", str(tmp_path / "docs")])
    assert result.exit_code == 0, result.output
    assert "1 ingested, 4 unchanged" in result.output
    docs["orchids.html"].unlink()
    result = runner.invoke(cli.app, ["sync", "--json", str(tmp_path / "docs")])
    report = json.loads(result.output)
    assert report["removed"] == 1 and report["unchanged"] == 4
    assert str(locked.resolve()) in {r["path"] for r in report["results"]}


def test_a_second_writer_gets_a_message_not_a_traceback(fake_app, tmp_path, monkeypatch, capsys):
    from ingest.state import IngestState

    write_fixture_docs(tmp_path / "docs")
    state = IngestState(tmp_path / "data" / "state.sqlite", "default")
    monkeypatch.setattr("sys.argv", ["docchat", "ingest", str(tmp_path / "docs")])
    with state.lock(), pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 2
    assert "error: Another docchat run is writing collection 'default'" in capsys.readouterr().err


def test_ingesting_the_folder_that_holds_the_data_dir_leaves_docchats_own_files_alone(
        fake_app, tmp_path, monkeypatch):
    """A data_dir (and cache_dir) inside the folder being ingested: its lock file and state
    database were ingested as documents. Now the walk reports those folders as skipped."""
    docs = tmp_path / "docs"
    write_fixture_docs(docs)
    monkeypatch.setenv("DOCCHAT_DATA_DIR", str(docs / "index"))
    monkeypatch.setenv("DOCCHAT_CACHE_DIR", str(docs / "cache"))
    (docs / "cache").mkdir()
    (docs / "cache" / "model.onnx.txt").write_text("not a document")
    assert runner.invoke(cli.app, ["ingest", str(docs)]).exit_code == 0
    assert (docs / "index" / "state.sqlite").is_file()
    result = runner.invoke(cli.app, ["ingest", "--json", str(docs)])
    assert result.exit_code == 0, result.output
    by_path = {Path(r["path"]).name: r for r in json.loads(result.output)["results"]}
    assert by_path["index"]["status"] == by_path["cache"]["status"] == "skipped"
    assert "docchat's own data" in by_path["index"]["reason"]
    assert not any("state.sqlite" in p or ".lock" in p or "model.onnx" in p for p in by_path)
    assert json.loads(result.output)["unchanged"] == 4


def test_a_zip_in_the_folder_is_ingested_and_a_changed_member_is_seen(fake_app, tmp_path):
    import zipfile

    docs = tmp_path / "docs"
    docs.mkdir()

    def write(text: str) -> None:
        with zipfile.ZipFile(docs / "manuals.zip", "w") as archive:
            archive.writestr("pump.md", f"# Zephyr pump\n\n{text}\n")
            archive.writestr("router.txt", "Hold the red button to reset the Kestrel router.")

    write("The warranty lasts seven years.")
    result = runner.invoke(cli.app, ["sync", str(docs)])
    assert result.exit_code == 0 and "1 ingested" in result.output, result.output
    write("The warranty lasts ten years.")
    result = runner.invoke(cli.app, ["sync", "--json", str(docs)])
    assert json.loads(result.output)["ingested"] == 1
    fake_app.enqueue("Ten years [1].")
    result = runner.invoke(cli.app, ["ask", "--json", "How long is the Zephyr pump warranty?"])
    sources = json.loads(result.output)["sources"]
    assert any("ten years" in s["text"] and s["file_name"] == "manuals.zip" for s in sources)
    assert not any("seven years" in s["text"] for s in sources)
