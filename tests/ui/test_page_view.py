"""The cited PDF page as an image, the passage highlighted (ui.page_view)."""

import io

import pytest
from PIL import Image

from tests.docs_fixtures import PDF_PAGES, highlighted_rows, write_pdf_pages
from ui.page_view import PageNotFound, render_page


def yellow_rows(png: bytes) -> list[int]:
    return sorted(highlighted_rows(png))


@pytest.fixture(scope="module")
def router(tmp_path_factory):
    path = tmp_path_factory.mktemp("pdf") / "router.pdf"
    write_pdf_pages(path, PDF_PAGES)
    return path


def test_the_passage_is_highlighted_on_its_page_across_line_breaks(router):
    text = PDF_PAGES[1][1]  # two lines on the page; the passage is one string
    shown = render_page(router, 2, text)
    assert shown.highlighted >= 2, "one box per line at least"
    rows = yellow_rows(shown.png)
    assert rows and rows[-1] - rows[0] > 20, "both lines are marked"


def test_a_passage_from_another_page_shows_the_page_unmarked(router):
    shown = render_page(router, 1, PDF_PAGES[1][1])
    assert shown.highlighted == 0 and yellow_rows(shown.png) == []
    assert shown.png.startswith(b"\x89PNG")


def test_a_passage_whose_middle_differs_is_marked_from_its_start_to_its_end(router):
    title, text = PDF_PAGES[0]
    changed = text[:95] + " (text the parser joined differently) " + text[-95:]
    assert render_page(router, 1, changed).highlighted >= 1


def test_a_page_that_does_not_exist_or_a_file_that_is_not_a_pdf_is_an_error(router, tmp_path):
    with pytest.raises(PageNotFound, match="no page 3"):
        render_page(router, 3)
    fake = tmp_path / "fake.pdf"
    fake.write_text("not a pdf")
    with pytest.raises(PageNotFound, match="cannot be opened"):
        render_page(fake, 1)


def test_the_context_view_marks_the_passage_between_its_neighbours_all_escaped():
    from ingest.types import neighbour_ids
    from ui.page_view import context_html

    assert neighbour_ids("3f2a-00000") == ("", "3f2a-00001")
    assert neighbour_ids("3f2a-00041") == ("3f2a-00040", "3f2a-00042")
    page = context_html("notes.md — Setup", "Before it.", "<script>x()</script> Plug in.",
                        "After it.")
    assert page.index("Before it.") < page.index("<mark>") < page.index("After it.")
    assert "<script>" not in page and "&lt;script&gt;x()&lt;/script&gt; Plug in.</mark>" in page


def test_a_page_with_a_huge_media_box_is_drawn_small(tmp_path):
    """An attacker's PDF with a 5 m square page must not make the server draw 1.8 GB."""
    from fpdf import FPDF

    from ui.page_view import MAX_SIDE

    pdf = FPDF(format=(5000, 5000))  # millimetres
    pdf.add_page()
    pdf.set_font("Helvetica", size=400)
    pdf.cell(text="Giant page")
    path = tmp_path / "giant.pdf"
    pdf.output(str(path))
    shown = render_page(path, 1, "Giant page")
    image = Image.open(io.BytesIO(shown.png))
    assert max(image.size) <= MAX_SIDE and shown.highlighted >= 1
