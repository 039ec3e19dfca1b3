"""What a file is, judged by its content first and its name second.

unstructured's `detect_filetype` reads the bytes (libmagic) and falls back to the extension;
this adds the cases it gets wrong or does not know: HTML reported as XML, OpenDocument slides
and sheets (a zip with a `mimetype` member), and subtitles (plain text with cue timings).
"""

from __future__ import annotations

import codecs
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import LoadError

# Formats read without unstructured's own partitioner for them.
SUBTITLES = "subtitles"
ODP, ODS = "odp", "ods"
_OPENDOCUMENT = {
    "application/vnd.oasis.opendocument.presentation": ODP,
    "application/vnd.oasis.opendocument.spreadsheet": ODS,
}
_SUBTITLE_EXTENSIONS = {".srt", ".vtt"}
_CUE = re.compile(r"^\s*(WEBVTT|\d+\s*\r?\n\s*\d{1,2}:\d{2}:\d{2}[,.]\d{3}\s*-->)", re.M)
_HTML_START = re.compile(rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(!doctype\s+html|html)\b",
                         re.I | re.S)


@dataclass(frozen=True)
class Detected:
    name: str  # stored as the chunk's file_type: "pdf", "docx", "html", "image", ...
    mime: str | None = None  # passed to unstructured so it does not guess again


def detect(path: Path) -> Detected:
    """Raise LoadError for a type docchat cannot read, naming what the content looks like."""
    from unstructured.file_utils.filetype import detect_filetype
    from unstructured.file_utils.model import FileType

    try:
        file_type = detect_filetype(file_path=str(path))
    except Exception as exc:  # libmagic and zip inspection raise assorted errors
        raise LoadError(str(path), f"could not tell the file's type: {exc}") from exc
    if path.suffix.lower() in _SUBTITLE_EXTENSIONS:
        return Detected(SUBTITLES)
    if file_type in (FileType.ZIP, FileType.UNK):
        office = _opendocument(path)
        if office:
            return Detected(office)
    if file_type == FileType.UNK and _is_text(path):
        file_type = FileType.TXT  # .ini, .tex, .log-like names libmagic maps to nothing known
    if file_type == FileType.XML and _looks_like_html(path):
        file_type = FileType.HTML
    if file_type == FileType.TXT and _looks_like_subtitles(path):
        return Detected(SUBTITLES)
    if file_type == FileType.EMPTY:
        raise LoadError(str(path), "the file is empty (0 bytes)")
    if not file_type.is_partitionable or file_type.partitioner_shortname == "audio":
        raise LoadError(
            str(path),
            f"unsupported file type ({file_type.mime_type}); docchat reads documents, web "
            "pages, e-mails, spreadsheets, slides, text and images",
        )
    name = file_type.partitioner_shortname
    if name == "xlsx" and file_type == FileType.XLS:
        name = "xls"
    _check_content(path, name)
    return Detected(name, file_type.mime_type)


_ZIP_KINDS = {"docx", "pptx", "xlsx", "odt", "epub"}
_OLE_KINDS = {"doc", "ppt", "xls", "msg"}
_OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")


def _check_content(path: Path, name: str) -> None:
    """unstructured falls back to the extension when libmagic names something it does not
    map (an executable named .pdf becomes a PDF); the bytes must agree with the name."""
    with path.open("rb") as fh:
        head = fh.read(2048)
    if name == "pdf":
        ok = b"%PDF-" in head[:1024]
    elif name in _ZIP_KINDS:
        ok = zipfile.is_zipfile(path)
    elif name in _OLE_KINDS:
        ok = head.startswith(_OLE_MAGIC)
    elif name in ("image", "audio"):
        ok = True  # libmagic recognised the image itself
    else:  # every other kind is text of some sort
        ok = _is_text(path)
    if not ok:
        raise LoadError(str(path), f"unsupported file type: the name says {name}, but the "
                                   f"content is not ({_describe_bytes(path)})")


def _describe_bytes(path: Path) -> str:
    try:
        import magic

        return magic.from_file(str(path))
    except Exception:  # libmagic missing or unreadable: say less
        return "unrecognised content"


def _opendocument(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            mime = archive.read("mimetype").decode("ascii", "replace").strip()
    except (zipfile.BadZipFile, KeyError, OSError):
        return None
    return _OPENDOCUMENT.get(mime)


# Among equally plausible single-byte code pages, the one most legacy files were written in.
_PREFERRED_ENCODINGS = ("utf_8", "ascii", "cp1252")
TEXT_KINDS = {"text", "md", "csv", "tsv", "org", "rst", "html", "xml"}


def detect_encoding(path: Path) -> str | None:
    """The text encoding of `path` (None if it is not text). charset-normalizer scores many
    code pages the same on short Western text (cp1250 vs cp1252); ties go to cp1252."""
    from charset_normalizer import from_path

    matches = list(from_path(str(path)))
    if not matches:
        return None
    best = matches[0]
    for preferred in _PREFERRED_ENCODINGS:
        for match in matches:
            if (match.chaos, match.coherence) == (best.chaos, best.coherence) and (
                preferred in match.could_be_from_charset
            ):
                return preferred
    return best.encoding


def _is_text(path: Path) -> bool:
    from charset_normalizer import from_bytes

    with path.open("rb") as fh:
        head = fh.read(65536)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE,
                        codecs.BOM_UTF32_BE)):
        return from_bytes(head).best() is not None
    return b"\x00" not in head and from_bytes(head).best() is not None


def _looks_like_html(path: Path) -> bool:
    with path.open("rb") as fh:
        return bool(_HTML_START.match(fh.read(4096)))


def _looks_like_subtitles(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(2048)
    return bool(_CUE.match(head.decode("utf-8", "ignore").lstrip("\ufeff")))
