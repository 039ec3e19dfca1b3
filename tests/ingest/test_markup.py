"""Documentation folders as people keep them (issue 31): Markdown, reStructuredText, HTML and
Org from mkdocs, Sphinx and Docusaurus, read with their structure and without site markup."""

from __future__ import annotations

from pathlib import Path

from ingest.loaders import FileLoader

load = FileLoader()


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def sections(loaded) -> dict[str, tuple[str, ...]]:
    """Each element's first words -> its heading path."""
    return {" ".join(e.text.split()[:3]): e.headings for e in loaded.elements}


AUTH = """## Basic authentication

Pass a tuple of user name and password as `auth`.

## Digest authentication

Digest authentication answers the server's challenge.

### Nonces

The first request is sent twice.

## NTLM

NTLM is not built in.
"""


def test_sibling_headings_are_siblings_under_the_file_name(tmp_path):
    """A file whose first heading is `##`: its first heading was made the parent of the
    others ("Basic authentication > Digest authentication")."""
    found = sections(load(write(tmp_path, "authentication.md", AUTH)))
    assert found["Pass a tuple"] == ("authentication", "Basic authentication")
    assert found["Digest authentication answers"] == ("authentication", "Digest authentication")
    assert found["The first request"] == ("authentication", "Digest authentication", "Nonces")
    assert found["NTLM is not"] == ("authentication", "NTLM")


def test_a_file_with_a_top_heading_keeps_it_as_the_root(tmp_path):
    text = "# Guide\n\nIntro words here.\n\n### Deep first\n\nDeep words.\n\n## Second\n\nMore.\n"
    found = sections(load(write(tmp_path, "guide.md", text)))
    assert found["Intro words here."] == ("Guide",)
    assert found["Deep words."] == ("Guide", "Deep first")
    assert found["More."] == ("Guide", "Second")
