"""The answering pipeline: retrieve, build a prompt with numbered sources, generate, cite."""

from ingest import offline as _offline  # noqa: F401
