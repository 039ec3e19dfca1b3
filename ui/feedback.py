"""Thumbs up/down and comments from the web chat, one JSON object per line.

`<data_dir>/feedback.jsonl` is append-only; evals read it with `read_feedback`. Each line:
time, collection, question, answer, liked (true/false/null for a comment only), comment,
query, and the sources shown (file, page, chunk id, cited).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from chat.types import Answer

_LOCK = threading.Lock()  # one Gradio worker thread per event; lines must not interleave


def feedback_record(answer: Answer, collection: str, liked: bool | None,
                    comment: str = "") -> dict:
    return {
        "time": round(time.time(), 3), "collection": collection, "question": answer.question,
        "answer": answer.text, "liked": liked, "comment": comment.strip(), "query": answer.query,
        "abstained": answer.abstained,
        "sources": [{"file": s.source, "page": s.page, "chunk_id": s.chunk_id,
                     "cited": s.number in answer.cited} for s in answer.sources],
    }


def append_feedback(path: Path, record: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with _LOCK, path.open("a", encoding="utf-8") as fh:
        fh.write(line)


def read_feedback(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
