"""Turn one file into text elements with `unstructured`, or fail with the reason.

The type is read from the content (ingest.formats). PDFs: the text layer with the "fast"
strategy, OCR for pages that have none, passwords for encrypted files. A file that yields no
text raises LoadError: unstructured returns zero elements for some files without complaint,
and that must never look like success. What the loader had to work around (OCR, a guessed
encoding, a malformed CSV read as text) is returned as notes for the report.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from ingest import mail, markup, ocr
from ingest.config import IngestConfig
from ingest.containers import (
    MAX_DEPTH,
    container_problem,
    extract,
    member_files,
    safe_name,
)
from ingest.errors import LoadError
from ingest.formats import (
    ARCHIVE,
    IWORK,
    ODP,
    ODS,
    SUBTITLES,
    TEXT_KINDS,
    Detected,
    detect,
    detect_encoding,
    wide_encoding,
)
from ingest.office import docx_text_boxes, is_strict_ooxml, with_text_boxes
from ingest.pdf_outline import pdf_outline, with_outline_headings
from ingest.types import TextElement

# Elements that carry layout, not content.
_SKIP_CATEGORIES = {"PageBreak"}
_NEEDS_SOFFICE = {"doc", "ppt", ODP, ODS}
_SOFFICE_TARGET = {ODP: "pptx", ODS: "xlsx"}
_SOFFICE_HINT = ("install LibreOffice (`make system-deps`, or apt-get install "
                 "libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui)")
_TIMING = re.compile(r"^\s*(\d+|WEBVTT.*|NOTE.*|[\d:.,]+\s*-->.*)\s*$")


@dataclass(frozen=True)
class LoadedFile:
    elements: list[TextElement]
    file_type: str  # what the content is ("html" for an HTML page named .pdf)
    notes: tuple[str, ...] = ()
    metadata: dict[str, str] = field(default_factory=dict)  # a page's title and tags


class FileLoader:
    """Callable: path -> LoadedFile. Configured once (OCR, languages, PDF passwords)."""

    def __init__(self, config: IngestConfig | None = None) -> None:
        config = config or IngestConfig()
        self.ocr = config.ocr
        self.languages = list(config.ocr_languages)
        self.passwords = [p.get_secret_value() for p in config.passwords]
        self._nesting = 0  # e-mails attached to e-mails being read

    def __call__(self, path: Path) -> LoadedFile:
        path = Path(path)
        if not path.is_file():
            raise LoadError(str(path), "not a readable file")
        if path.stat().st_size == 0:
            raise LoadError(str(path), "the file is empty (0 bytes)")
        notes: list[str] = []
        with warnings.catch_warnings(), tempfile.TemporaryDirectory(
                prefix="docchat-utf8-") as scratch:
            # unstructured warns that encoding detection is ambiguous; the notes say it once.
            warnings.simplefilter("ignore")
            readable = _as_utf8_if_wide(path, Path(scratch), notes)
            with _failures_named(path):
                kind = detect(readable)
                metadata: dict[str, str] = {}
                elements = self._read(readable, kind, notes, metadata)
        if not elements:
            raise LoadError(str(path), _empty_reason(kind.name))
        return LoadedFile(elements, kind.name, tuple(dict.fromkeys(notes)), metadata)

    def _read(self, path: Path, kind: Detected, notes: list[str],
              metadata: dict[str, str] | None = None) -> list[TextElement]:
        if kind.encrypted:
            return self._decrypted(path, notes)
        if kind.name == "pdf":
            return self._pdf(path, notes)
        if kind.name == SUBTITLES:
            return _subtitles(path)
        if kind.name == "image":
            self._require_ocr(path, "an image")
            return self._image(path, notes)
        if kind.name in _NEEDS_SOFFICE:
            return self._via_libreoffice(path, kind)
        if kind.name in IWORK:
            return self._iwork_preview(path, kind, notes)
        if kind.name == ARCHIVE:
            return self._archive(path, notes)
        if kind.name in ("docx", "xlsx", "pptx") and is_strict_ooxml(path):
            # python-docx/openpyxl/python-pptx know only Transitional Office Open XML
            notes.append("Strict Office Open XML: read through LibreOffice")
            return self._via_libreoffice(path, kind, target=kind.name)
        if kind.name in ("csv", "tsv"):
            return self._table_file(path, kind, notes)
        if kind.name == "email":
            return self._email(path, kind, notes)
        if kind.name == "xml":
            # The XML parser reads the encoding declaration itself (no declaration means UTF-8
            # or UTF-16 with a BOM, by the XML spec); passing a name made unstructured hand
            # lxml the repr of bytes ("b'utf_8'"), an unknown encoding.
            return _to_elements(_partition(path, kind.mime, encoding=None))
        if kind.name in markup.KINDS:
            try:
                page = markup.to_html(path, kind.name, _encoding(path, notes))
            except (OSError, ValueError, RuntimeError) as exc:  # pandoc, a decoder, YAML
                raise LoadError(str(path), describe(exc), detail(exc)) from exc
            notes += page.notes
            if metadata is not None:
                metadata.update(page.metadata)
            return _to_elements(_partition(path, kind.mime, html=page.html), root=page.root)
        if kind.name in TEXT_KINDS:
            return _to_elements(_partition(path, kind.mime, encoding=_encoding(path, notes)))
        elements = _to_elements(_partition(path, kind.mime, strategy="fast"))
        if kind.name == "docx":
            elements = with_text_boxes(elements, docx_text_boxes(path))
        return elements

    def _image(self, path: Path, notes: list[str]) -> list[TextElement]:
        """OCR of the image upright, in RGB, large enough (ocr.prepared_image)."""
        with tempfile.TemporaryDirectory(prefix="docchat-image-") as out:
            image = ocr.prepared_image(path, Path(out), notes)
            return _to_elements(_partition(image, "image/png", strategy="ocr_only",
                                           languages=self.languages))

    def _pdf(self, path: Path, notes: list[str]) -> list[TextElement]:
        password, pages = self._unlock(path)
        elements = _to_elements(_partition(path, "application/pdf", strategy="fast",
                                           password=password))
        outline = pdf_outline(path, password)
        if outline:
            elements = with_outline_headings(elements, outline)
        missing = sorted(set(range(1, pages + 1)) - {e.page for e in elements})
        if not missing or self.ocr == "off":
            return elements
        if not ocr.available():
            if elements:  # the text layer is usable; say what was not read
                notes.append(f"{len(missing)} page(s) without a text layer were not OCR'd: "
                             f"{ocr.INSTALL_HINT}")
                return elements
            ocr.require(path, "this scanned PDF (no text layer)")
        texts = ocr.ocr_pdf_pages(path, missing, self.languages, password)
        found = {page: text for page, text in texts.items() if text.strip()}
        if found:
            notes.append(f"OCR on {len(found)} page(s) without a text layer")
        for page, text in found.items():
            elements.extend(_text_elements(text, page))
        elements.sort(key=lambda e: e.page or 0)  # stable: keeps reading order within a page
        return elements

    def _unlock(self, path: Path) -> tuple[str | None, int]:
        """The password that opens the PDF (None if it is not encrypted) and its page count."""
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        try:
            reader = PdfReader(str(path))
            if not reader.is_encrypted:
                return None, len(reader.pages)
            for password in ["", *self.passwords]:
                if reader.decrypt(password):
                    return password, len(reader.pages)
        except (PdfReadError, ValueError, OSError) as exc:
            # A damaged structure: pdfminer is more forgiving, so let it try.
            return None, _count_pages_leniently(path, exc)
        raise LoadError(
            str(path),
            f"the PDF is encrypted and none of the given passwords opens it; {_GIVE_PASSWORD}",
        )

    def _email(self, path: Path, kind: Detected, notes: list[str]) -> list[TextElement]:
        """Headers and body by unstructured (a message without a body: its headers,
        ingest.mail); each attachment and each enclosed message (a digest's) read as a file
        of its own, so one that cannot be read (a song, a broken image) is noted and the
        rest stays."""
        elements = mail.body_elements(path, lambda: _to_elements(_partition(
            path, kind.mime, strategy="fast", process_attachments=False)), notes)
        if self._nesting >= MAX_DEPTH:
            notes.append("attachments of attached e-mails nested this deep were not read")
            return elements
        with tempfile.TemporaryDirectory(prefix="docchat-attachments-") as out:
            for number, (label, heading, name, payload) in enumerate(mail.parts(path), 1):
                if not payload:
                    notes.append(f"{label} was not read: it is empty")
                    continue
                target = Path(out, str(number), safe_name(name, f"attachment-{number}"))
                target.parent.mkdir()
                target.write_bytes(payload)
                elements += self._embedded(target, label, heading, notes)
        return elements

    def _archive(self, path: Path, notes: list[str]) -> list[TextElement]:
        """A .zip of documents: each file in it read as a file of its own, under a heading
        with its name in the archive; one that cannot be read is noted, the rest stays."""
        problem = container_problem(path)
        if problem:
            raise LoadError(str(path), problem)
        if self._nesting >= MAX_DEPTH:
            raise LoadError(str(path), f"archives nested more than {MAX_DEPTH} deep are not "
                                       "read; unpack the outer ones first")
        elements: list[TextElement] = []
        with zipfile.ZipFile(path) as archive, tempfile.TemporaryDirectory(
                prefix="docchat-archive-") as out:
            members = member_files(archive)
            if not members:
                raise LoadError(str(path), "the archive holds no files (only folders or hidden "
                                           "files)")
            for number, info in enumerate(members, start=1):
                target = Path(out, str(number), safe_name(info.filename, f"file-{number}"))
                target.parent.mkdir()
                try:
                    extract(archive, info, target)
                except (zipfile.BadZipFile, OSError, RuntimeError) as exc:  # RuntimeError:
                    # an encrypted member
                    notes.append(f"{info.filename} was not read: it could not be unpacked "
                                 f"({detail(exc)})")
                    continue
                elements += self._embedded(target, info.filename, f"{path.name} › "
                                           f"{info.filename}", notes)
        if not elements:
            raise LoadError(str(path), f"none of the {len(members)} files in the archive could "
                                       "be read" + (f": {notes[-1]}" if notes else ""))
        return elements

    def _embedded(self, target: Path, label: str, heading: str,
                  notes: list[str]) -> list[TextElement]:
        """A file found inside another (an attachment, an archive member), read as a file of
        its own; its elements go under `heading`. A failure becomes a note."""
        self._nesting += 1
        try:
            loaded = self(target)
        except LoadError as exc:
            notes.append(f"{label} was not read: {exc.reason}")
            return []
        finally:
            self._nesting -= 1
        notes += [f"{label}: {note}" for note in loaded.notes]
        return [replace(e, headings=(heading, *e.headings), page=None) for e in loaded.elements]

    def _decrypted(self, path: Path, notes: list[str]) -> list[TextElement]:
        """An encrypted Office file, opened with the first given password that fits, then
        read as the file it holds."""
        import msoffcrypto

        with tempfile.TemporaryDirectory(prefix="docchat-decrypted-") as out:
            plain = Path(out, path.name)
            for password in self.passwords:
                try:
                    with path.open("rb") as fh, plain.open("wb") as sink:
                        office = msoffcrypto.OfficeFile(fh)
                        office.load_key(password=password)
                        office.decrypt(sink)
                except Exception:  # a wrong password, or a scheme msoffcrypto cannot open
                    continue
                notes.append("decrypted with one of the given passwords")
                with _failures_named(path):
                    return self._read(plain, detect(plain), notes)
        tried = "none of the given passwords opens it" if self.passwords else "no password given"
        raise LoadError(str(path), f"the file is encrypted ({tried}); {_GIVE_PASSWORD}")

    def _iwork_preview(self, path: Path, kind: Detected, notes: list[str]) -> list[TextElement]:
        """Pages, Numbers and Keynote files keep their text in Apple's own format, which no
        library reads; most carry a preview (a PDF, or an image of the first page)."""
        app = {"pages": "Pages", "numbers": "Numbers", "key": "Keynote"}[kind.name]
        export = f"to read all of it, export it from {app} as PDF or an Office file"
        with zipfile.ZipFile(path) as archive:
            names = {n.lower(): n for n in archive.namelist()}
            pdf = next((names[n] for n in names if n.endswith("preview.pdf")), None)
            image = next((names[n] for n in names if n.rsplit("/", 1)[-1] in (
                "preview.jpg", "preview.png", "thumbnail.jpg")), None)
            if pdf is None and image is None:
                raise LoadError(str(path), f"this {app} file has no preview inside, and docchat "
                                           f"cannot read {app}'s own format: {export}")
            with tempfile.TemporaryDirectory(prefix="docchat-iwork-") as out:
                member = Path(out, Path(pdf or image).name)
                member.write_bytes(archive.read(pdf or image))
                with _failures_named(path):
                    if pdf:
                        elements = self._pdf(member, notes)
                    else:
                        self._require_ocr(member, "a preview image")
                        elements = _to_elements(_partition(member, None, strategy="ocr_only",
                                                           languages=self.languages))
        what = "the preview PDF" if pdf else "the preview image of the first page (by OCR)"
        notes.append(f"only {what} inside the {app} file was read; {export}")
        return elements

    def _table_file(self, path: Path, kind: Detected, notes: list[str]) -> list[TextElement]:
        encoding = _encoding(path, notes)
        try:
            return _to_elements(_partition(path, kind.mime, encoding=encoding))
        except LoadError as exc:
            # A malformed CSV is still text worth finding: read it as lines, and say so.
            notes.append(f"read as plain text, not as a table ({exc.reason})")
            return _to_elements(_partition(path, "text/plain", encoding=encoding))

    def _via_libreoffice(self, path: Path, kind: Detected,
                         target: str | None = None) -> list[TextElement]:
        if shutil.which("soffice") is None:
            what = "Strict Office Open XML" if target else f".{kind.name} files"
            raise LoadError(str(path), f"reading {what} needs LibreOffice: {_SOFFICE_HINT}")
        target = target or _SOFFICE_TARGET.get(kind.name)
        if target is None:  # .doc and .ppt: unstructured drives soffice itself
            return _to_elements(_partition(path, kind.mime))
        with tempfile.TemporaryDirectory(prefix="docchat-soffice-") as out:
            converted = _soffice_convert(path, target, Path(out))
            return _to_elements(_partition(converted, None))

    def _require_ocr(self, path: Path, what: str) -> None:
        if self.ocr == "off":
            raise LoadError(str(path), f"{what} can only be read with OCR, and ingest.ocr is off")
        ocr.require(path, what)


def load_file(path: Path) -> list[TextElement]:
    """The elements of one file with default settings (for scripts and tests)."""
    return FileLoader()(path).elements


def _partition(path: Path, content_type: str | None, html: str | None = None,
               **kwargs) -> list:
    """unstructured's elements of the file, or of `html` made from it (ingest.markup)."""
    from unstructured.partition.auto import partition  # heavy: ~2-6 s on first use
    from unstructured.partition.html import partition_html

    from ingest.offline import spacy_model_alias

    spacy_model_alias()
    try:
        kwargs.setdefault("languages", ["eng"])  # else unstructured guesses per file, noisily
        if html is not None:
            return partition_html(text=html, **kwargs)
        return partition(filename=str(path), content_type=content_type, **kwargs)
    except LoadError:
        raise
    except Exception as exc:  # unstructured raises many unrelated types for bad input
        raise LoadError(str(path), describe(exc), detail(exc)) from exc


def detail(exc: BaseException) -> str:
    """An exception in its own words, for the log and --json (never the reason people read)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# What the reading libraries' failures mean for the person holding the file.
_DAMAGED = ("the file is damaged, or is not really the format its name says; open it in the "
            "program that made it and save it again")
_READINGS = (
    (("FileType.UNK", "Invalid file"),
     "docchat does not recognise this file's format; save it as PDF, Word or plain text"),
    (("not a zip file", "Package not found", "BadZipFile", "no relationship of type"), _DAMAGED),
    (("cannot identify image", "UnidentifiedImageError", "broken data stream", "truncated",
      "image file"),
     "the image is damaged or in a format docchat cannot read; save it as PNG or JPEG"),
    (("UnicodeDecodeError", "LookupError", "codec", "encoding"),
     "the text is in an encoding docchat could not work out; save it as UTF-8 text"),
    (("MemoryError",), "the file is too large to read"),
)


def describe(exc: BaseException) -> str:
    """A reading library's failure as a sentence for people."""
    said = detail(exc)
    for clues, reason in _READINGS:
        if any(clue.lower() in said.lower() for clue in clues):
            return reason
    return ("the file could not be read: it may be damaged, or use a feature docchat's reader "
            "for this format does not support; save it again (as PDF, or in a current Office "
            "format) and retry")


def _empty_reason(kind: str) -> str:
    if kind in ("pdf", "image"):
        return "no text found, neither in a text layer nor by OCR"
    return "no text could be extracted: the file holds no text, only whitespace or markup"


@contextmanager
def _failures_named(path: Path) -> Iterator[None]:
    """A failure reading a stand-in for `path` (a UTF-8 copy, a decrypted copy, a preview
    taken out of it) is reported under `path`, the file the user has."""
    try:
        yield
    except LoadError as exc:
        if exc.path == str(path):
            raise
        raise LoadError(str(path), exc.reason, exc.detail) from exc


_GIVE_PASSWORD = ("give its password with `docchat ingest --password ...` or ingest.passwords "
                  "in docchat.toml")


def _as_utf8_if_wide(path: Path, scratch: Path, notes: list[str]) -> Path:
    """A UTF-16/32 file without a byte order mark, copied as UTF-8 under its own name (the
    type detectors and unstructured's parsers, e-mail's included, read only byte-wide text);
    any other file as it is."""
    with path.open("rb") as fh:
        codec = wide_encoding(fh.read(65536))
    if codec is None:
        return path
    try:
        text = path.read_bytes().decode(codec)
    except UnicodeDecodeError:
        return path  # not wide text after all: the detectors say what it is
    notes.append(f"text encoding detected as {codec}")
    copy = scratch / path.name
    copy.write_text(text, encoding="utf-8")
    return copy


def _encoding(path: Path, notes: list[str]) -> str | None:
    encoding = detect_encoding(path)
    if encoding and encoding not in ("utf_8", "ascii"):
        notes.append(f"text encoding detected as {encoding}")
    return encoding


def _count_pages_leniently(path: Path, exc: Exception) -> int:
    try:
        import pypdfium2

        document = pypdfium2.PdfDocument(str(path))
        try:
            return len(document)
        finally:
            document.close()
    except Exception:  # neither parser can count: OCR cannot help either
        return 0


def _soffice_convert(path: Path, target: str, out: Path) -> Path:
    # A private profile dir: a user's running LibreOffice would otherwise take the job.
    profile = (out / "profile").as_uri()
    command = ["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to",
               target, "--outdir", str(out), str(path)]
    try:
        subprocess.run(command, capture_output=True, timeout=180, check=True)
    except (subprocess.SubprocessError, OSError) as exc:
        raise LoadError(str(path), "LibreOffice could not convert it; open it in LibreOffice "
                                   "or the program that made it and save it as PDF or a "
                                   "current Office format", detail(exc)) from exc
    converted = out / f"{path.stem}.{target}"
    if not converted.is_file():
        raise LoadError(str(path), "LibreOffice could not convert it (no output)")
    return converted


def _subtitles(path: Path) -> list[TextElement]:
    """Cue text without numbers and timings, one element per cue (chunking packs them)."""
    from charset_normalizer import from_path

    best = from_path(str(path)).best()
    text = str(best) if best is not None else path.read_text("utf-8", errors="replace")
    cues, current = [], []
    for line in text.lstrip("\ufeff").splitlines():
        if not line.strip():
            if current:
                cues.append(" ".join(current))
                current = []
        elif not _TIMING.match(line):
            current.append(re.sub(r"<[^>]+>", "", line).strip())
    if current:
        cues.append(" ".join(current))
    return [TextElement(cue, "NarrativeText") for cue in cues if cue.strip()]


def _text_elements(text: str, page: int) -> list[TextElement]:
    """OCR'd text as paragraphs (blank-line separated), on its page."""
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    return [TextElement(p, "NarrativeText", page=page) for p in paragraphs if p]


def _to_elements(raw: list, root: str | None = None) -> list[TextElement]:
    """Elements with their heading paths. A heading's parent is the nearest heading before it
    of a higher level (a lower depth); `root` (a file's title or name) goes above them all."""
    out: list[TextElement] = []
    stack: list[tuple[int, str]] = [(-1, root)] if root else []  # (depth, heading)
    headings = [h for _, h in stack]
    for el in raw:
        category = getattr(el, "category", type(el).__name__)
        text = (getattr(el, "text", "") or "").strip()
        if category in _SKIP_CATEGORIES or not text:
            continue
        meta = el.metadata
        sheet = getattr(meta, "page_name", None)  # a spreadsheet's sheet: the top heading
        if sheet and (not headings or headings[0] != sheet):
            stack = [(-1, sheet)]
            headings = [sheet]
        if category == "Title" and text != sheet and _is_heading(text, meta.category_depth):
            depth = meta.category_depth or 0
            while stack and stack[-1][0] >= depth:
                stack.pop()
            stack.append((depth, _one_line(text)))
            headings = [h for _, h in stack]
        if category == "Table" and getattr(meta, "text_as_html", None):
            text = table_rows(meta.text_as_html) or text
        out.append(TextElement(text=text, category=category, page=meta.page_number,
                               headings=tuple(headings)))
    return out


def table_rows(html: str) -> str:
    """A table as one line per row, cells separated by " | ", so rows stay readable."""
    import lxml.html

    try:
        root = lxml.html.fromstring(html)
    except Exception:  # lxml raises ParserError/ValueError on odd fragments
        return ""
    rows = []
    for tr in root.iter("tr"):
        cells = [" ".join(cell.text_content().split()) for cell in tr if cell.tag in ("td", "th")]
        if any(cells):
            rows.append(" | ".join(cells))
    return "\n".join(rows)


def _is_heading(text: str, depth: int | None) -> bool:
    """Titles from markup (Markdown, HTML, DOCX) have a depth and are trusted. In PDFs the
    parser guesses titles from short lines, so a guess that reads like the tail of a sentence
    ("online.") or starts in lower case is not used as a heading."""
    if depth is not None:
        return True
    line = text.strip()
    return bool(line) and not line.endswith((".", ",", ";", ":")) and not line[0].islower()


def _one_line(text: str, limit: int = 120) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
