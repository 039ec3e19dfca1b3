"""llama.cpp's memory of earlier prompts: what it costs in RAM and what it saves in time.

    python -m evals prompt-cache [--model qwen2.5-coder-1.5b] [--prompts 30]
                                 [--cache-mib 256,8192]

llama.cpp keeps the states of earlier prompts in RAM, up to a cap, so that a prompt that
comes again is not read again. For each cap, a fresh model reads `--prompts` different
~500-token prompts (the guide's text); reported are the process's resident memory after
loading and after the last prompt (and the growth per prompt), the time to read a prompt
asked three prompts before (from the cache) and a new one. chat.generators.llamacpp's
PROMPT_CACHE_MIB takes a cap that keeps memory flat.
"""

from __future__ import annotations

import argparse
import time

from chat.generators.llamacpp import LlamaCppGenerator
from chat.settings import load_settings
from evals.threads import prompts


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        kb = next(line for line in status if line.startswith("VmRSS:")).split()[1]
    return int(kb) / 1024


def measure(model: str, cache_mib: int, count: int) -> dict:
    if count < 1:
        raise ValueError(f"--prompts must be at least 1, got {count}")
    gen = LlamaCppGenerator(model, cache_dir=load_settings().cache_dir, context_tokens=2048,
                            max_new_tokens=1, prompt_cache_mib=cache_mib)
    texts = prompts(count + 1)
    ask = lambda text: gen.next_token_probabilities(
        [{"role": "user", "content": text + "\n\nSummarise this in one line."}])
    try:
        gen.load()
        loaded = _rss_mb()
        for text in texts[:count]:
            ask(text)
        after = _rss_mb()
        timed = {}
        for name, text in (("again", texts[max(0, count - 3)]), ("new", texts[count])):
            started = time.perf_counter()
            ask(text)
            timed[name] = time.perf_counter() - started
    finally:
        gen.close()
    return {"cache_mib": cache_mib, "prompts": count, "rss_loaded_mb": round(loaded),
            "rss_after_mb": round(after), "mb_per_prompt": round((after - loaded) / count, 1),
            "again_s": round(timed["again"], 3), "new_s": round(timed["new"], 3)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m evals prompt-cache", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--prompts", type=int, default=30)
    parser.add_argument("--cache-mib", default="256,8192")
    args = parser.parse_args(argv)
    print("| cache cap (MiB) | prompts | RSS loaded (MB) | RSS after (MB) | MB per prompt | "
          "a prompt again (s) | a new prompt (s) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for cap in (int(x) for x in args.cache_mib.split(",")):
        r = measure(args.model, cap, args.prompts)
        print(f"| {cap} | {r['prompts']} | {r['rss_loaded_mb']} | {r['rss_after_mb']} | "
              f"{r['mb_per_prompt']} | {r['again_s']} | {r['new_s']} |", flush=True)


if __name__ == "__main__":
    main()
