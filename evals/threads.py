"""llama.cpp's thread count on this machine: prompt and writing speed, quiet and under load.

    python -m evals threads [--model qwen2.5-coder-1.5b] [--threads 1,2] [--busy 0,1]
                            [--prompts 3] [--max-new-tokens 48]

For each thread count and each number of busy processes beside it (a busy process spins on
one core, standing in for other work on the machine: an ingest, a browser, a second
question), the model reads `--prompts` different ~500-token prompts (the guide's text, so no
prompt cache helps) and writes up to `--max-new-tokens` tokens. Reported: the first-token
time p50 (reading the prompt) and the writing speed p50. generator.threads takes the winner
(chat.config.DEFAULT_THREADS).
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time
from pathlib import Path

from chat.generators.llamacpp import LlamaCppGenerator
from chat.settings import load_settings

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "guide"


def _spin() -> None:
    while True:
        pass


def prompts(count: int, words: int = 380) -> list[str]:
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted(GUIDE.glob("*.md"))).split()
    step = len(text) // (count + 1)
    return [" ".join(text[i * step:i * step + words]) for i in range(count)]


def measure(model: str, threads: int, busy: int, count: int, max_new_tokens: int) -> dict:
    settings = load_settings()
    gen = LlamaCppGenerator(model, cache_dir=settings.cache_dir, context_tokens=2048,
                            max_new_tokens=max_new_tokens, threads=threads)
    gen.load()
    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(busy)]
    for p in spinners:
        p.start()
    firsts, speeds = [], []
    try:
        for text in prompts(count):
            messages = [{"role": "user", "content": text + "\n\nSummarise this in one line."}]
            started = time.perf_counter()
            first, pieces = None, 0
            for _ in gen.stream(messages, max_new_tokens=max_new_tokens, temperature=0.0):
                if first is None:
                    first = time.perf_counter()
                pieces += 1
            end = time.perf_counter()
            firsts.append(first - started)
            if pieces > 1:
                speeds.append((pieces - 1) / (end - first))
    finally:
        for p in spinners:
            p.terminate()
        gen.close()
    return {"threads": threads, "busy": busy, "first_token_s_p50": round(
        statistics.median(firsts), 2), "tokens_per_s_p50": round(statistics.median(speeds), 1)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m evals threads", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--busy", default="0,1")
    parser.add_argument("--prompts", type=int, default=3)
    parser.add_argument("--max-new-tokens", type=int, default=48)
    args = parser.parse_args(argv)
    ints = lambda s: [int(x) for x in s.split(",")]
    print("| threads | busy processes | first token p50 (s) | tokens/s p50 |")
    print("| --- | --- | --- | --- |")
    for busy in ints(args.busy):
        for threads in ints(args.threads):
            r = measure(args.model, threads, busy, args.prompts, args.max_new_tokens)
            print(f"| {r['threads']} | {r['busy']} | {r['first_token_s_p50']} | "
                  f"{r['tokens_per_s_p50']} |", flush=True)


if __name__ == "__main__":
    main()
