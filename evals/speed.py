"""Speed benchmark: generator load (first: a model split over wheels is assembled into the
cache; later: from the cache), ingest time, ask latency.

    python -m evals speed [--docs DIR] [--out FILE]

Every timing in one run on one machine, so ratios between them are meaningful.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from chat.app import DocChat
from chat.generators.factory import make_generator
from chat.settings import load_settings
from chat.types import AnswerEvent

DEFAULT_DOCS = Path(__file__).resolve().parent.parent / "docs" / "guide"
QUESTIONS = [
    "Where does docchat store its index?",
    "What is the default embedding model?",
    "How do I start the web chat on another port?",
    "What happens when I ingest an unchanged file again?",
    "Which formats can docchat read?",
    "How do I use a GGUF model?",
]


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def run(docs: Path, max_new_tokens: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="docchat-speed-"))
    settings = load_settings(
        data_dir=work / "data", cache_dir=work / "cache", collection="speed",
        generator={"max_new_tokens": max_new_tokens},
    )
    gen = settings.generator
    first_load = _timed(make_generator(gen, settings.cache_dir).load)
    cached_load = _timed(make_generator(gen, settings.cache_dir).load)

    app = DocChat(settings)
    embedder_load = _timed(lambda: app.embedder.model)
    report = app.ingestor.ingest([docs])
    reingest = app.ingestor.ingest([docs])
    app.generator.load()

    asks = []
    for question in QUESTIONS:
        answer = next(e.answer for e in app.pipeline.ask(question)
                      if isinstance(e, AnswerEvent))
        t = answer.timings
        tokens = app.generator.count_tokens(answer.text)
        generating = t["total_s"] - t.get("first_token_s", t["total_s"])
        asks.append({
            "question": question, **t, "answer_tokens": tokens,
            "tokens_per_s": round(tokens / generating, 1) if generating > 0 else None,
        })

    def p50(key):
        return round(statistics.median(a[key] for a in asks if key in a), 3)

    return {
        "generator_load_s": {"first_with_conversion": round(first_load, 2),
                             "later_from_cache": round(cached_load, 2),
                             "ratio_later_to_first": round(cached_load / first_load, 3)},
        "embedder_load_s": round(embedder_load, 2),
        "ingest": {"files": len(report.results), "chunks": report.chunks,
                   "seconds": round(report.seconds, 2),
                   "reingest_unchanged_seconds": round(reingest.seconds, 3)},
        "ask": {"max_new_tokens": max_new_tokens, "retrieve_s_p50": p50("retrieve_s"),
                "first_token_s_p50": p50("first_token_s"), "total_s_p50": p50("total_s"),
                "tokens_per_s_p50": p50("tokens_per_s"),
                "runs": asks},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m evals speed", description=__doc__)
    parser.add_argument("--docs", type=Path, default=DEFAULT_DOCS, help="files to ingest")
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--out", type=Path, help="write the JSON result here too")
    args = parser.parse_args(argv)
    result = run(args.docs, args.max_new_tokens)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
