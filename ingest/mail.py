"""What an e-mail holds besides its body and attachments: the messages of a MIME digest
(`message/rfc822` parts, read by docchat as attached e-mails), and its headers as text when
it has no body. The standard library's `email` parses; this only chooses what to read."""

from __future__ import annotations

import email
from email import policy
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

from ingest.containers import email_attachments
from ingest.errors import LoadError
from ingest.types import TextElement

HEADERS = ("From", "To", "Cc", "Subject", "Date")


def _parse(path: Path) -> EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=policy.default)


def enclosed_messages(path: Path) -> list[tuple[str, bytes]]:
    """(subject, bytes) of each e-mail enclosed as a `message/rfc822` part: the messages of
    a multipart/digest (where that is the parts' default type), or a forwarded message.
    Messages inside those are left to the reading of each one."""
    found: list[tuple[str, bytes]] = []

    def walk(part) -> None:
        if part.get_content_type() == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if inner is not None:
                found.append((str(inner.get("Subject", "") or ""), inner.as_bytes()))
            return
        if part.is_multipart():
            for child in part.iter_parts():
                walk(child)

    walk(_parse(path))
    return found


def header_elements(path: Path) -> list[TextElement]:
    """From, To, Cc, Subject and Date as one element each: what a message without a body
    still says (a meeting moved, an empty reply)."""
    message = _parse(path)
    return [TextElement(f"{name}: {' '.join(str(message[name]).split())}", "UncategorizedText")
            for name in HEADERS if message.get(name)]


def body_elements(path: Path, read: Callable[[], list[TextElement]],
                  notes: list[str]) -> list[TextElement]:
    """`read()` (unstructured's headers and body); for a digest without a text part of its
    own, nothing; for a message with neither body nor attachments, its headers."""
    try:
        elements = read()
    except LoadError:
        if not enclosed_messages(path):
            raise
        return []
    if not elements and not email_attachments(path) and not enclosed_messages(path):
        elements = header_elements(path)
        if elements:
            notes.append("the message has no body: its headers were read")
    return elements


def parts(path: Path) -> list[tuple[str, str, str, bytes]]:
    """(label for notes, heading, file name, bytes) of each enclosed message, then each
    attachment, to be read as files of their own."""
    out = [(f"message {n} ({subject})", f"Message: {subject or n}", f"message-{n}.eml", data)
           for n, (subject, data) in enumerate(enclosed_messages(path), start=1)]
    out += [(f"attachment {name or n}", f"Attachment: {name or n}", name, data)
            for n, (name, data) in enumerate(email_attachments(path), start=1)]
    return out
