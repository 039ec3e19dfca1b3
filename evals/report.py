"""Write a benchmark's result as JSON, Markdown and a plot, side by side."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def pyplot() -> Any:
    """matplotlib.pyplot on the file-only backend (benchmarks run without a display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_report(out: Path, stem: str, result: dict, markdown: str,
                 plot: Callable[[dict], "Figure"] | None = None) -> None:
    """`plot(result)`, if given, draws and returns a matplotlib figure; it is saved here and
    closed."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / f"{stem}.md").write_text(markdown)
    if plot is not None:
        fig = plot(result)
        fig.tight_layout()
        fig.savefig(out / f"{stem}.png", dpi=120)
        pyplot().close(fig)
    print(markdown)
    print(f"Written to {out}/{stem}.{{json,md{',png' if plot else ''}}}")
