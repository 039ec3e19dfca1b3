"""Write a benchmark's result as JSON, Markdown and a plot, side by side."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path


def write_report(out: Path, stem: str, result: dict, markdown: str,
                 plot: Callable[[dict, Path], None]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / f"{stem}.md").write_text(markdown)
    plot(result, out / f"{stem}.png")
    print(markdown)
    print(f"Written to {out}/{stem}.{{json,md,png}}")
