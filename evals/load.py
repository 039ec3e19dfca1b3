"""Load on the API: N concurrent users × M questions, against one user alone, in one run.

    python -m evals load [--users 8] [--questions 20] [--max-new-tokens 48] [--url URL]

Without --url it ingests docchat's own guide into a scratch data directory and starts
`python -m ui serve` on a free loopback port (a real server process with the bundled models).
Every user streams its answers through the official `openai` client. Reported: errors, answers
that came back for another user's question (each answer's `docchat.query` must be the
question its user asked), and time to first token p50/p95, single user and loaded.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from evals.report import pyplot, write_report
from evals.servers import free_port

if TYPE_CHECKING:
    from matplotlib.figure import Figure

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = [
    "Where does docchat store its index?", "What is the default embedding model?",
    "How do I start the web chat on another port?", "Which formats can docchat read?",
    "What happens when I ingest an unchanged file again?", "How do I use a GGUF model?",
    "How do I remove a document from the index?", "What is a collection?",
    "How are scanned PDFs read?", "How do I give the password of an encrypted PDF?",
    "What does docchat sync do?", "How are answers checked against the sources?",
    "What happens when the documents do not answer a question?", "How big are the chunks?",
    "How do I use a model server such as vLLM?", "Does docchat send data to the internet?",
    "What is hybrid search?", "How do follow-up questions work?",
    "What does the ingest report show?", "How are repeated passages stored?",
]


@contextmanager
def local_server(max_new_tokens: int):
    work = Path(tempfile.mkdtemp(prefix="docchat-load-"))
    env = dict(os.environ, DOCCHAT_DATA_DIR=str(work / "data"), DOCCHAT_COLLECTION="load",
               DOCCHAT_GENERATOR__MAX_NEW_TOKENS=str(max_new_tokens))
    subprocess.run([sys.executable, "-m", "ui", "ingest", str(ROOT / "docs" / "guide")],
                   env=env, check=True, capture_output=True)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ui", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _wait_until_up(url: str, proc: subprocess.Popen, timeout: float = 300) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"docchat serve exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"{url}/v1/models", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError("docchat serve did not start")


def ask(client, question: str) -> dict:
    started = time.perf_counter()
    first, text, query = None, "", None
    for chunk in client.chat.completions.create(
            model="docchat", stream=True, messages=[{"role": "user", "content": question}]):
        delta = chunk.choices[0].delta.content if chunk.choices else None
        if delta and first is None:
            first = time.perf_counter() - started
        text += delta or ""
        extra = chunk.model_extra or {}
        if "docchat" in extra:
            query = extra["docchat"]["query"]
    return {"question": question, "ttft_s": first, "total_s": time.perf_counter() - started,
            "query": query, "chars": len(text)}


def run_users(url: str, users: int, questions: int) -> tuple[list[dict], list[str]]:
    import openai

    results: list[dict] = []
    errors: list[str] = []
    lock = threading.Lock()

    def user(n: int) -> None:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="local", max_retries=0,
                               timeout=600)
        for i in range(questions):
            question = QUESTIONS[(n * 7 + i) % len(QUESTIONS)]
            try:
                row = ask(client, question)
            except Exception as exc:  # any failure is a result here, not a crash
                with lock:
                    errors.append(f"user {n}: {type(exc).__name__}: {exc}")
                continue
            with lock:
                results.append(dict(row, user=n))

    threads = [threading.Thread(target=user, args=(n,)) for n in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


def _percentiles(rows: list[dict], key: str) -> dict:
    values = sorted(r[key] for r in rows if r[key] is not None)
    if not values:
        return {"p50": None, "p95": None}
    return {"p50": round(statistics.median(values), 3),
            "p95": round(values[min(len(values) - 1, int(0.95 * len(values)))], 3)}


def evaluate(url: str, users: int, questions: int) -> dict:
    run_users(url, 1, 1)  # warm-up: models and indexes load on first use, not measured
    single, single_errors = run_users(url, 1, questions)
    loaded, loaded_errors = run_users(url, users, questions)
    crossed = [r for r in single + loaded if r["query"] != r["question"]]
    one, many = _percentiles(single, "ttft_s"), _percentiles(loaded, "ttft_s")
    return {
        "users": users, "questions_per_user": questions,
        "answers": len(single) + len(loaded), "errors": single_errors + loaded_errors,
        "answers_for_another_question": len(crossed),
        "ttft_single": one, "ttft_loaded": many,
        "total_single": _percentiles(single, "total_s"),
        "total_loaded": _percentiles(loaded, "total_s"),
        "p95_ratio_loaded_to_single": round(many["p95"] / one["p95"], 2)
        if one["p95"] and many["p95"] else None,
    }


def _markdown(r: dict) -> str:
    return "\n".join([
        "# Load", "",
        f"{r['users']} users × {r['questions_per_user']} questions (streamed, openai client); "
        f"{r['answers']} answers, {len(r['errors'])} errors, "
        f"{r['answers_for_another_question']} answers for another question.", "",
        "| | TTFT p50 s | TTFT p95 s | total p50 s | total p95 s |", "|---|---|---|---|---|",
        f"| 1 user | {r['ttft_single']['p50']} | {r['ttft_single']['p95']} | "
        f"{r['total_single']['p50']} | {r['total_single']['p95']} |",
        f"| {r['users']} users | {r['ttft_loaded']['p50']} | {r['ttft_loaded']['p95']} | "
        f"{r['total_loaded']['p50']} | {r['total_loaded']['p95']} |", "",
        f"p95 TTFT loaded / single: {r['p95_ratio_loaded_to_single']}",
    ]) + "\n"


def _plot(r: dict) -> "Figure":
    plt = pyplot()

    fig, ax = plt.subplots(figsize=(5, 3))
    labels = ["1 user p50", "1 user p95", f"{r['users']} users p50", f"{r['users']} users p95"]
    values = [r["ttft_single"]["p50"], r["ttft_single"]["p95"], r["ttft_loaded"]["p50"],
              r["ttft_loaded"]["p95"]]
    ax.bar(labels, [v or 0 for v in values], color=["#999", "#777", "#3b7dd8", "#1d4f9a"])
    ax.set_ylabel("time to first token, s")
    ax.tick_params(axis="x", labelsize=8)
    return fig


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m evals load")
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--url", help="a running `docchat serve` (default: start one)")
    parser.add_argument("--out", type=Path, default=Path("build/evals/load"))
    args = parser.parse_args(argv)
    if args.url:
        result = evaluate(args.url.rstrip("/"), args.users, args.questions)
    else:
        with local_server(args.max_new_tokens) as url:
            result = evaluate(url, args.users, args.questions)
    write_report(args.out, "load", result, _markdown(result), _plot)
