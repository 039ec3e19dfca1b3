"""Files uploaded through the web chat: checked before anything is kept.

Names are reduced to a safe base name (no folders, no "..", no control characters), the size
is limited, the type is read from the content (ingest.formats, as for ingestion), and files
that are zip containers (DOCX, XLSX, PPTX, ODT, EPUB) are checked for decompression bombs.
Accepted files are copied into the collection's upload folder under the data directory and
nowhere else.
"""

from __future__ import annotations

import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ingest.containers import container_problem, safe_name
from ingest.errors import DocchatError, LoadError
from ingest.formats import detect

class UploadError(DocchatError):
    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


@dataclass(frozen=True)
class Accepted:
    name: str  # the name as uploaded
    path: Path  # where it was kept


def accept(upload: Path, name: str, folder: Path, max_bytes: int) -> Accepted:
    """Check one uploaded file and copy it into `folder`; raise UploadError with the reason."""
    size = upload.stat().st_size
    if size > max_bytes:
        raise UploadError(name, f"too large ({size / 1e6:.1f} MB; the limit is "
                                f"{max_bytes / 1e6:.0f} MB, server.max_upload_mb)")
    if size == 0:
        raise UploadError(name, "the file is empty")
    try:
        detect(upload)
    except LoadError as exc:
        raise UploadError(name, exc.reason) from None
    if zipfile.is_zipfile(upload):
        problem = container_problem(upload)
        if problem:
            raise UploadError(name, problem)
    folder.mkdir(parents=True, exist_ok=True)
    target = _free_path(folder, safe_name(name), upload)
    if target.resolve().parent != folder.resolve():  # cannot happen with safe_name; be sure
        raise UploadError(name, "refused: the name points outside the upload folder")
    if not target.exists():
        shutil.copyfile(upload, target)
    return Accepted(name, target)


def _free_path(folder: Path, name: str, upload: Path) -> Path:
    """`name` in `folder`; if a different file has it, "name (2).ext" and so on. The same
    content under the same name reuses the file (re-uploading is then "unchanged")."""
    target = folder / name
    stem, suffix = target.stem, target.suffix
    n = 2
    while target.exists() and not _same(target, upload):
        target = folder / f"{stem} ({n}){suffix}"
        n += 1
    return target


def _same(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    with a.open("rb") as fa, b.open("rb") as fb:
        while True:
            block = fa.read(1 << 20)
            if block != fb.read(1 << 20):
                return False
            if not block:
                return True


def discard_upload(source: str, data_dir: Path) -> None:
    """Delete a removed document's file if docchat keeps it (an upload): the user's own
    folders are never touched."""
    path = Path(source)
    uploads = (Path(data_dir) / "uploads").resolve()
    if path.is_absolute() and path.resolve().is_relative_to(uploads):
        path.unlink(missing_ok=True)
