"""Build the demo corpus from docchat's own guide: Markdown pages, some turned into PDF and DOCX.

The converters understand the small Markdown subset the guide uses (headings, paragraphs,
bullet and numbered lists, indented code, tables); they exist so the demo and the tests have
real multi-format documents without shipping binary files.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_FORMATS = ("md", "pdf", "docx")  # page i of the guide is written as _FORMATS[i % 3]


@dataclass(frozen=True)
class Block:
    kind: str  # "heading", "paragraph", "bullet", "code", "table"
    text: str = ""
    level: int = 0
    rows: tuple[tuple[str, ...], ...] = ()


def default_docs_dir() -> Path:
    """docs/guide of a checkout; ui/guide inside an installed wheel (pyproject maps it)."""
    here = Path(__file__).resolve().parent
    checkout = here.parent / "docs" / "guide"
    return checkout if checkout.is_dir() else here / "guide"


def build_demo_corpus(src: Path, out: Path) -> Path:
    pages = sorted(Path(src).glob("*.md"))
    if not pages:
        from ingest.errors import ConfigError

        raise ConfigError(f"No Markdown pages found in {src}; pass --docs DIR.")
    out.mkdir(parents=True, exist_ok=True)
    targets = [out / f"{page.stem}.{_FORMATS[i % len(_FORMATS)]}" for i, page in enumerate(pages)]
    for stale in set(out.iterdir()) - set(targets):
        stale.unlink()
    for page, target in zip(pages, targets):
        # Rebuild only what changed: PDF/DOCX bytes embed the time they were written, and a
        # rewrite would make `docchat ingest` see a changed file on every demo start.
        if target.exists() and target.stat().st_mtime >= page.stat().st_mtime:
            continue
        fmt = target.suffix.lstrip(".")
        if fmt == "md":
            shutil.copyfile(page, target)
        else:
            blocks = parse_markdown(page.read_text(encoding="utf-8"))
            (write_pdf if fmt == "pdf" else write_docx)(blocks, target)
    return out


def parse_markdown(text: str) -> list[Block]:
    return list(_blocks(text.splitlines()))


def _blocks(lines: list[str]) -> Iterator[Block]:
    para: list[str] = []
    i = 0

    def flush() -> Iterator[Block]:
        if para:
            yield Block("paragraph", _inline(" ".join(para)))
            para.clear()

    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped:
            yield from flush()
        elif m := re.match(r"^(#{1,6})\s+(.*)", line):
            yield from flush()
            yield Block("heading", _inline(m.group(2)), level=len(m.group(1)))
        elif line.startswith("    "):
            yield from flush()
            code = []
            while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
                code.append(lines[i][4:])
                i += 1
            yield Block("code", "\n".join(code).strip("\n"))
            continue
        elif stripped.startswith("|"):
            yield from flush()
            rows = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                cells = tuple(_inline(c.strip()) for c in lines[i].strip().strip("|").split("|"))
                if not all(re.fullmatch(r":?-{3,}:?", c) for c in cells):
                    rows.append(cells)
                i += 1
            yield Block("table", rows=tuple(rows))
            continue
        elif m := re.match(r"^\s*(?:[-*]|\d+\.)\s+(.*)", line):
            yield from flush()
            item = [m.group(1)]
            while i + 1 < len(lines) and lines[i + 1].startswith("  ") and lines[i + 1].strip() \
                    and not re.match(r"^\s*(?:[-*]|\d+\.)\s", lines[i + 1]):
                i += 1
                item.append(lines[i].strip())
            yield Block("bullet", _inline(" ".join(item)))
        else:
            para.append(stripped)
        i += 1
    yield from flush()


def _inline(text: str) -> str:
    return re.sub(r"\*\*(.+?)\*\*|`([^`]+)`", lambda m: m.group(1) or m.group(2), text)


def write_docx(blocks: list[Block], path: Path) -> None:
    import docx

    document = docx.Document()
    for b in blocks:
        if b.kind == "heading":
            document.add_heading(b.text, level=min(b.level, 9))
        elif b.kind == "paragraph":
            document.add_paragraph(b.text)
        elif b.kind == "bullet":
            document.add_paragraph(b.text, style="List Bullet")
        elif b.kind == "code":
            document.add_paragraph(b.text, style="No Spacing")
        elif b.kind == "table":
            table = document.add_table(rows=len(b.rows), cols=len(b.rows[0]))
            for r, row in enumerate(b.rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
    document.save(str(path))


def write_pdf(blocks: list[Block], path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    width = pdf.epw
    for b in blocks:
        if b.kind == "heading":
            pdf.set_font("Helvetica", "B", {1: 18, 2: 14}.get(b.level, 12))
            pdf.ln(3)
            # a bookmark per heading, as word processors write them: readers show an outline
            # and docchat takes its sections from it (ingest.loaders.pdf_outline)
            pdf.start_section(_latin1(b.text), level=max(0, b.level - 1), strict=False)
            pdf.multi_cell(width, 8, _latin1(b.text), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        elif b.kind == "code":
            pdf.set_font("Courier", size=9)
            pdf.multi_cell(width, 5, _latin1(b.text), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
        elif b.kind == "table":
            pdf.set_font("Helvetica", size=9)
            with pdf.table() as table:
                for row in b.rows:
                    cells = table.row()
                    for cell in row:
                        cells.cell(_latin1(cell))
            pdf.ln(2)
        else:
            pdf.set_font("Helvetica", size=11)
            text = ("- " if b.kind == "bullet" else "") + b.text
            pdf.multi_cell(width, 6, _latin1(text), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
    pdf.output(str(path))


def _latin1(text: str) -> str:
    """The PDF core fonts cover Latin-1 only; map the few typographic characters we use."""
    table = {"—": "-", "–": "-", "’": "'", "‘": "'", "“": '"', "”": '"', "…": "...", "→": "->"}
    text = "".join(table.get(ch, ch) for ch in text)
    return text.encode("latin-1", "replace").decode("latin-1")
