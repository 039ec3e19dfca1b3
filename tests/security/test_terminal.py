"""Beyond round two's list (item 1's class, for the terminal): `docchat ask` printed model
and document text raw, so an answer could carry terminal escape sequences (OSC 52 writes
the user's clipboard, OSC 8 disguises a link, CSI redraws what was printed)."""

from __future__ import annotations

from tests.docs_fixtures import write_fixture_docs
from tests.ui.test_cli import cli, fake_app, runner  # noqa: F401 (fixture)

HOSTILE = ("The warranty lasts seven years [1]. \x1b]52;c;cm0gLXJmIH4=\x07"
           "\x1b]8;;http://127.0.0.1:9/\x1b\\\\click\x1b]8;;\x1b\\\\ \x1b[2J\x9b31m")


def test_ask_prints_no_terminal_escape_from_an_answer(fake_app, tmp_path):  # noqa: F811
    docs = write_fixture_docs(tmp_path / "docs")
    docs["guide.md"].write_text(docs["guide.md"].read_text() + "\nBell \x1b[5m here.\n")
    runner.invoke(cli.app, ["ingest", str(tmp_path / "docs")])
    fake_app.enqueue(HOSTILE)
    result = runner.invoke(cli.app, ["ask", "How long does the Zephyr pump warranty last?"])
    assert result.exit_code == 0, result.output
    assert "seven years" in result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "\x9b" not in result.output
