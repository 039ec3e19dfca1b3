"""OCR with Debian's tesseract: whole images through unstructured, single PDF pages by hand.

unstructured can OCR a whole PDF (`strategy="ocr_only"`), but a PDF with a text layer on most
pages and a few scanned ones should not be OCR'd in full; no library renders and OCRs chosen
pages, so `ocr_pdf_pages` does it with pypdfium2 and unstructured's pytesseract.
"""

from __future__ import annotations

import re
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


_MIN_SIDE = 1000  # pixels on the long side below which a photo is enlarged for tesseract
_ROTATE = re.compile(r"Rotate:\s*(\d+)")


def prepared_image(path: Path, out: Path, notes: list[str]) -> Path:
    """The image as tesseract reads it: turned as its EXIF orientation says (phones store
    photos sideways and set the tag), in RGB (tesseract reads nothing from a CMYK JPEG),
    enlarged if small, turned upright as tesseract's orientation detection says (a page
    photographed sideways or upside down reads as garbage otherwise), saved as PNG at
    300 DPI. Written by hand: unstructured passes the image to tesseract as it is stored."""
    from PIL import Image, ImageOps

    try:
        original = Image.open(path)
        original.load()
    except Exception as exc:  # PIL: damaged or unknown image data, decoder errors
        raise LoadError(str(path), "the image is damaged or in a format docchat cannot read; "
                                   "save it as PNG or JPEG",
                        f"{type(exc).__name__}: {exc}") from exc
    with original:
        image = ImageOps.exif_transpose(original)
        if original.getexif().get(0x0112, 1) != 1:
            notes.append("the image was turned upright as its EXIF orientation says")
        if image.mode not in ("RGB", "L"):
            if image.mode == "CMYK":
                notes.append("the CMYK image was converted to RGB for OCR")
            image = image.convert("RGB")
        long_side = max(image.size)
        if long_side < _MIN_SIDE:
            scale = _MIN_SIDE / long_side
            image = image.resize((round(image.width * scale), round(image.height * scale)),
                                 Image.LANCZOS)
        turn = _detected_turn(image)
        if turn:
            image = image.rotate(-turn, expand=True)  # PIL turns anticlockwise
            notes.append(f"the image was turned by {turn}° to read it upright")
        upright = out / "upright.png"
        image.save(upright, dpi=(_DPI, _DPI))
    return upright


def _detected_turn(image) -> int:
    """Degrees clockwise that make the page upright, by tesseract's orientation detection
    (`--psm 0`); 0 when it cannot tell (too little text, no osd data installed)."""
    import unstructured_pytesseract

    try:
        found = _ROTATE.search(unstructured_pytesseract.image_to_osd(image))
    except Exception:  # TesseractError: too few characters, or osd.traineddata missing
        return 0
    return int(found.group(1)) % 360 if found else 0
