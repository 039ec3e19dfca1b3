"""Which files a run looks at: folders walked in sorted order, hidden and temporary entries
reported."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from ingest.types import FileResult


OWN_FOLDER = "docchat's own data (its index, state and model cache), not a document folder"
TEMPORARY = "an editor's or download's temporary file"
# Office lock files (~$name.docx), editor backups and swap files (name~, #name#, .swp),
# vim's write test (4913), partial downloads.
_TEMPORARY_SUFFIXES = ("~", ".swp", ".swx", ".tmp", ".part", ".crdownload", ".partial")


def is_temporary(name: str) -> bool:
    """A file an editor or a download is still writing or keeps aside: never a document of
    its own (found in a folder, it is skipped and reported; named explicitly, it is read)."""
    return (name.startswith(("~$", ".~lock.", "#")) or name.endswith(_TEMPORARY_SUFFIXES)
            or name == "4913")


def expand_paths(paths: Iterable[Path], confine: Sequence[Path] | None = None,
                 own: Sequence[Path] = ()) -> Iterator[tuple[Path, FileResult | None]]:
    """Files to ingest, folders walked recursively in sorted order.

    Yields (path, None) for a file to ingest, or (path, result) for one that is not ingested
    (a missing path, a hidden file or folder inside a folder, docchat's own folders `own`
    met on the walk) so the report says so. With `confine`, a file whose real path (links
    followed) lies outside those folders is skipped.
    """
    for path, result in _walk(paths, frozenset(Path(o).resolve() for o in own)):
        if result is None and confine is not None:
            real = path.resolve()
            if not any(real.is_relative_to(root) for root in confine):
                result = FileResult(str(path), "skipped",
                                    reason="a link to a file outside the allowed folders")
        yield path, result


def _walk(paths: Iterable[Path], own: frozenset[Path]) -> Iterator[tuple[Path, FileResult | None]]:
    for path in paths:
        path = Path(path).expanduser()
        if path.is_file():
            yield path, None
        elif path.is_dir() and path.resolve() in own:
            yield path, FileResult(str(path), "skipped", reason=OWN_FOLDER)
        elif path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in list(dirs):
                    folder = Path(root, name)
                    if name.startswith("."):
                        reason = "hidden folder"
                    elif own and folder.resolve() in own:
                        reason = OWN_FOLDER
                    else:
                        continue
                    dirs.remove(name)
                    yield folder, FileResult(str(folder), "skipped", reason=reason)
                for name in sorted(files):
                    file = Path(root, name)
                    if name.startswith("."):
                        yield file, FileResult(str(file), "skipped", reason="hidden file")
                    elif is_temporary(name):
                        yield file, FileResult(str(file), "skipped", reason=TEMPORARY)
                    else:
                        yield file, None
        else:
            yield path, FileResult(str(path), "failed", reason="not found")


def hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
