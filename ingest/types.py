"""Typed data that crosses the ingest stage's boundary.

Chunks themselves are langchain `Document`s; their metadata keys are listed in METADATA_KEYS.
"""

from collections import Counter
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Literal

# Keys every stored chunk carries (Chroma metadata must be scalar, so no None and no lists).
METADATA_KEYS = (
    "source",  # absolute path of the file
    "file_name",  # base name, for display
    "file_type",  # lower-case extension without the dot, e.g. "pdf"
    "page",  # 1-based page where the chunk starts; absent for formats without pages
    "section",  # heading path, "Chapter > Section"; "" when the file has no headings
    "element_types",  # comma-separated unstructured categories, e.g. "Title,NarrativeText"
    "chunk_index",  # position of the chunk within its file
    "chunk_id",  # stable id: file content hash + chunk index
    "content_hash",  # sha256 of the chunk text
)
# Keys some chunks carry: a page's front matter (Markdown) or #+TITLE (Org).
OPTIONAL_METADATA_KEYS = ("title", "tags")  # tags comma-separated


@dataclass(frozen=True)
class TextElement:
    """One piece of a parsed file: a paragraph, a heading, a list item, a table."""

    text: str
    category: str
    page: int | None = None
    headings: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceText:
    """Text that needs no parsing: one record of a corpus file (JSONL), for example."""

    source: str  # unique id, stored as the chunk's `source`
    text: str
    title: str = ""


Status = Literal["ingested", "unchanged", "failed", "skipped", "removed"]


@dataclass(frozen=True)
class FileResult:
    path: str
    status: Status
    chunks: int = 0
    reason: str = ""
    seconds: float = 0.0
    notes: tuple[str, ...] = ()  # what was worked around: OCR, a guessed encoding, ...
    detail: str = ""  # a failure in the reading library's own words (exception and message)


@dataclass
class IngestReport:
    results: list[FileResult] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def chunks(self) -> int:
        return sum(r.chunks for r in self.results if r.status == "ingested")

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "failed"]

    def formats(self) -> dict[str, dict[str, int]]:
        """Files per format (the name's extension) and status."""
        out: dict[str, Counter] = {}
        for r in self.results:
            suffix = PurePath(r.path).suffix.lower() or "(no extension)"
            out.setdefault(suffix, Counter())[r.status] += 1
        return {k: dict(v) for k, v in sorted(out.items())}

    def refusals(self) -> list[tuple[str, int]]:
        """Failed files' reasons, commonest first, with how many files gave each."""
        return Counter(r.reason for r in self.failed).most_common()

    def to_dict(self) -> dict:
        return {
            "files": len(self.results),
            "ingested": self.count("ingested"),
            "unchanged": self.count("unchanged"),
            "failed": self.count("failed"),
            "skipped": self.count("skipped"),
            "removed": self.count("removed"),
            "chunks": self.chunks,
            "seconds": round(self.seconds, 3),
            "formats": self.formats(),
            "refusals": [{"reason": reason, "files": n} for reason, n in self.refusals()],
            "results": [r.__dict__ for r in self.results],
        }


def numbered_id(prefix: str, index: int) -> str:
    """A chunk's id: its file's prefix and its position in the file."""
    return f"{prefix}-{index:05d}"


def neighbour_ids(chunk_id: str) -> tuple[str, str]:
    """The ids of the chunks before and after one in its file ("" before the first)."""
    prefix, _, number = chunk_id.rpartition("-")
    if not prefix or not number.isdigit():
        return "", ""
    n = int(number)
    return (numbered_id(prefix, n - 1) if n else ""), numbered_id(prefix, n + 1)
