"""python -m evals <benchmark> [options]"""

import sys

BENCHMARKS = {
    "speed": "evals.speed",
    "retrieval": "evals.retrieval",
    "latency": "evals.latency",
    "tune-fusion": "evals.tune_fusion",
    "tune-retrieval": "evals.tune_retrieval",
    "answers": "evals.answers",
    "rules": "evals.rules",
    "answerability": "evals.answerability",
    "threads": "evals.threads",
    "prompt-cache": "evals.prompt_cache",
    "train-qa": "evals.train_qa",
    "train-answerer": "evals.train_answerer",
    "index-server": "evals.index_server",
    "ingest-speed": "evals.ingest_speed",
    "embed-backends": "evals.embed_backends",
    "chunk-sizes": "evals.chunk_sizes",
    "load": "evals.load",
    "docs-folder": "evals.docs_folder",
}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in BENCHMARKS:
        sys.exit(f"usage: python -m evals {{{','.join(BENCHMARKS)}}} [options]")
    import importlib

    importlib.import_module(BENCHMARKS[sys.argv[1]]).main(sys.argv[2:])


if __name__ == "__main__":
    main()
