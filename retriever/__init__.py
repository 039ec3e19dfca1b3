"""Search the index: dense similarity over the Chroma collection, with metadata filters."""

from ingest import offline as _offline  # noqa: F401
