"""Uploads: names, sizes, types by content, zip bombs; nothing lands outside the folder."""

from __future__ import annotations

import zipfile

import pytest

from tests.docs_fixtures import HTML, write_fixture_docs
from ingest.containers import safe_name
from ui.uploads import UploadError, accept

MB = 1_000_000


@pytest.mark.parametrize("given, kept", [
    ("../../etc/passwd.md", "passwd.md"),
    ("C:\\Users\\me\\report.pdf", "report.pdf"),
    ("..", "upload"),
    ("notes\x00.md", "notes.md"),
    ("<script>alert(1)</script>.html", "script_.html"),
    (".bashrc", "bashrc"),
    ("Année 2024 (v2).docx", "Année 2024 (v2).docx"),
])
def test_names_are_reduced_to_a_safe_base_name(given, kept):
    assert safe_name(given) == kept


def test_an_accepted_file_is_copied_into_the_folder_only(tmp_path):
    docs = write_fixture_docs(tmp_path / "docs")
    folder = tmp_path / "data" / "uploads"
    got = accept(docs["router.pdf"], "../../../evil/router.pdf", folder, 10 * MB)
    assert got.path == folder / "router.pdf" and got.path.read_bytes() == docs["router.pdf"].read_bytes()
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file() and "docs" not in p.parts) == [
        "router.pdf"]
    again = accept(docs["router.pdf"], "router.pdf", folder, 10 * MB)
    assert again.path == got.path, "the same file again reuses its copy"
    other = accept(docs["budget.docx"], "router.pdf", folder, 10 * MB)
    assert other.path.name == "router (2).pdf", "another file with that name does not overwrite"


def test_too_large_empty_and_unsupported_files_are_refused(tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("word " * 300_000)
    with pytest.raises(UploadError, match="too large"):
        accept(big, "big.txt", tmp_path / "up", MB)
    empty = tmp_path / "empty.md"
    empty.write_bytes(b"")
    with pytest.raises(UploadError, match="empty"):
        accept(empty, "empty.md", tmp_path / "up", MB)
    binary = tmp_path / "tool.pdf"
    binary.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 40)
    with pytest.raises(UploadError, match="unsupported file type"):
        accept(binary, "tool.pdf", tmp_path / "up", MB)
    assert not (tmp_path / "up").exists() or not any((tmp_path / "up").iterdir())


def test_a_web_page_named_pdf_is_accepted_for_what_it_is(tmp_path):
    page = tmp_path / "page.pdf"
    page.write_text(HTML)
    assert accept(page, "page.pdf", tmp_path / "up", MB).path.is_file()


def test_a_zip_bomb_dressed_as_docx_is_refused(tmp_path):
    bomb = tmp_path / "bomb.docx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document>" + "0" * (20 * MB))
    with pytest.raises(UploadError, match="zip bomb"):
        accept(bomb, "bomb.docx", tmp_path / "up", 10 * MB)


def test_an_archive_is_accepted_unless_it_names_a_part_outside(tmp_path):
    archive = tmp_path / "docs.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a.md", "# A\n\ntext")
    assert accept(archive, "docs.zip", tmp_path / "up", MB).path.name == "docs.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("../../a.md", "# A\n\ntext")
    with pytest.raises(UploadError, match="outside the archive"):
        accept(archive, "docs.zip", tmp_path / "up2", MB)
