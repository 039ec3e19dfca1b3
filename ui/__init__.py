"""User-facing edges: the `docchat` CLI and the Gradio web chat. They render events only."""

from ingest import offline as _offline  # noqa: F401
