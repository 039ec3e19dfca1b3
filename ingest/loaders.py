"""Turn one file into a list of TextElements with `unstructured`.

A file that cannot be parsed, or that yields no text, raises LoadError with the reason:
unstructured returns zero elements for some PDFs without complaint, and that must never look
like success.
"""

from __future__ import annotations

from pathlib import Path

from ingest.errors import LoadError
from ingest.types import TextElement

# Elements that carry layout, not content.
_SKIP_CATEGORIES = {"PageBreak"}


def load_file(path: Path) -> list[TextElement]:
    """Parse `path` into text elements with page numbers and heading paths."""
    if not path.is_file():
        raise LoadError(str(path), "not a readable file")
    if path.stat().st_size == 0:
        raise LoadError(str(path), "the file is empty (0 bytes)")
    raw = _partition(path)
    elements = _to_elements(raw)
    if not elements:
        raise LoadError(
            str(path),
            "no text could be extracted (an image-only/scanned file needs OCR, "
            "or the file holds only whitespace)",
        )
    return elements


def _partition(path: Path) -> list:
    from unstructured.partition.auto import partition  # heavy: ~2-6 s on first use

    try:
        # "fast" reads a PDF's text layer; "hi_res" would download a layout model.
        return partition(filename=str(path), strategy="fast")
    except Exception as exc:  # unstructured raises many unrelated types for bad input
        raise LoadError(str(path), _describe(exc)) from exc


def _describe(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    name = type(exc).__name__
    if "FileType.UNK" in text or "Invalid file" in text:
        return f"unsupported or unrecognised file type ({name}: {text})"
    return f"{name}: {text}" if text else name


def _to_elements(raw: list) -> list[TextElement]:
    out: list[TextElement] = []
    headings: list[str] = []
    for el in raw:
        category = getattr(el, "category", type(el).__name__)
        text = (getattr(el, "text", "") or "").strip()
        if category in _SKIP_CATEGORIES or not text:
            continue
        meta = el.metadata
        if category == "Title" and _is_heading(text, meta.category_depth):
            depth = meta.category_depth or 0
            headings = headings[:depth] + [_one_line(text)]
        out.append(
            TextElement(
                text=text,
                category=category,
                page=meta.page_number,
                headings=tuple(headings),
            )
        )
    return out


def _is_heading(text: str, depth: int | None) -> bool:
    """Titles from markup (Markdown, HTML, DOCX) have a depth and are trusted. In PDFs the
    parser guesses titles from short lines, so a guess that reads like the tail of a sentence
    ("online.") or starts in lower case is not used as a heading."""
    if depth is not None:
        return True
    line = text.strip()
    return bool(line) and not line.endswith((".", ",", ";", ":")) and not line[0].islower()


def _one_line(text: str, limit: int = 120) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
