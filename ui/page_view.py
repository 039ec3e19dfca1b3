"""Where a cited passage is: for a PDF, its page as an image with the passage highlighted;
for other files, the passage marked between its neighbouring passages (`context_html`).

The page is rendered with pdfium (pypdfium2, already used to read PDFs). The passage is
found in the page's own text layer: both sides are reduced to their letters and digits, so
line breaks, hyphenation spaces and ligature spacing do not matter; the characters that match
give the boxes to highlight. A passage that cannot be found (a scanned page read by OCR, a
chunk that starts on the previous page) still shows its page, without a highlight.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from chat.types import Source
from ingest.errors import DocchatError

SCALE = 1.5  # 108 dpi: readable on screen, ~150 KB per page
MAX_SIDE = 2400  # pixels: a page with a huge media box is drawn smaller, not at 1.8 GB
HIGHLIGHT = (255, 214, 0, 110)  # translucent yellow
PROBE_CHARS = 60  # a passage is found by its first and last this many letters


def shows_page(source: Source) -> bool:
    """Whether a source has a PDF page to show."""
    return bool(source.page) and source.source.lower().endswith(".pdf")


def page_url(file_url: str, view: str = "page") -> str:
    """A view's link, from the signed link to the file (/files/C/ID?sig=S ->
    /files/C/ID/page?sig=S; the same signature covers every view, ui.api). `view`: "page"
    (a PDF page, `render_page`) or "context" (`context_html`)."""
    path, _, query = file_url.partition("?")
    return f"{path}/{view}?{query}"


def context_html(title: str, before: str, passage: str, after: str) -> str:
    """A small page: the passage marked, between the text around it. Everything escaped."""
    from html import escape

    def block(text: str, css: str) -> str:
        return f"<div class='{css}'>{escape(text)}</div>" if text else ""

    return ("<!doctype html><html><head><meta charset='utf-8'>"
            f"<title>{escape(title)}</title><style>"
            "body{font:16px/1.5 system-ui,sans-serif;max-width:46em;margin:2em auto;"
            "padding:0 1em;white-space:pre-wrap}.around{color:#555}"
            "mark{display:block;background:#ffe58a;padding:.5em;margin:.5em 0}</style></head>"
            f"<body><h1 style='font-size:1.1em'>{escape(title)}</h1>"
            f"{block(before, 'around')}<mark>{escape(passage)}</mark>{block(after, 'around')}"
            "</body></html>")


class PageNotFound(DocchatError):
    """The file has no such page, or is not a PDF pdfium can open."""


@dataclass(frozen=True)
class PageImage:
    png: bytes
    highlighted: int  # boxes drawn; 0 when the passage was not found on the page


def render_page(path: Path, page: int, passage: str = "") -> PageImage:
    """Page `page` (1-based) of the PDF at `path` as PNG, with `passage` highlighted."""
    import pypdfium2 as pdfium
    from PIL import Image, ImageDraw

    try:
        pdf = pdfium.PdfDocument(str(path))
    except Exception as exc:  # pdfium raises PdfiumError for anything it cannot open
        raise PageNotFound(f"{path.name} cannot be opened as a PDF: {exc}") from exc
    try:
        if not 1 <= page <= len(pdf):
            raise PageNotFound(f"{path.name} has no page {page} (it has {len(pdf)}).")
        pdf_page = pdf[page - 1]
        width, height = pdf_page.get_size()
        scale = min(SCALE, MAX_SIDE / max(width, height, 1.0))
        image = pdf_page.render(scale=scale).to_pil().convert("RGBA")
        boxes = _passage_boxes(pdf_page, passage) if passage else []
        if boxes:
            overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
            draw = ImageDraw.Draw(overlay)
            for left, bottom, right, top in boxes:  # PDF points, origin bottom left
                draw.rectangle([left * scale, (height - top) * scale,
                                right * scale, (height - bottom) * scale], fill=HIGHLIGHT)
            image = Image.alpha_composite(image, overlay)
        out = io.BytesIO()
        image.convert("RGB").save(out, format="PNG", optimize=True)
        return PageImage(out.getvalue(), len(boxes))
    finally:
        pdf.close()


def _passage_boxes(pdf_page, passage: str) -> list[tuple[float, float, float, float]]:
    textpage = pdf_page.get_textpage()
    try:
        text = textpage.get_text_range()
        kept = [i for i, ch in enumerate(text) if ch.isalnum()]
        letters = "".join(text[i] for i in kept).lower()
        wanted = "".join(ch for ch in passage if ch.isalnum()).lower()
        if not wanted or not letters:
            return []
        span = _find(letters, wanted)
        if span is None:
            return []
        start, end = kept[span[0]], kept[span[1] - 1] + 1
        return [textpage.get_rect(i) for i in range(textpage.count_rects(start, end - start))]
    finally:
        textpage.close()


def _find(letters: str, wanted: str) -> tuple[int, int] | None:
    """Where `wanted` is in `letters`; when it is not there whole (text the parser joined
    from two pages, OCR), from its first PROBE_CHARS to its last, if both are."""
    at = letters.find(wanted)
    if at >= 0:
        return at, at + len(wanted)
    head, tail = wanted[:PROBE_CHARS], wanted[-PROBE_CHARS:]
    start = letters.find(head)
    if start < 0:
        return None
    end = letters.find(tail, start)
    return (start, end + len(tail)) if end >= 0 else (start, start + len(head))
