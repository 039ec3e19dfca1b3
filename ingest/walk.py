"""Which files a run looks at: folders walked in sorted order, hidden entries reported."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from ingest.types import FileResult


def expand_paths(paths: Iterable[Path], confine: Sequence[Path] | None = None,
                 ) -> Iterator[tuple[Path, FileResult | None]]:
    """Files to ingest, folders walked recursively in sorted order.

    Yields (path, None) for a file to ingest, or (path, result) for one that is not ingested
    (a missing path, a hidden file or folder inside a folder) so the report says so. With
    `confine`, a file whose real path (links followed) lies outside those folders is skipped.
    """
    for path, result in _walk(paths):
        if result is None and confine is not None:
            real = path.resolve()
            if not any(real.is_relative_to(root) for root in confine):
                result = FileResult(str(path), "skipped",
                                    reason="a link to a file outside the allowed folders")
        yield path, result


def _walk(paths: Iterable[Path]) -> Iterator[tuple[Path, FileResult | None]]:
    for path in paths:
        path = Path(path).expanduser()
        if path.is_file():
            yield path, None
        elif path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in [d for d in dirs if d.startswith(".")]:
                    dirs.remove(name)
                    hidden = Path(root, name)
                    yield hidden, FileResult(str(hidden), "skipped", reason="hidden folder")
                for name in sorted(files):
                    file = Path(root, name)
                    if name.startswith("."):
                        yield file, FileResult(str(file), "skipped", reason="hidden file")
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
