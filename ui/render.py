"""Plain-text and HTML renderings of answers, sources and ingest reports, shared by the edges."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from chat.citations import MARKER as CITATION
from chat.types import Answer, Source
from chat.text import content_terms
from ingest.types import IngestReport
from ui.markup import quoted_text
from ui.page_view import page_url, shows_page

_TOKEN = re.compile(r"\w+|\W+")
_TRAILING_CITATIONS = re.compile(r"(?:\s*\[\d+\])+\s*$")


def after_stream(streamed: str, final: str) -> str:
    """What to show after a streamed answer so the reader ends with the checked text, for an
    output that cannot be redrawn: only the added part when the checks added citations or
    appended (the quoted passage), or the whole checked answer when they changed the words
    (a sentence dropped, extractive fallback, a near miss). "" when nothing was added but
    citation markers: the sources list that follows marks what was cited."""
    streamed = streamed.strip()
    if streamed and final.startswith(streamed):
        return final[len(streamed):].rstrip()
    if streamed:
        # the longest start of the checked text that is the streamed text plus markers
        target = _bare(streamed)
        cuts = [i for i in range(len(final), 0, -1)
                if (i == len(final) or final[i].isspace()) and not final[i - 1].isspace()
                and _bare(final[:i]) == target]
        if cuts:
            return final[cuts[0]:].rstrip()
    if final != streamed:
        return ("\n\nChecked answer:\n" if streamed else "") + final
    return ""


def _bare(text: str) -> str:
    """The words of a text without its citation markers."""
    return " ".join(re.sub(r"\s+([.,;:!?])", r"\1", CITATION.sub("", text)).split())


def source_line(source: Source, cited: bool) -> str:
    mark = "*" if cited else " "
    section = f" — {source.section}" if source.section else ""
    return f"{mark}[{source.number}] {source.label}{section}  (score {source.score:.2f})"


def sources_text(answer: Answer) -> str:
    if not answer.sources:
        return ""
    lines = ["", "Sources (* = cited):"]
    lines += [source_line(s, s.number in answer.cited) for s in answer.sources]
    return "\n".join(lines)


def report_text(report: IngestReport) -> str:
    lines = [
        f"{report.count('ingested')} ingested, {report.count('unchanged')} unchanged, "
        f"{report.count('failed')} failed, {report.count('skipped')} skipped"
        + (f", {report.count('removed')} removed" if report.count("removed") else "")
        + f"; {report.chunks} chunks in {report.seconds:.1f} s"
    ]
    if len(report.failed) > 1:
        lines.append("  failed, by reason: " + "; ".join(
            f"{n} × {reason}" for reason, n in report.refusals()))
    for r in report.results:
        if r.status in ("failed", "skipped", "removed"):
            lines.append(f"  {r.status}: {r.path}: {r.reason}")
        elif r.notes:
            lines.append(f"  note: {r.path}: {'; '.join(r.notes)}")
    return "\n".join(lines)


def sources_html(sources: tuple[Source, ...], cited: tuple[int, ...] = (),
                 answer: str = "", link: Callable[[Source], str | None] | None = None) -> str:
    """Sources panel of the web chat. Document text is escaped: it is never markup. Words of
    a passage that also occur in the answer (same stem) are highlighted: they are what
    supports it. `link` gives a URL to open the original file, where there is one."""
    if not sources:
        return "<p class='dc-empty'>No sources.</p>"
    terms = content_terms(answer) if answer else frozenset()
    parts = []
    for s in sources:
        badge = " <span class='dc-cited'>cited</span>" if s.number in cited else ""
        section = f" — {html.escape(s.section)}" if s.section else ""
        url = link(s) if link else None
        opener = ""
        if url:
            pdf_page = shows_page(s)
            opened = f"{url}#page={s.page}" if pdf_page else url  # PDF viewers open at a page
            opener = (f" <a class='dc-open' href='{html.escape(opened, quote=True)}' "
                      "target='_blank' rel='noopener noreferrer'>open</a>")
            # where the passage is: a PDF's page as an image, the passage highlighted; any
            # file's passage between its neighbours (ui.page_view)
            view, name = ("page", f"page {s.page}") if pdf_page else ("context", "in context")
            opener += (f" <a class='dc-{view}' href='{html.escape(page_url(url, view), quote=True)}'"
                       f" target='_blank' rel='noopener noreferrer'>{name}</a>")
        parts.append(
            "<div class='dc-source'>"
            f"<div class='dc-head'><b>[{s.number}] {html.escape(s.label)}</b>{section}"
            f" <span class='dc-score'>score {s.score:.2f}</span>{badge}{opener}</div>"
            f"<div class='dc-text'>{highlight(s.text, terms)}</div>"
            "</div>"
        )
    return "\n".join(parts)


def highlight(text: str, terms: frozenset[str]) -> str:
    """`text` escaped, with the words whose stem is in `terms` wrapped in <mark>."""
    if not terms:
        return html.escape(text)
    out = []
    for piece in _TOKEN.findall(text):
        escaped = html.escape(piece)
        out.append(f"<mark>{escaped}</mark>" if piece[0].isalnum() and
                   content_terms(piece) & terms else escaped)
    return "".join(out)


def marked_answer(answer: Answer) -> str:
    """The answer as shown in the chat (Markdown). A near miss is marked as one, its quote set
    apart (and escaped: it is document text); sentences the check found unsupported are
    marked with the reason, so the reader sees which claims the sources do not back."""
    text = answer.text
    if answer.outcome == "near_miss":
        head, _, quoted = text.partition("\n")
        return f"🔎 *{head}*\n\n" + "\n".join(f"> {_quoted_line(line)}"
                                               for line in quoted.splitlines())
    for sentence in answer.unsupported:
        if sentence.text in text:
            reason = sentence.problem or "not supported by the sources"
            text = text.replace(sentence.text, f"⚠ *{sentence.text}* ({reason})", 1)
    return text


def _quoted_line(line: str) -> str:
    """A quoted passage escaped, its trailing citation markers kept as markers."""
    markers = _TRAILING_CITATIONS.search(line)
    cut = markers.start() if markers else len(line)
    return quoted_text(line[:cut]) + line[cut:]
