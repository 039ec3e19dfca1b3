"""Split a file's elements into chunks measured in embedder tokens, keeping page and heading.

Elements are grouped into sections (same heading path, same page); each section is split with
langchain's RecursiveCharacterTextSplitter using the embedder's own token count, then small
neighbouring pieces are packed together so short sections do not become tiny chunks.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from langchain_core.documents import Document
from langchain_text_splitters import RecursiveCharacterTextSplitter

from ingest.types import TextElement

TokenCounter = Callable[[str], int]
_JOIN = "\n\n"
SECTION_SEP = " > "
_FOLLOWS_LEAD_IN = {"ListItem"}
# Tokens the embedder adds around every input ([CLS] ... [SEP]) plus the heading/text newline.
_SPECIAL_TOKENS = 3
_MIN_BUDGET = 16
# Paragraphs, lines, sentences, clauses, words: split at the coarsest boundary that fits. Without
# sentence separators the splitter falls back to single words, which is slow and cuts sentences.
_SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""]


@dataclass(frozen=True)
class _Piece:
    text: str
    page: int | None
    headings: tuple[str, ...]
    categories: tuple[str, ...]
    # (offset in text, heading path) of each section the text holds, once pieces are packed:
    # a chunk's `headings` is only what they share (for whole-document summaries, chat.summary)
    parts: tuple[tuple[int, tuple[str, ...]], ...] = ()


def chunk_elements(
    elements: Sequence[TextElement],
    *,
    count_tokens: TokenCounter,
    chunk_tokens: int,
    chunk_overlap: int,
    max_tokens: int,
) -> list[tuple[str, dict]]:
    """Return (text, metadata) pairs: metadata has page, section and element_types."""
    pieces: list[_Piece] = []
    for headings, section in _sections(elements):
        budget = _budget(headings, count_tokens, chunk_tokens, max_tokens)
        pieces.extend(_split_section(headings, section, count_tokens, budget, chunk_overlap))
    packed = _pack(pieces, count_tokens, chunk_tokens, max_tokens)
    out = []
    for piece in packed:
        meta: dict = {
            "section": SECTION_SEP.join(piece.headings),
            "element_types": ",".join(dict.fromkeys(piece.categories)),
        }
        if piece.page is not None:
            meta["page"] = piece.page
        if any(h != piece.headings for _, h in piece.parts):
            meta["outline"] = "\n".join(f"{offset}\t{SECTION_SEP.join(h)}"
                                         for offset, h in piece.parts)
        out.append((piece.text, meta))
    return out


def read_outline(outline: str) -> list[tuple[int, str]]:
    """A chunk's "outline" metadata (written above: where each section it spans begins) as
    (offset in the chunk's text, heading path) pairs, in order; lines that are not such a
    pair are skipped."""
    marks = []
    for line in outline.splitlines():
        offset, _, path = line.partition("\t")
        if offset.isdigit():
            marks.append((int(offset), path))
    return marks


def embedding_text(doc: Document) -> str:
    """What gets embedded: the heading path, then the chunk text (headings carry context)."""
    section = doc.metadata.get("section", "")
    if not section:
        return doc.page_content
    last = section.split(SECTION_SEP)[-1]
    if doc.page_content.startswith(last):
        parent = SECTION_SEP.join(section.split(SECTION_SEP)[:-1])
        return f"{parent}\n{doc.page_content}" if parent else doc.page_content
    return f"{section}\n{doc.page_content}"


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _sections(elements: Sequence[TextElement]):
    """Runs of elements under one heading path and on one page (so every chunk has one page)."""
    current: list[TextElement] = []
    for el in elements:
        if current and (el.headings, el.page) != (current[0].headings, current[0].page):
            yield current[0].headings, current
            current = []
        current.append(el)
    if current:
        yield current[0].headings, current


def _budget(headings, count_tokens: TokenCounter, chunk_tokens: int, max_tokens: int) -> int:
    prefix = count_tokens(SECTION_SEP.join(headings)) if headings else 0
    return max(_MIN_BUDGET, min(chunk_tokens, max_tokens - prefix - _SPECIAL_TOKENS))


def _split_section(headings, section, count_tokens, budget, overlap) -> list[_Piece]:
    """Text runs go through the splitter; each table is kept whole, or cut between rows with
    its header row repeated, so every piece of a table still reads as a table; each code
    block is kept whole with the sentence that leads into it, or cut between lines."""
    pieces: list[_Piece] = []
    run: list[TextElement] = []
    for el in list(section) + [None]:
        if el is not None and el.category not in ("Table", "CodeSnippet"):
            run.append(el)
            continue
        lead_in = None
        if el is not None and el.category == "CodeSnippet" and run and (
                run[-1].text.rstrip().endswith(":")):
            lead_in = run.pop()  # "Install the extra as well:" goes with its command
        if run:
            pieces.extend(_split_text(headings, run, count_tokens, budget, overlap))
            run = []
        if el is not None and el.category == "Table":
            pieces.extend(_Piece(text, el.page, headings, ("Table",))
                          for text in _split_table(el.text, count_tokens, budget))
        elif el is not None:
            cats = ((lead_in.category,) if lead_in else ()) + ("CodeSnippet",)
            pieces.extend(_Piece(text, el.page, headings, cats) for text in _split_code(
                lead_in.text if lead_in else "", el.text, count_tokens, budget))
    return pieces


def _split_code(lead_in: str, code: str, count_tokens, budget: int) -> list[str]:
    """A code block whole, after the sentence that introduces it, where they fit; else cut
    between lines, each part fenced again ("```lang") so it still reads as code."""
    whole = f"{lead_in}\n{code}" if lead_in else code
    if count_tokens(whole) <= budget:
        return [whole]
    opening, _, body = code.partition("\n") if code.startswith("```") else ("", "", code)
    body = body.removesuffix("```").rstrip("\n")
    closing = "\n```" if opening else ""
    room = max(_MIN_BUDGET, budget - count_tokens(opening + closing) - 2)
    parts = RecursiveCharacterTextSplitter(
        separators=["\n\n", "\n", " ", ""], chunk_size=room, chunk_overlap=0,
        length_function=count_tokens).split_text(body)
    fenced = [f"{opening}\n{part}{closing}" if opening else part for part in parts]
    if lead_in and fenced and count_tokens(f"{lead_in}\n{fenced[0]}") <= budget:
        fenced[0] = f"{lead_in}\n{fenced[0]}"
    elif lead_in:
        fenced.insert(0, lead_in)
    return fenced


def _split_table(text: str, count_tokens, budget: int) -> list[str]:
    if count_tokens(text) <= budget:
        return [text]
    header, *rows = text.split("\n")
    parts, current = [], [header]
    for row in rows:
        if len(current) > 1 and count_tokens("\n".join(current + [row])) > budget:
            parts.append("\n".join(current))
            current = [header]
        current.append(row)
    parts.append("\n".join(current))
    # A single row longer than the budget: the text splitter cuts it (rare: huge cells).
    out = []
    for part in parts:
        if count_tokens(part) <= budget:
            out.append(part)
        else:
            out.extend(RecursiveCharacterTextSplitter(
                separators=_SEPARATORS, chunk_size=budget, chunk_overlap=0,
                length_function=count_tokens).split_text(part))
    return out


def _split_text(headings, section, count_tokens, budget, overlap) -> list[_Piece]:
    starts, cats = [], []
    text = ""
    previous = None
    for el in section:
        if text:
            text += _joiner(previous, el)
        previous = el
        starts.append(len(text))
        cats.append(el.category)
        text += el.text
    if count_tokens(text) <= budget:  # fits: no splitter (it would count every piece again)
        return [_Piece(text, section[0].page, headings, tuple(cats))]
    splitter = RecursiveCharacterTextSplitter(
        separators=_SEPARATORS,
        keep_separator="end",
        chunk_size=budget,
        chunk_overlap=min(overlap, budget // 2),
        length_function=count_tokens,
        add_start_index=True,
    )
    pieces = []
    for doc in splitter.create_documents([text]):
        begin = doc.metadata["start_index"]
        end = begin + len(doc.page_content)
        first = max(0, bisect_right(starts, begin) - 1)
        last = max(first, bisect_right(starts, end - 1) - 1)
        pieces.append(
            _Piece(doc.page_content, section[0].page, headings, tuple(cats[first : last + 1]))
        )
    return pieces


def _joiner(previous: TextElement | None, el: TextElement) -> str:
    """A list's items, and a list or code block and the sentence that leads into it, are
    joined by a line break, not a paragraph break: the splitter cuts paragraphs first, so
    they stay in one chunk wherever they fit."""
    if previous is None:
        return _JOIN
    if el.category in _FOLLOWS_LEAD_IN and (previous.category == el.category
                                            or previous.text.rstrip().endswith(":")):
        return "\n"
    return _JOIN


def _pack(pieces: list[_Piece], count_tokens, chunk_tokens: int, max_tokens: int) -> list[_Piece]:
    """Merge neighbouring pieces while the result still fits one chunk (and one page)."""
    packed: list[_Piece] = []
    for piece in pieces:
        if packed:
            prev = packed[-1]
            common = _common_prefix(prev.headings, piece.headings)
            merged_text = prev.text + _JOIN + piece.text
            budget = _budget(common, count_tokens, chunk_tokens, max_tokens)
            if prev.page == piece.page and count_tokens(merged_text) <= budget:
                shift = len(prev.text) + len(_JOIN)
                parts = (prev.parts or ((0, prev.headings),)) + tuple(
                    (offset + shift, h) for offset, h in piece.parts or ((0, piece.headings),))
                packed[-1] = _Piece(
                    merged_text, prev.page, common, prev.categories + piece.categories, parts
                )
                continue
        packed.append(piece)
    return packed


def _common_prefix(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]
