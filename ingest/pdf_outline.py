"""A PDF's bookmarks (its outline) as its sections: word processors write one per heading,
and they are more reliable than the parser's guesses from font size and line length."""

from __future__ import annotations

import re
from dataclasses import replace
from itertools import takewhile
from pathlib import Path

from ingest.types import TextElement


def pdf_outline(path: Path, password: str | None = None) -> list[tuple[int, int, str]]:
    """The PDF's bookmarks as (page, level, title), in order; [] without any (or when they
    cannot be read: the parser's guesses are used then)."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            reader.decrypt(password or "")
        out: list[tuple[int, int, str]] = []

        def walk(items, level: int) -> None:
            for item in items:
                if isinstance(item, list):
                    walk(item, level + 1)
                    continue
                page = reader.get_destination_page_number(item)
                title = " ".join(str(item.title or "").split())
                if page is not None and page >= 0 and title:
                    out.append((page + 1, level, title))

        walk(reader.outline, 0)
        return out
    except Exception:  # noqa: BLE001 - a broken outline must not cost the document
        return []


def with_outline_headings(elements: list[TextElement],
                          outline: list[tuple[int, int, str]]) -> list[TextElement]:
    """Headings from the PDF's bookmarks instead of the parser's guesses from font and line
    length: the element that is a bookmark's title (or, for the next bookmark, starts with
    it), on the bookmark's page, opens that section; nothing else does."""
    key = lambda text: re.sub(r"[^a-z0-9]+", "", text.lower())  # noqa: E731
    pending = [(page, level, title, key(title)) for page, level, title in outline]
    path: tuple[str, ...] = ()
    out = []
    for element in elements:
        text, at = key(element.text), element.page
        if at is None:
            out.append(replace(element, headings=path))
            continue
        # A bookmark may point at the page before its heading (written just before a page
        # break); one whose title was not found by the page after is dropped.
        while pending and pending[0][0] + 1 < at:
            pending.pop(0)
        here = list(takewhile(lambda entry: entry[0] <= at, pending))  # sorted by page
        # The heading itself (skipping bookmarks never found), or a paragraph the parser
        # joined to the next heading ("Configuration docchat reads …"). Only the next
        # bookmark may match by prefix: a list item "environment variables starting with …"
        # must not open the later section "Environment variables".
        found = next((i for i, entry in enumerate(here) if entry[3] and text == entry[3]), None)
        if found is None and here and here[0][3] and text.startswith(here[0][3]):
            found = 0
        if found is not None:
            _, level, title, _ = pending[found]
            del pending[:found + 1]
            path = path[:level] + (title,)
        out.append(replace(element, headings=path))
    return out
