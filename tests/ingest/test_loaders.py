"""The loader on files the tests write themselves: odd encodings, disguised types, scans,
passwords, tables, subtitles and the formats that need LibreOffice."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ingest import ocr
from ingest.config import IngestConfig
from ingest.errors import LoadError
from ingest.loaders import FileLoader, table_rows
from tests.docs_fixtures import HTML, PDF_PAGES, write_pdf_pages

load = FileLoader()
needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None,
                                   reason="LibreOffice is not installed")
needs_ocr = pytest.mark.skipif(not ocr.available(), reason="tesseract is not installed")


def text_of(loaded) -> str:
    return " ".join(e.text for e in loaded.elements)


FRENCH = ("Le café coûte trois euros à Genève, et le thé est déjà réglé. Nous étions très "
          "heureux de voir l'été arriver; les élèves préféraient la fraîcheur du matin. Où est "
          "passée la clé du garçon? Il a reçu une lettre de sa sœur, qui habite près de la forêt.")


def test_text_in_a_legacy_encoding_is_decoded(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(FRENCH.encode("cp1252"))
    loaded = load(path)
    assert "Le café coûte trois euros à Genève" in text_of(loaded)
    assert loaded.notes == ("text encoding detected as cp1252",)


def test_utf16_with_bom(tmp_path):
    path = tmp_path / "wide.txt"
    path.write_bytes("Grüße aus Köln und Zürich.\n".encode("utf-16"))
    assert "Grüße aus Köln" in text_of(load(path))


WIDE = {"fr": FRENCH, "ru": "Насос Зефир работает семь лет без ремонта.",
        "zh": "泽菲尔水泵的保修期为七年。请保留收据。"}


@pytest.mark.parametrize("codec", ["utf_16_le", "utf_16_be", "utf_32_le", "utf_32_be"])
def test_utf16_and_utf32_without_a_bom(tmp_path, codec):
    """Refused before as "the name says text, but the content is not (data)"."""
    path = tmp_path / "wide.txt"
    path.write_bytes("\n\n".join(WIDE.values()).encode(codec))
    loaded = load(path)
    assert all(text in text_of(loaded) for text in WIDE.values())
    assert loaded.notes == (f"text encoding detected as {codec}",)


def test_an_email_in_utf16_without_a_bom(tmp_path):
    path = tmp_path / "order.eml"
    path.write_bytes(("From: ana@example.org\nTo: ben@example.org\nSubject: Zephyr pump\n"
                      "Date: Mon, 2 Mar 2026 10:00:00 +0000\nMIME-Version: 1.0\n"
                      "Content-Type: text/plain; charset=utf-8\n\n"
                      f"{WIDE['ru']}\nThe warranty lasts seven years.\n").encode("utf_16_be"))
    loaded = load(path)
    assert loaded.file_type == "email"
    assert WIDE["ru"] in text_of(loaded) and "seven years" in text_of(loaded)
    assert "text encoding detected as utf_16_be" in loaded.notes


def test_wide_encodings_are_not_guessed_for_other_bytes():
    from ingest.formats import wide_encoding

    assert wide_encoding(FRENCH.encode("utf-8")) is None
    assert wide_encoding(bytes(range(256)) * 8) is None
    assert wide_encoding(b"\x00" * 64) is None


@pytest.mark.parametrize("encoding", ["UTF-8", "ISO-8859-1", "windows-1252", "UTF-16"])
def test_xml_in_its_declared_encoding(tmp_path, encoding):
    """unstructured handed lxml "b'utf_8'" as an encoding name: every XML file with a
    declaration failed with LookupError."""
    path = tmp_path / "notes.xml"
    path.write_bytes(f'<?xml version="1.0" encoding="{encoding}"?>\n<notes><title>Genève'
                     f'</title><p>{FRENCH}</p></notes>\n'.encode(encoding, 'xmlcharrefreplace'))
    loaded = load(path)
    assert loaded.file_type == "xml"
    assert "Le café coûte trois euros à Genève" in text_of(loaded)


def test_xml_without_a_declaration_is_still_xml(tmp_path):
    path = tmp_path / "plain.xml"
    path.write_text("<notes><p>The Zephyr pump lasts seven years.</p></notes>\n")
    loaded = load(path)
    assert loaded.file_type == "xml" and "<p>" not in text_of(loaded)
    assert "The Zephyr pump lasts seven years." in text_of(loaded)


def test_type_comes_from_the_content(tmp_path):
    disguised = tmp_path / "page.pdf"
    disguised.write_text(HTML, encoding="utf-8")
    loaded = load(disguised)
    assert loaded.file_type == "html" and "rainwater" in text_of(loaded)
    pdf = tmp_path / "router"
    write_pdf_pages(pdf, PDF_PAGES)
    loaded = load(pdf)
    assert loaded.file_type == "pdf" and "red button" in text_of(loaded)


def test_unsupported_and_empty_files_say_why(tmp_path):
    binary = tmp_path / "blob.bin"
    binary.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(LoadError, match="unsupported file type"):
        load(binary)
    empty = tmp_path / "empty.md"
    empty.write_bytes(b"")
    with pytest.raises(LoadError, match="empty"):
        load(empty)
    blank = tmp_path / "blank.md"
    blank.write_text("   \n\n  \t\n")
    with pytest.raises(LoadError, match="no text"):
        load(blank)


def test_damaged_pdf_is_an_error_not_a_crash(tmp_path):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\ngarbage without end")
    with pytest.raises(LoadError):
        load(path)


def test_a_pdfs_bookmarks_give_its_sections_where_fonts_do_not(tmp_path):
    """Word processors write a bookmark per heading; the parser's guesses from font size miss
    a heading set in body type and take short lines ("chunk_tokens = 200") for headings."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for level, heading, body in [
            (0, "Pump manual", "This manual covers the Zephyr pump and its care in full."),
            (1, "Safety", "Unplug the pump before you open its case for any reason."),
            (1, "Settings", "flow_rate = 20\n\nmax_pressure = 3"),
            (1, "Cleaning", "Rinse the intake filter with warm water every month.")]:
        pdf.start_section(heading, level=level)
        pdf.multi_cell(pdf.epw, 6, heading, new_x="LMARGIN", new_y="NEXT")  # body type
        pdf.multi_cell(pdf.epw, 6, body, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
    path = tmp_path / "manual.pdf"
    pdf.output(str(path))

    sections = {e.text: e.headings for e in load(path).elements}
    assert sections["Unplug the pump before you open its case for any reason."] == (
        "Pump manual", "Safety")
    assert sections["max_pressure = 3"] == ("Pump manual", "Settings")
    assert sections["Rinse the intake filter with warm water every month."] == (
        "Pump manual", "Cleaning")


def test_bookmark_headings_match_in_order_and_only_their_own_text():
    from ingest.pdf_outline import with_outline_headings
    from ingest.types import TextElement

    outline = [(1, 0, "Configuration"), (1, 1, "An example file"), (1, 1, "Missing"),
               (1, 1, "Environment variables"), (2, 1, "Using another model")]
    texts = [(1, "Configuration docchat reads its settings from four places."),  # joined
             (1, "environment variables starting with DOCCHAT_,"),  # a list item, not the title
             (1, "An example file"), (1, "data_dir = 1"),
             (1, "Environment variables"), (1, "Every setting has one."),
             (2, "Using another model"), (3, "The last page.")]
    got = with_outline_headings([TextElement(t, "NarrativeText", page=p) for p, t in texts],
                                outline)
    assert [e.headings[-1] for e in got] == [
        "Configuration", "Configuration", "An example file", "An example file",
        "Environment variables", "Environment variables", "Using another model",
        "Using another model"]


def _encrypted_pdf(tmp_path: Path, password: str) -> Path:
    from pypdf import PdfReader, PdfWriter

    plain = tmp_path / "plain.pdf"
    write_pdf_pages(plain, PDF_PAGES)
    writer = PdfWriter()
    for page in PdfReader(plain).pages:
        writer.add_page(page)
    writer.encrypt(password, algorithm="AES-256")
    locked = tmp_path / "locked.pdf"
    with locked.open("wb") as fh:
        writer.write(fh)
    return locked


def test_encrypted_pdf_needs_its_password(tmp_path):
    locked = _encrypted_pdf(tmp_path, "s3cret")
    with pytest.raises(LoadError, match="encrypted.*--password"):
        load(locked)
    unlocked = FileLoader(IngestConfig(pdf_passwords=["nope", "s3cret"]))(locked)  # older name
    assert "red button" in text_of(unlocked)


def test_pdf_with_an_empty_user_password_opens_without_one(tmp_path):
    assert "red button" in text_of(load(_encrypted_pdf(tmp_path, "")))


def _scan(tmp_path: Path, lines: list[str], name: str) -> Path:
    """An image-only PDF page (no text layer), like a scanner makes."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (1700, 800), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=48)
    for i, line in enumerate(lines):
        draw.text((80, 80 + i * 90), line, fill="black", font=font)
    path = tmp_path / name
    image.save(path, "PDF", resolution=200.0)
    return path


@needs_ocr
def test_scanned_pdf_is_read_with_ocr(tmp_path):
    scan = _scan(tmp_path, ["The heron nests in tall reeds.", "It eats small fish."], "scan.pdf")
    loaded = load(scan)
    assert "heron nests in tall reeds" in text_of(loaded)
    assert any("OCR" in note for note in loaded.notes)
    assert {e.page for e in loaded.elements} == {1}
    with pytest.raises(LoadError, match="OCR"):
        FileLoader(IngestConfig(ocr="off"))(scan)


@needs_ocr
def test_only_pages_without_text_are_ocred(tmp_path):
    from pypdf import PdfReader, PdfWriter

    text_pdf = tmp_path / "text.pdf"
    write_pdf_pages(text_pdf, PDF_PAGES[:1])
    scan = _scan(tmp_path, ["Page two was scanned from paper."], "scan.pdf")
    writer = PdfWriter()
    for source in (text_pdf, scan):
        writer.add_page(PdfReader(source).pages[0])
    mixed = tmp_path / "mixed.pdf"
    with mixed.open("wb") as fh:
        writer.write(fh)
    loaded = load(mixed)
    pages = {e.page: e.text for e in loaded.elements}
    assert "grey cable" in text_of(loaded) and "scanned from paper" in pages[2]
    assert loaded.notes == ("OCR on 1 page(s) without a text layer",)


@needs_ocr
def test_image_is_read_with_ocr(tmp_path):
    from PIL import Image

    scan = _scan(tmp_path, ["Invoice number 4471 is due in March."], "scan.pdf")
    png = tmp_path / "photo.png"
    from pypdf import PdfReader  # noqa: F401  (the scan's image, saved as PNG)

    Image.open(_scan_image(scan)).save(png)
    loaded = load(png)
    assert loaded.file_type == "image" and "4471" in text_of(loaded)


def _scan_image(pdf: Path) -> Path:
    import pypdfium2

    document = pypdfium2.PdfDocument(str(pdf))
    out = pdf.with_suffix(".render.png")
    document[0].render(scale=2).to_pil().save(out)
    document.close()
    return out


def test_malformed_csv_is_read_as_text_and_says_so(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text("name,age\nAda,36\nGrace,85,admiral,navy\n")
    loaded = load(path)
    assert "admiral" in text_of(loaded) and "plain text" in loaded.notes[0]


def test_tables_keep_their_rows():
    html = "<table><tr><th>Team</th><th>Cups</th></tr><tr><td>Blues</td><td>1</td></tr></table>"
    assert table_rows(html) == "Team | Cups\nBlues | 1"


def test_spreadsheet_sheets_become_headings_and_tables_rows(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Harvest"
    for row in [("Crop", "Tonnes"), ("Barley", 41), ("Oats", 17)]:
        sheet.append(row)
    path = tmp_path / "farm.xlsx"
    book.save(path)
    table = [e for e in load(path).elements if e.category == "Table"][0]
    assert table.headings[0] == "Harvest" and "Barley | 41" in table.text


def test_subtitles_keep_the_words_only(tmp_path):
    path = tmp_path / "talk.srt"
    path.write_text("1\n00:00:01,000 --> 00:00:03,000\nWelcome to the <i>river</i> tour.\n\n"
                    "2\n00:00:03,500 --> 00:00:05,000\nThe boat leaves at noon.\n")
    loaded = load(path)
    assert loaded.file_type == "subtitles"
    assert text_of(loaded) == "Welcome to the river tour. The boat leaves at noon."


@needs_soffice
@pytest.mark.parametrize("target", ["doc", "odp", "ods"])
def test_formats_that_need_libreoffice(tmp_path, target):
    import subprocess

    source = tmp_path / "source"
    source.mkdir()
    if target == "doc":
        (source / "f.html").write_text(HTML)
        src, convert = source / "f.html", "doc:MS Word 97"
    elif target == "odp":
        from pptx import Presentation

        deck = Presentation()
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = "Orchid care"
        slide.placeholders[1].text = "Water orchids once a week with rainwater"
        src, convert = source / "f.pptx", "odp"
        deck.save(src)
    else:
        from openpyxl import Workbook

        book = Workbook()
        book.active.append(["Water orchids once a week with rainwater"])
        src, convert = source / "f.xlsx", "ods"
        book.save(src)
    subprocess.run(["soffice", f"-env:UserInstallation={(tmp_path / 'p').as_uri()}",
                    "--headless", "--convert-to", convert, "--outdir", str(tmp_path), str(src)],
                   check=True, capture_output=True, timeout=180)
    loaded = load(tmp_path / f"f.{target}")
    assert loaded.file_type == target and "rainwater" in text_of(loaded)


def _strict(transitional: Path, target: Path) -> Path:
    """The Strict form of a Transitional .docx: the ISO namespaces and relationship types
    Word writes when saving as "Strict Open XML Document"."""
    import zipfile

    swaps = [(b"http://schemas.openxmlformats.org/wordprocessingml/2006/main",
              b"http://purl.oclc.org/ooxml/wordprocessingml/main"),
             (b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
              b"http://purl.oclc.org/ooxml/officeDocument/relationships")]
    with zipfile.ZipFile(transitional) as src, zipfile.ZipFile(target, "w") as out:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.endswith((".xml", ".rels")):
                for old, new in swaps:
                    data = data.replace(old, new)
            out.writestr(item, data)
    return target


@pytest.mark.skipif(shutil.which("soffice") is None, reason="needs LibreOffice")
def test_strict_office_open_xml_is_read(tmp_path):
    """python-docx failed with KeyError: no relationship of type '…/officeDocument'."""
    import docx

    document = docx.Document()
    document.add_heading("Zephyr pump", level=1)
    document.add_paragraph("The Zephyr pump warranty lasts seven years.")
    document.save(tmp_path / "plain.docx")
    strict = _strict(tmp_path / "plain.docx", tmp_path / "strict.docx")
    loaded = load(strict)
    assert loaded.file_type == "docx"
    assert "The Zephyr pump warranty lasts seven years." in text_of(loaded)
    assert "Strict Office Open XML: read through LibreOffice" in loaded.notes


def test_iwork_files_are_read_from_their_preview(tmp_path):
    import zipfile

    write_pdf_pages(tmp_path / "preview.pdf", PDF_PAGES)
    pages = tmp_path / "report.pages"
    with zipfile.ZipFile(pages, "w") as archive:
        archive.writestr("Index/Document.iwa", b"\x00\x01snappy")
        archive.write(tmp_path / "preview.pdf", "QuickLook/Preview.pdf")
    loaded = load(pages)
    assert loaded.file_type == "pages" and "red button" in text_of(loaded)
    assert any("only the preview PDF inside the Pages file was read" in n
               for n in loaded.notes)
    keynote = tmp_path / "talk.key"
    with zipfile.ZipFile(keynote, "w") as archive:
        archive.writestr("Index/Document.iwa", b"\x00\x01snappy")
    with pytest.raises(LoadError, match="has no preview inside.*export it from Keynote") as err:
        load(keynote)
    assert err.value.path == str(keynote)


def test_one_bad_attachment_does_not_sink_an_email(tmp_path):
    """An MP3 attachment made unstructured fail the whole e-mail ("SpeechToText agent …"), as
    did a broken image ("OSError: broken data stream")."""
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["To"] = "ana@example.org", "ben@example.org"
    message["Subject"] = "Zephyr pump papers"
    message.set_content("The Zephyr pump warranty lasts seven years. Papers attached.")
    message.add_attachment("Hold the red button to reset the Kestrel router.",
                           filename="router-notes.txt")
    message.add_attachment(b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 400,
                           maintype="audio", subtype="mpeg", filename="voicemail.mp3")
    message.add_attachment(b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x13" * 40,
                           maintype="image", subtype="png", filename="../../scan.png")
    path = tmp_path / "papers.eml"
    path.write_bytes(bytes(message))
    loaded = FileLoader(IngestConfig(ocr="off"))(path)
    text = text_of(loaded)
    assert loaded.file_type == "email"
    assert "warranty lasts seven years" in text and "Kestrel router" in text
    router = next(e for e in loaded.elements if "Kestrel" in e.text)
    assert router.headings[0] == "Attachment: router-notes.txt"
    notes = " | ".join(loaded.notes)
    assert "attachment voicemail.mp3 was not read: unsupported file type" in notes
    assert "attachment ../../scan.png was not read" in notes
    assert not list(tmp_path.glob("scan.png")) and not (tmp_path.parent / "scan.png").exists()


def _refusals(folder: Path) -> list[Path]:
    """One file for each way a file is refused."""
    import zipfile

    folder.mkdir()
    files = {
        "blob.bin": bytes(range(256)) * 64,  # unknown binary
        "empty.md": b"",
        "blank.md": b"   \n\n  \t\n",
        "broken.pdf": b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\ngarbage without end",
        "program.pdf": b"\x7fELF\x02\x01\x01" + bytes(200),  # content disagrees with the name
        "report.docx": b"PK\x03\x04 not really a zip",
        "photo.png": b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x13" * 40,
        "song.mp3": b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 400,
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    with zipfile.ZipFile(folder / "slides.pptx", "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("ppt/presentation.xml", "<broken")
    with zipfile.ZipFile(folder / "talk.key", "w") as archive:
        archive.writestr("Index/Document.iwa", b"\x00")
    _encrypted_pdf(folder, "s3cret").rename(folder / "locked.pdf")
    (folder / "plain.pdf").unlink()
    return sorted(folder.iterdir())


def test_every_refusal_is_a_sentence_for_people_with_the_library_words_apart(tmp_path):
    import re

    python_words = re.compile(r"\b\w*(Error|Exception|Warning)\b|Traceback|FileType\.|"
                              r"docchat-[a-z0-9]+-|/tmp/")
    reasons = {}
    for path in _refusals(tmp_path / "refused"):
        for loader in (load, FileLoader(IngestConfig(ocr="off"))):
            with pytest.raises(LoadError) as err:
                loader(path)
            assert err.value.path == str(path)
            reason = err.value.reason
            assert not python_words.search(reason), (path.name, reason)
            assert len(reason.split()) >= 4 and reason[0].islower(), (path.name, reason)
            reasons[path.name] = reason
    assert len(reasons) == 11
    assert "damaged" in reasons["report.docx"] and "encrypted" in reasons["locked.pdf"]
    assert "image" in reasons["photo.png"] and "unsupported file type" in reasons["song.mp3"]


def test_a_readers_own_bug_fails_that_file_only_and_keeps_the_detail(tmp_path):
    from ingest.parsing import ChunkSettings, ParseJob, parse_file

    def buggy(path):
        raise KeyError("word/document.xml")

    parsed = parse_file(ParseJob(tmp_path / "a.docx", "a.docx", "h"), buggy,
                        ChunkSettings(count_tokens=len, chunk_tokens=50, chunk_overlap=0,
                                      max_tokens=60))
    assert parsed.error.startswith("the file could not be read")
    assert parsed.detail == "KeyError: 'word/document.xml'"


def test_encrypted_office_files_open_with_the_given_passwords(tmp_path):
    """An encrypted .xlsx was refused as "unsupported file type … (CDFV2 Encrypted)"."""
    import docx
    import openpyxl
    from msoffcrypto.format.ooxml import OOXMLFile

    book = openpyxl.Workbook()
    book.active.append(["pump", "warranty"])
    book.active.append(["Zephyr", "seven years"])
    book.save(tmp_path / "plain.xlsx")
    document = docx.Document()
    document.add_paragraph("The Kestrel router resets with the red button.")
    document.save(tmp_path / "plain.docx")
    locked = {}
    for kind in ("xlsx", "docx"):
        locked[kind] = tmp_path / f"locked.{kind}"
        with (tmp_path / f"plain.{kind}").open("rb") as fh, locked[kind].open("wb") as out:
            OOXMLFile(fh).encrypt("s3cret", out)
    for kind, path in locked.items():
        with pytest.raises(LoadError, match=r"encrypted \(no password given\).*--password"):
            load(path)
        with pytest.raises(LoadError, match="none of the given passwords opens it"):
            FileLoader(IngestConfig(passwords=["nope"]))(path)
    opened = FileLoader(IngestConfig(passwords=["nope", "s3cret"]))
    sheet = opened(locked["xlsx"])
    assert sheet.file_type == "xlsx" and "seven years" in text_of(sheet)
    assert "decrypted with one of the given passwords" in sheet.notes
    assert "red button" in text_of(opened(locked["docx"]))


def _docx_with_text_boxes(path: Path) -> Path:
    """A .docx whose key sentences sit in text boxes: one as a modern drawing with its VML
    fallback (Word writes both), one VML only."""
    import zipfile

    import docx

    document = docx.Document()
    document.add_heading("Zephyr pump", level=1)
    document.add_paragraph("Read this sheet before installing.")
    document.add_paragraph("BOX_ONE")
    document.add_paragraph("Keep the receipt.")
    document.add_paragraph("BOX_TWO")
    document.save(path)
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

    def box(*texts):
        return "<w:txbxContent>" + "".join(
            f"<w:p><w:r><w:t>{t}</w:t></w:r></w:p>" for t in texts) + "</w:txbxContent>"

    modern = (
        '<w:r><mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-'
        'compatibility/2006"><mc:Choice Requires="wps"><w:drawing><wps:wsp xmlns:wps="http://'
        'schemas.microsoft.com/office/word/2010/wordprocessingShape"><wps:txbx>'
        + box("The warranty lasts seven years.", "It covers the motor.")
        + '</wps:txbx></wps:wsp></w:drawing></mc:Choice><mc:Fallback><w:pict><v:shape '
        'xmlns:v="urn:schemas-microsoft-com:vml"><v:textbox>'
        + box("The warranty lasts seven years.", "It covers the motor.")
        + "</v:textbox></v:shape></w:pict></mc:Fallback></mc:AlternateContent></w:r>")
    vml = ('<w:r><w:pict><v:shape xmlns:v="urn:schemas-microsoft-com:vml"><v:textbox>'
           + box("Service hotline: 0800 123 456.") + "</v:textbox></v:shape></w:pict></w:r>")
    with zipfile.ZipFile(path) as src:
        parts = {i.filename: src.read(i) for i in src.infolist()}
    xml = parts["word/document.xml"].decode()
    for marker, shape in (("BOX_ONE", modern), ("BOX_TWO", vml)):
        xml = xml.replace(f"<w:r><w:t>{marker}</w:t></w:r>", shape)
    assert "BOX_" not in xml and f'xmlns:w="{w}"' in xml
    parts["word/document.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w") as out:
        for name, data in parts.items():
            out.writestr(name, data)
    return path


def test_text_in_docx_text_boxes_is_read_in_document_order(tmp_path):
    """Text boxes were lost: python-docx (and so unstructured) reads body runs only."""
    loaded = load(_docx_with_text_boxes(tmp_path / "boxes.docx"))
    texts = [e.text for e in loaded.elements]
    assert texts == ["Zephyr pump", "Read this sheet before installing.",
                     "The warranty lasts seven years.", "It covers the motor.",
                     "Keep the receipt.", "Service hotline: 0800 123 456."], texts
    box = next(e for e in loaded.elements if e.text == "It covers the motor.")
    assert box.headings == ("Zephyr pump",)


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_a_zip_archive_is_read_member_by_member(tmp_path):
    """A .zip was refused as an unsupported type."""
    write_pdf_pages(tmp_path / "router.pdf", PDF_PAGES)
    inner = _zip(tmp_path / "inner.zip", {"notes/orchids.txt": b"Orchids like bright shade."})
    archive = _zip(tmp_path / "docs.zip", {
        "guide/pump.md": b"# Zephyr pump\n\nThe warranty lasts seven years.\n",
        "router.pdf": (tmp_path / "router.pdf").read_bytes(),
        "old/inner.zip": inner.read_bytes(),
        "broken.docx": b"PK\x03\x04 not a zip",
        ".hidden.txt": b"secret", "__MACOSX/._pump.md": b"\x00\x05",
    })
    loaded = load(archive)
    assert loaded.file_type == "zip"
    by_heading = {e.headings[0]: e for e in loaded.elements}
    assert "seven years" in by_heading["docs.zip › guide/pump.md"].text
    assert "red button" in " ".join(e.text for e in loaded.elements
                                    if e.headings[0] == "docs.zip › router.pdf")
    orchids = next(e for e in loaded.elements if "Orchids" in e.text)
    assert orchids.headings[:2] == ("docs.zip › old/inner.zip", "inner.zip › notes/orchids.txt")
    assert any(n.startswith("broken.docx was not read: the name says .docx") for n in
               loaded.notes), loaded.notes
    assert "secret" not in text_of(loaded)


def test_archives_keep_the_bomb_limits_and_say_when_nothing_is_readable(tmp_path):
    bomb = _zip(tmp_path / "bomb.zip", {"zeros.txt": b"0" * 5_000_000})
    with pytest.raises(LoadError, match="zip bomb"):
        load(bomb)
    outside = _zip(tmp_path / "outside.zip", {"../../evil.txt": b"The pump is blue."})
    with pytest.raises(LoadError, match="outside the archive"):
        load(outside)
    songs = _zip(tmp_path / "songs.zip", {
        "a.mp3": b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 400})
    with pytest.raises(LoadError, match="none of the 1 files in the archive could be read"):
        load(songs)
    nested = b"The pump is blue."
    for level in range(5):
        nested = _zip(tmp_path / f"n{level}.zip", {f"level{level}.zip" if level else "a.txt":
                                                   nested}).read_bytes()
    deep = tmp_path / "deep.zip"
    deep.write_bytes(nested)
    with pytest.raises(LoadError, match="none of the 1 files.*nested more than 3 deep"):
        load(deep)


def test_text_in_pptx_group_shapes_is_read(tmp_path):
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    slide.shapes.title.text = "Zephyr pump"
    group = slide.shapes.add_group_shape()
    inner = group.shapes.add_group_shape()  # a group inside a group
    for shapes, text, top in ((group.shapes, "The warranty lasts seven years.", 2),
                              (inner.shapes, "Keep the receipt.", 4)):
        box = shapes.add_textbox(Inches(1), Inches(top), Inches(6), Inches(1))
        box.text_frame.text = text
    deck.save(tmp_path / "grouped.pptx")
    text = text_of(load(tmp_path / "grouped.pptx"))
    assert "The warranty lasts seven years." in text and "Keep the receipt." in text


def test_without_the_spacy_alias_unstructured_loads_the_model_it_ships_not_the_network(
        monkeypatch):
    """`pip install .` lacks shims/en_core_web_sm: unstructured would download the model."""
    import importlib.util

    from unstructured.nlp import tokenize

    from ingest import offline

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None
                        if name == "en_core_web_sm" else real_find_spec(name, *a))
    monkeypatch.setattr(tokenize, "_load_spacy_model", tokenize._load_spacy_model)  # restored

    def no_alias(name, *args, **kwargs):
        raise OSError(f"[E050] Can't find model '{name}'")

    monkeypatch.setattr(tokenize.spacy, "load", no_alias)
    monkeypatch.setattr(tokenize, "_install_spacy_model",
                        lambda: pytest.fail("tried to download the spaCy model"))
    offline.spacy_model_alias.cache_clear()
    try:
        offline.spacy_model_alias()
        nlp = tokenize._load_spacy_model()
    finally:
        offline.spacy_model_alias.cache_clear()
    assert "parser" in nlp.pipe_names and "ner" not in nlp.pipe_names
    assert [s.text for s in nlp("One sentence. Another one.").sents] == [
        "One sentence.", "Another one."]


def _photo_of_a_page(path: Path, *, turn: int = 0, exif_orientation: int | None = None,
                     mode: str = "RGB") -> Path:
    from PIL import Image, ImageDraw, ImageFont

    page = Image.new("RGB", (1700, 1100), "white")
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=44)
    for i, line in enumerate(["Boiler service record", "The burner was cleaned on 12 May.",
                              "Next inspection is due in October 2027."]):
        draw.text((120, 150 + i * 110), line, fill="black", font=font)
    photo = page.rotate(turn, expand=True) if turn else page
    exif = Image.Exif()
    if exif_orientation:
        exif[0x0112] = exif_orientation
    photo.convert(mode).save(path, quality=85, exif=exif.tobytes())
    return path


@needs_ocr
@pytest.mark.parametrize("photo, note", [
    ({"turn": 90, "exif_orientation": 6}, "EXIF orientation"),  # a phone's sideways photo
    ({"mode": "CMYK"}, "CMYK"),
    ({"turn": 90}, "turned by 90°"),  # sideways, and no tag says so: read as garbage
    ({"turn": 180}, "turned by 180°"),  # upside down
])
def test_a_jpeg_photo_of_a_page_is_read_upright_in_rgb(tmp_path, photo, note):
    """OCR returned nothing for these JPEGs: tesseract got the pixels as stored."""
    loaded = load(_photo_of_a_page(tmp_path / "page.jpg", **photo))
    assert "October 2027" in text_of(loaded)
    assert any(note in n for n in loaded.notes), loaded.notes


def test_valid_utf8_is_read_as_utf8_even_when_its_text_holds_mojibake(tmp_path):
    # A real page double-encoded its pound signs ("Â£"); charset-normalizer called the file
    # cp1251 and every "£" became "Г‚ВЈ" in the answers.
    path = tmp_path / "club.txt"
    path.write_text("Walker paid Â£850,000 to Wolves in July 1997 for the striker, the "
                    "club\u0092s record fee \u0093at the time\u0094 \u0086 a bargain. " * 3,
                    encoding="utf-8")
    loaded = load(path)
    assert "paid Â£850,000 to Wolves" in text_of(loaded)
    assert loaded.notes == ()
