"""Load files, split them into chunks, embed them and write the index.

Imports no other docchat package. Importing it is cheap: heavy libraries load on first use.
"""

from ingest import offline as _offline  # noqa: F401  (sets network switches first)
