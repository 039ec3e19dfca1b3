"""Plain-text and HTML renderings of answers, sources and ingest reports, shared by the edges."""

from __future__ import annotations

import html

from chat.types import Answer, Source
from ingest.types import IngestReport


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
    for r in report.results:
        if r.status in ("failed", "skipped", "removed"):
            lines.append(f"  {r.status}: {r.path}: {r.reason}")
        elif r.notes:
            lines.append(f"  note: {r.path}: {'; '.join(r.notes)}")
    return "\n".join(lines)


def sources_html(sources: tuple[Source, ...], cited: tuple[int, ...] = ()) -> str:
    """Sources panel of the web chat. Document text is escaped: it is never markup."""
    if not sources:
        return "<p class='dc-empty'>No sources.</p>"
    parts = []
    for s in sources:
        badge = " <span class='dc-cited'>cited</span>" if s.number in cited else ""
        section = f" — {html.escape(s.section)}" if s.section else ""
        parts.append(
            "<div class='dc-source'>"
            f"<div class='dc-head'><b>[{s.number}] {html.escape(s.label)}</b>{section}"
            f" <span class='dc-score'>score {s.score:.2f}</span>{badge}</div>"
            f"<div class='dc-text'>{html.escape(s.text)}</div>"
            "</div>"
        )
    return "\n".join(parts)
