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
IWORK = ("pages", "numbers", "key")  # Apple iWork: a zip, with at most a preview docchat reads
ASCIIDOC = "asciidoc"
ARCHIVE = "zip"  # a .zip of documents, read member by member
_OPENDOCUMENT = {
    "application/vnd.oasis.opendocument.presentation": ODP,
    "application/vnd.oasis.opendocument.spreadsheet": ODS,
}
_SUBTITLE_EXTENSIONS = {".srt", ".vtt"}
_MARKDOWN_EXTENSIONS = {".md", ".markdown", ".mdx"}
_CUE = re.compile(r"^\s*(WEBVTT|\d+\s*\r?\n\s*\d{1,2}:\d{2}:\d{2}[,.]\d{3}\s*-->)", re.M)
_HTML_START = re.compile(rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(!doctype\s+html|html)\b",
                         re.I | re.S)


@dataclass(frozen=True)
class Detected:
    name: str  # stored as the chunk's file_type: "pdf", "docx", "html", "image", ...
    mime: str | None = None  # passed to unstructured so it does not guess again
    encrypted: bool = False  # an Office file behind a password (read once decrypted)


def detect(path: Path) -> Detected:
    """Raise LoadError for a type docchat cannot read, naming what the content looks like."""
    from unstructured.file_utils.filetype import detect_filetype
    from unstructured.file_utils.model import FileType

    if _encrypted_office(path):
        named = FileType.from_extension(path.suffix.lower())
        name = named.partitioner_shortname if named and named.is_partitionable else "office"
        return Detected(name, named.mime_type if named else None, encrypted=True)
    try:
        file_type = detect_filetype(file_path=str(path))
    except Exception as exc:  # libmagic and zip inspection raise assorted errors
        raise LoadError(str(path), "docchat could not tell the file's type",
                        f"{type(exc).__name__}: {exc}") from exc
    if path.suffix.lower() in _SUBTITLE_EXTENSIONS:
        return Detected(SUBTITLES)
    if file_type in (FileType.ZIP, FileType.UNK):
        office = _opendocument(path)
        if office:
            return Detected(office)
        if path.suffix.lower()[1:] in IWORK and zipfile.is_zipfile(path):
            return Detected(path.suffix.lower()[1:])
        if file_type == FileType.ZIP and FileType.from_extension(path.suffix.lower()) in (
                None, FileType.ZIP):  # a broken .docx is a damaged document, not an archive
            return Detected(ARCHIVE, "application/zip")
    if file_type == FileType.UNK and _is_text(path):
        file_type = FileType.TXT  # .ini, .tex, .log-like names libmagic maps to nothing known
    if file_type == FileType.TXT and path.suffix.lower() == ".xml" and _starts_with_a_tag(path):
        file_type = FileType.XML  # XML without a declaration: libmagic only sees text
    if file_type == FileType.XML and _looks_like_html(path):
        file_type = FileType.HTML
    if file_type == FileType.TXT and path.suffix.lower() in _MARKDOWN_EXTENSIONS:
        file_type = FileType.MD  # front matter ("---") makes libmagic see plain text
    if file_type == FileType.TXT and path.suffix.lower() in (".adoc", ".asciidoc"):
        _check_content(path, "text")
        return Detected(ASCIIDOC, "text/x-asciidoc")  # unstructured has no reader; pandoc has
    if file_type == FileType.TXT and _looks_like_subtitles(path):
        return Detected(SUBTITLES)
    if file_type == FileType.EMPTY:
        raise LoadError(str(path), "the file is empty (0 bytes)")
    if not file_type.is_partitionable or file_type.partitioner_shortname == "audio":
        named = FileType.from_extension(path.suffix.lower())
        if named is not None and named.is_partitionable and named != file_type and (
                named.partitioner_shortname != "audio"):
            raise LoadError(
                str(path),
                f"the name says {path.suffix.lower()}, a format docchat reads, but the content "
                f"is not ({file_type.mime_type}): the file is damaged or not really a "
                f"{path.suffix.lower()} file; open it in the program that made it and save it "
                "again",
            )
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


def _encrypted_office(path: Path) -> bool:
    """An Office file saved with a password: an OLE container (CDFV2 Encrypted), whatever its
    name, that msoffcrypto-tool says is encrypted."""
    with path.open("rb") as fh:
        if not fh.read(8).startswith(_OLE_MAGIC):
            return False
        try:
            import msoffcrypto

            fh.seek(0)
            return bool(msoffcrypto.OfficeFile(fh).is_encrypted())
        except Exception:  # not an Office document msoffcrypto knows: the detectors decide
            return False


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

    with path.open("rb") as fh:
        wide = wide_encoding(fh.read(65536))
    if wide:
        return wide
    if _decodes_as_utf8(path):
        # Valid UTF-8 with any non-ASCII byte is almost never another code page by chance;
        # charset-normalizer can call it cp1251 when the text itself holds mojibake ("Â£").
        return "utf_8"
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


def _decodes_as_utf8(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf_8")()
    try:
        with path.open("rb") as fh:
            while block := fh.read(1 << 20):
                decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _is_text(path: Path) -> bool:
    from charset_normalizer import from_bytes

    with path.open("rb") as fh:
        head = fh.read(65536)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE,
                        codecs.BOM_UTF32_BE)):
        return from_bytes(head).best() is not None
    if wide_encoding(head):
        return True
    return b"\x00" not in head and from_bytes(head).best() is not None


def wide_encoding(head: bytes) -> str | None:
    """UTF-32 or UTF-16 without a byte order mark, else None. Told by the columns the zero
    bytes fall in: in UTF-32 the two high bytes of every character of the common scripts are
    zero; in UTF-16 the high byte of ASCII (spaces, digits, punctuation, Latin) is, and the low
    byte almost never. charset-normalizer and libmagic call such files binary data."""
    if b"\x00" not in head or head.startswith(
            (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return None

    def zeros(width: int) -> list[float]:
        size = len(head) - len(head) % width
        units = size // width or 1
        return [head[i:size:width].count(0) / units for i in range(width)]

    z4, z2 = zeros(4), zeros(2)
    if min(z4[2:]) > 0.95 and z4[0] < 0.05:
        codec = "utf_32_le"
    elif min(z4[:2]) > 0.95 and z4[3] < 0.05:
        codec = "utf_32_be"
    elif z2[1] > 0.05 and z2[0] < z2[1] / 10:
        codec = "utf_16_le"
    elif z2[0] > 0.05 and z2[1] < z2[0] / 10:
        codec = "utf_16_be"
    else:
        return None
    width = 4 if codec.startswith("utf_32") else 2
    try:  # the last character may be cut by the read
        text = head[:len(head) - len(head) % width].decode(codec, errors="strict")
    except UnicodeDecodeError:
        text = head[:len(head) - len(head) % width - width].decode(codec, errors="replace")
    printable = sum(c.isprintable() or c.isspace() for c in text)
    return codec if text and printable / len(text) > 0.95 else None


def _looks_like_html(path: Path) -> bool:
    with path.open("rb") as fh:
        return bool(_HTML_START.match(fh.read(4096)))


def _starts_with_a_tag(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(512).lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def _looks_like_subtitles(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(2048)
    return bool(_CUE.match(head.decode("utf-8", "ignore").lstrip("\ufeff")))
