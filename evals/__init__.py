"""Measurements of docchat: run with `python -m evals <benchmark>`. Never imports ui."""

from ingest import offline as _offline  # noqa: F401
