"""Files that hold files, and what comes out of them: the limits that keep a decompression
bomb out (for uploads, which also checks Office files, which are zips, and for .zip archives
read member by member), e-mail attachments, and safe names for the files taken out (or
uploaded)."""

from __future__ import annotations

import re
import unicodedata
import zipfile
from pathlib import Path, PurePosixPath

# A container may expand to this many times its size, and to at most this many bytes.
MAX_RATIO = 100
MAX_EXPANDED = 2 * 1024**3
MAX_ENTRIES = 20_000
MAX_DEPTH = 3  # archives inside archives (and e-mails inside e-mails) read this deep


def container_problem(path: Path) -> str | None:
    """Why the zip container at `path` must not be opened (a bomb, a member named outside
    it, a damaged directory), or None."""
    size = path.stat().st_size
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        return "the zip container is damaged; open it in the program that made it and save it again"
    expanded = sum(e.file_size for e in entries)
    if len(entries) > MAX_ENTRIES or expanded > MAX_EXPANDED or expanded > MAX_RATIO * size:
        return (f"refused: it would expand to {expanded / 1e6:.0f} MB from {size / 1e6:.1f} MB "
                f"in {len(entries)} parts (a zip bomb?)")
    for entry in entries:
        if entry.filename.startswith(("/", "\\")) or ".." in PurePosixPath(
                entry.filename.replace("\\", "/")).parts:
            return f"refused: a part is named {entry.filename!r}, outside the archive"
    return None


def member_files(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The archive's files in name order: no folders, no hidden files, no macOS resource
    forks (__MACOSX)."""
    out = []
    for info in archive.infolist():
        parts = PurePosixPath(info.filename.replace("\\", "/")).parts
        if info.is_dir() or not parts or any(p.startswith(".") or p == "__MACOSX"
                                             for p in parts):
            continue
        out.append(info)
    return sorted(out, key=lambda i: i.filename)


def safe_name(name: str, default: str = "upload") -> str:
    """A plain file name from whatever a browser, an e-mail or an archive gave ("../../x",
    "C:\\a\\b", "\x00"): no folders, no control characters, no leading dots."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFKC", name))[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    base = _UNSAFE.sub("_", base).strip(" .")
    stem, dot, ext = base.rpartition(".")
    if dot and len(ext) <= 10:
        return (stem[:120] or default) + "." + ext
    return base[:120] or default


_UNSAFE = re.compile(r"[^\w.\- ()]+")


def email_attachments(path: Path) -> list[tuple[str, bytes]]:
    """(file name, decoded bytes) of each attachment of an e-mail file (inline images with a
    name included; the text and HTML bodies are not attachments)."""
    import email
    from email import policy

    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    found = []
    for part in _parts(message):
        name = part.get_filename() or ""
        if part.get_content_disposition() != "attachment" and not name:
            continue
        try:
            payload = part.get_payload(decode=True) or b""
        except Exception:  # a malformed transfer encoding: nothing readable
            payload = b""
        found.append((name, payload))
    return found


def _parts(message):
    """The leaf parts of an e-mail, not those of messages enclosed in it (message/rfc822:
    each is read as an e-mail of its own, ingest.mail)."""
    if message.get_content_type() == "message/rfc822":
        return
    if not message.is_multipart():
        yield message
        return
    for part in message.iter_parts():
        yield from _parts(part)


def extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> None:
    """Copy one member out, reading no more than its directory entry declares (a member
    that lies about its size cannot fill the disk)."""
    with archive.open(info) as src, target.open("wb") as out:
        left = info.file_size
        while block := src.read(min(1 << 20, left + 1)):
            left -= len(block)
            if left < 0:
                raise zipfile.BadZipFile(f"{info.filename} is larger than its entry says")
            out.write(block)
