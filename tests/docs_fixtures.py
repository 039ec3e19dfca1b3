"""Fixture documents the tests write themselves (Markdown, HTML, DOCX, PDF), one fact each.

The suite must pass for someone who cloned the repository alone, so it does not depend on
../shared for its core checks.
"""

from __future__ import annotations

from pathlib import Path

from ui.demo import Block, write_docx

MARKDOWN = """# Zephyr pump handbook

## Warranty

The Zephyr pump warranty lasts seven years from the date of purchase. Keep the receipt.

## Cleaning

Rinse the intake filter with warm water every month and let it dry before refitting it.

## Price

The Zephyr pump costs 249 euros; a spare intake filter costs 12 euros.
"""

HTML = """<!doctype html><html><head><title>Orchid care</title></head><body>
<h1>Orchid care</h1>
<h2>Watering</h2>
<p>Water orchids once a week with rainwater, and never let the roots stand in water.</p>
<h2>Light</h2>
<p>Orchids like bright, indirect light; direct midday sun burns their leaves.</p>
</body></html>
"""

DOCX_BLOCKS = [
    Block("heading", "Quarterly budget report", level=1),
    Block("heading", "Marketing", level=2),
    Block("paragraph", "The marketing budget for the third quarter is 48,000 euros, "
                       "most of it for the autumn trade fair."),
    Block("heading", "Travel", level=2),
    Block("paragraph", "Travel spending fell by a fifth because meetings moved online."),
]

PDF_PAGES = [
    ("Kestrel router manual", "Connect the Kestrel router to the modem with the grey cable. "
     "The status light turns green when the router is online. The Kestrel router costs "
     "89 euros in shops."),
    ("Troubleshooting", "To reset the Kestrel router, hold the red button on the back for "
     "twelve seconds until the status light blinks blue."),
]

# question -> file name of the one fixture that answers it
QUESTIONS = {
    "How long does the Zephyr pump warranty last?": "guide.md",
    "How often should orchids be watered?": "orchids.html",
    "What is the marketing budget for the third quarter?": "budget.docx",
    "How do I reset the Kestrel router?": "router.pdf",
}


def write_pdf_pages(path: Path, pages: list[tuple[str, str]]) -> None:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    for title, text in pages:
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 16)
        pdf.multi_cell(pdf.epw, 10, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=11)
        pdf.multi_cell(pdf.epw, 6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))


def write_fixture_docs(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "guide.md": folder / "guide.md",
        "orchids.html": folder / "orchids.html",
        "budget.docx": folder / "budget.docx",
        "router.pdf": folder / "router.pdf",
    }
    paths["guide.md"].write_text(MARKDOWN, encoding="utf-8")
    paths["orchids.html"].write_text(HTML, encoding="utf-8")
    write_docx(DOCX_BLOCKS, paths["budget.docx"])
    write_pdf_pages(paths["router.pdf"], PDF_PAGES)
    return paths


def highlighted_rows(png: bytes) -> dict[int, int]:
    """For each image row that has any, how many pixels are docchat's highlight yellow
    (ui.page_view)."""
    import io
    from collections import Counter

    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    width = image.width
    return dict(Counter(i // width for i, (r, g, b) in enumerate(image.get_flattened_data())
                        if r > 230 and 190 < g < 240 and b < 160))


def highlighted_pixels(png: bytes) -> int:
    return sum(highlighted_rows(png).values())
