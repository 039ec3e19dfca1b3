"""Documentation markup (Markdown, reStructuredText, Org, HTML) as HTML that unstructured's
HTML partitioner reads with the structure people wrote: headings under their real parents,
site markup rendered as text or left out.

Markdown is converted with Python-Markdown, reStructuredText and Org with pandoc (as
unstructured does itself), then the HTML is tidied here. The tidying is hand-written because
no library turns a docs site's conventions into plain, labelled text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

KINDS = {"md"}
MARKDOWN_EXTENSIONS = ["tables", "fenced_code"]


@dataclass(frozen=True)
class Markup:
    html: str
    root: str | None  # the file's title or name, above its headings when it has no top one


def to_html(path: Path, kind: str, encoding: str | None) -> Markup:
    import markdown

    text = path.read_text(encoding=encoding or "utf-8", errors="replace").lstrip("\ufeff")
    html = markdown.markdown(text, extensions=MARKDOWN_EXTENSIONS)
    return Markup(html, _root(html, path.stem))


def _root(html: str, name: str) -> str | None:
    """`name` when the page has headings but no top-level one (a file that starts at `##`);
    its headings then hang under it, siblings side by side."""
    import lxml.html

    if not html.strip():
        return None
    tree = lxml.html.fromstring(html)
    levels = {h.tag for h in tree.iter("h1", "h2", "h3", "h4", "h5", "h6")}
    return name if levels and "h1" not in levels else None
