"""OCR with Debian's tesseract: whole images through unstructured, single PDF pages by hand.

unstructured can OCR a whole PDF (`strategy="ocr_only"`), but a PDF with a text layer on most
pages and a few scanned ones should not be OCR'd in full; no library renders and OCRs chosen
pages, so `ocr_pdf_pages` does it with pypdfium2 and unstructured's pytesseract.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ingest.errors import LoadError

INSTALL_HINT = "install Debian's tesseract-ocr and tesseract-ocr-eng (`make system-deps`)"
_DPI = 300


def available() -> bool:
    return shutil.which("tesseract") is not None


def require(path: Path, what: str) -> None:
    if not available():
        raise LoadError(str(path), f"{what} needs OCR, which is not installed: {INSTALL_HINT}")


def ocr_pdf_pages(
    path: Path, pages: list[int], languages: list[str], password: str | None
) -> dict[int, str]:
    """Text of each 1-based page in `pages`, read from the rendered page image."""
    import pypdfium2
    import unstructured_pytesseract

    require(path, "a PDF page without a text layer")
    out: dict[int, str] = {}
    document = pypdfium2.PdfDocument(str(path), password=password)
    try:
        for number in pages:
            image = document[number - 1].render(scale=_DPI / 72).to_pil()
            try:
                out[number] = unstructured_pytesseract.image_to_string(
                    image, lang="+".join(languages)
                )
            except unstructured_pytesseract.TesseractError as exc:
                raise LoadError(str(path), f"OCR failed on page {number}; if the page is an "
                                           "image, check that it is not damaged",
                                f"TesseractError: {exc}") from exc
    finally:
        document.close()
    return out
