"""Office Open XML details the readers docchat uses (python-docx through unstructured) do not
handle: Strict documents (read through LibreOffice instead) and DOCX text boxes."""

from __future__ import annotations

import zipfile
from pathlib import Path

from ingest.types import TextElement

_STRICT_OFFICE_DOCUMENT = b"http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument"
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"


def docx_text_boxes(path: Path) -> list[tuple[str, list[str]]]:
    """Paragraphs inside a .docx's text boxes and shapes (w:txbxContent), which python-docx
    and so unstructured skip, grouped under the text of the body paragraph before them:
    [(anchor text, [box paragraph, ...]), ...] in document order. A shape stored twice (the
    modern drawing and its VML fallback) is read once."""
    from lxml import etree

    try:
        with zipfile.ZipFile(path) as archive:
            root = etree.fromstring(archive.read("word/document.xml"))
    except (zipfile.BadZipFile, KeyError, OSError, etree.XMLSyntaxError):
        return []
    groups: list[tuple[str, list[str]]] = []
    anchor = ""
    for paragraph in root.iter(f"{_W}p"):
        ancestors = {a.tag for a in paragraph.iterancestors()}
        if _FALLBACK in ancestors:
            continue
        if f"{_W}txbxContent" in ancestors:
            text = "".join(t.text or "" for t in paragraph.iter(f"{_W}t")).strip()
            if text:
                if not groups or groups[-1][0] != anchor:
                    groups.append((anchor, []))
                groups[-1][1].append(" ".join(text.split()))
            continue
        own = "".join(t.text or "" for t in paragraph.iter(f"{_W}t")
                      if f"{_W}txbxContent" not in {a.tag for a in t.iterancestors()})
        if own.strip():
            anchor = " ".join(own.split())
    return groups


def with_text_boxes(elements: list[TextElement],
                     groups: list[tuple[str, list[str]]]) -> list[TextElement]:
    """Text box paragraphs placed after the element holding their anchor paragraph (at the
    start when they come before any body text, at the end when the anchor is not found)."""
    out, at = list(elements), 0
    known = {e.text for e in elements}
    for anchor, texts in groups:
        texts = [t for t in texts if t not in known]
        if not texts:
            continue
        if anchor:
            found = next((i for i in range(at, len(out)) if anchor[:80] in out[i].text), None)
            at = len(out) if found is None else found + 1
        headings = out[at - 1].headings if at else ()
        boxes = [TextElement(t, "NarrativeText", headings=headings) for t in texts]
        out[at:at] = boxes
        at += len(boxes)
    return out


def is_strict_ooxml(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return _STRICT_OFFICE_DOCUMENT in archive.read("_rels/.rels")
    except (zipfile.BadZipFile, KeyError, OSError):
        return False
