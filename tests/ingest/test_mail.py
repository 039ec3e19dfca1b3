"""E-mails the loader refused (issue 31, class 6): a MIME digest whose messages are
message/rfc822 parts, and a message with headers but no body."""

from __future__ import annotations

from email.message import EmailMessage

from ingest.loaders import FileLoader

load = FileLoader()


def message(subject: str, body: str | None) -> EmailMessage:
    m = EmailMessage()
    m["From"] = "Carla Ruiz <carla@example.org>"
    m["To"] = "pumps@example.org"
    m["Subject"] = subject
    m["Date"] = "Wed, 04 Mar 2026 09:30:00 +0000"
    if body is not None:
        m.set_content(body)
    return m


def test_a_digest_is_read_message_by_message(tmp_path):
    """A multipart/digest as list servers write it: no text part of its own, its parts
    without a Content-Type (message/rfc822 is the default there). Refused as empty."""
    boundary = "digest-boundary-42"
    text = ("From: list@example.org\nTo: bo@example.org\nSubject: Pump list digest 3\n"
            f'MIME-Version: 1.0\nContent-Type: multipart/digest; boundary="{boundary}"\n\n')
    for m in (message("Seal", "The Zephyr seal kit costs 19 euros."),
              message("Filter", "Rinse the filter monthly with warm water.")):
        text += f"--{boundary}\n\n{m.as_string()}\n"
    path = tmp_path / "digest.eml"
    path.write_text(text + f"--{boundary}--\n")
    loaded = load(path)
    by_text = {e.text: e.headings for e in loaded.elements}
    assert by_text["The Zephyr seal kit costs 19 euros."] == ("Message: Seal",)
    assert by_text["Rinse the filter monthly with warm water."] == ("Message: Filter",)


def test_a_message_without_a_body_is_read_as_its_headers(tmp_path):
    path = tmp_path / "moved.eml"
    path.write_bytes(message("Quarterly review moved to Thursday", None).as_bytes())
    loaded = load(path)
    texts = [e.text for e in loaded.elements]
    assert texts == ["From: Carla Ruiz <carla@example.org>", "To: pumps@example.org",
                     "Subject: Quarterly review moved to Thursday",
                     "Date: Wed, 04 Mar 2026 09:30:00 +0000"]
    assert loaded.notes == ("the message has no body: its headers were read",)


def test_an_email_with_whitespace_only_is_still_refused(tmp_path):
    import pytest

    from ingest.errors import LoadError

    path = tmp_path / "blank.eml"
    path.write_text("   \n\n  \n")
    with pytest.raises(LoadError):
        load(path)
