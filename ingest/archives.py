"""Zip containers: the limits that keep a decompression bomb out, for uploads (which also
checks Office files, which are zips) and for .zip archives docchat reads member by member."""

from __future__ import annotations

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
