"""Every file in ../shared/data/documents: text that resembles its reference, or a clear error.

Zero crashes, zero silent empties. Reference conversions (docling's expected Markdown) are a
machine reference, so the check is loose: most of their words must appear in our text.
"""

from __future__ import annotations

import csv
import re

import pytest

from ingest import ocr
from ingest.config import IngestConfig
from ingest.errors import LoadError
from ingest.loaders import FileLoader
from tests.conftest import SHARED_DOCS

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not SHARED_DOCS.is_dir(), reason="../shared/data/documents not present"),
]

# The files that cannot yield text, and the words their error must contain.
EXPECTED_ERRORS = {
    "unstructured/empty.txt": "empty",
    "unstructured/fake-text-all-whitespace.txt": "no text",
    "unstructured/eml/empty.eml": "no text",
    "unstructured/empty.xlsx": "no text",
    "unstructured/pdf/password.pdf": "encrypted",
}
# Share of the reference's words that must appear in the extracted text: in every file, and
# in the median file. The references also hold LaTeX for equations, link targets, cell comments
# and chart labels, which docchat does not index (measured: lowest 0.53, equations.docx).
MIN_WORD_RECALL = 0.5
MIN_MEDIAN_RECALL = 0.95
# A chart's data lives only in the chart object; unstructured reads slide text, not charts.
KNOWN_GAPS = {"docling/pptx/sources/pptx_chart.pptx"}
_WORD = re.compile(r"[^\W_]{3,}")


def _files() -> list[str]:
    if not SHARED_DOCS.is_dir():
        return []
    with open(SHARED_DOCS / "INDEX.tsv", encoding="utf-8") as fh:
        return [row["path"] for row in csv.DictReader(fh, delimiter="\t")
                if "/groundtruth/" not in row["path"]]


@pytest.fixture(scope="module")
def results() -> dict[str, object]:
    """Each file's LoadedFile or LoadError (anything else is a crash and fails here)."""
    loader = FileLoader()
    out: dict[str, object] = {}
    for rel in _files():
        try:
            out[rel] = loader(SHARED_DOCS / rel)
        except LoadError as exc:
            out[rel] = exc
    return out


def test_every_file_yields_text_or_a_reasoned_error(results):
    assert len(results) >= 120, "INDEX.tsv lists the whole folder"
    failures = {rel: r.reason for rel, r in results.items() if isinstance(r, LoadError)}
    assert set(failures) == set(EXPECTED_ERRORS), failures
    for rel, words in EXPECTED_ERRORS.items():
        assert words in failures[rel], (rel, failures[rel])
    for rel, loaded in results.items():
        if not isinstance(loaded, LoadError):
            assert sum(len(e.text.strip()) for e in loaded.elements) > 0, rel


def test_text_resembles_the_reference_conversions(results):
    recalls = []
    for rel, loaded in results.items():
        name = rel.rsplit("/", 1)[-1]
        reference = SHARED_DOCS / rel.rsplit("/sources/", 1)[0] / "groundtruth" / f"{name}.md"
        if isinstance(loaded, LoadError) or not reference.is_file():
            continue
        expected = set(_WORD.findall(reference.read_text("utf-8").lower()))
        if not expected or rel in KNOWN_GAPS:  # docling writes nothing for malformed CSVs
            continue
        # Headings count: they are part of what gets embedded (sheet names, for example).
        text = " ".join(" ".join(e.headings) + " " + e.text for e in loaded.elements)
        found = set(_WORD.findall(text.lower()))
        recall = len(expected & found) / max(1, len(expected))
        assert recall >= MIN_WORD_RECALL, (rel, round(recall, 3), sorted(expected - found)[:20])
        recalls.append(recall)
    assert len(recalls) >= 25
    assert sorted(recalls)[len(recalls) // 2] >= MIN_MEDIAN_RECALL


def test_content_type_wins_over_the_name(results, tmp_path):
    html = SHARED_DOCS / "docling/html/sources/example_03.html"
    disguised = tmp_path / "really-html.pdf"
    disguised.write_bytes(html.read_bytes())
    no_extension = tmp_path / "memo"
    no_extension.write_bytes((SHARED_DOCS / "unstructured/pdf/fake-memo.pdf").read_bytes())
    loader = FileLoader()
    assert loader(disguised).file_type == "html"
    memo = loader(no_extension)
    assert memo.file_type == "pdf" and "20,000 bottles" in " ".join(e.text for e in memo.elements)


def test_encodings_are_detected(results):
    french = results["charset-normalizer/sample-french-1.txt"]
    russian = results["charset-normalizer/sample-russian.txt"]
    assert "MOLIÈRE" in " ".join(e.text for e in french.elements)
    assert "гимназии" in " ".join(e.text for e in russian.elements)
    assert any("encoding" in note for note in french.notes)
    utf16 = results["unstructured/fake-text-utf-16.txt"]
    assert "test document" in " ".join(e.text for e in utf16.elements)


def test_subtitles_lose_their_timings(results):
    srt = results["charset-normalizer/sample-english.bom.txt"]
    text = " ".join(e.text for e in srt.elements)
    assert srt.file_type == "subtitles" and "About 2 months ago" in text and "-->" not in text


@pytest.mark.skipif(not ocr.available(), reason="tesseract is not installed")
def test_scanned_pdfs_are_read_by_ocr(results):
    for rel, words in [("unstructured/pdf/loremipsum-flat.pdf", "lorem ipsum"),
                       ("docling/ocr/sources/ocr_test.pdf", "docling bundles pdf")]:
        loaded = results[rel]
        text = " ".join(e.text for e in loaded.elements).lower()
        assert words in text and any("OCR" in n for n in loaded.notes), rel
        assert {e.page for e in loaded.elements} == {1}


def test_a_password_opens_an_encrypted_pdf():
    loader = FileLoader(IngestConfig(pdf_passwords=["wrong", "password"]))
    loaded = loader(SHARED_DOCS / "unstructured/pdf/password.pdf")
    assert "File with password" in " ".join(e.text for e in loaded.elements)
