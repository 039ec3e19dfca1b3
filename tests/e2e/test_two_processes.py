"""Two docchat processes behind one Chroma server and one model server: one ingests, the
other answers (real `chroma run`, real `transformers serve`, real CLI processes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def run_docchat(args, data_dir, chroma_url, model_server, model_dir, cache_dir):
    env = {**os.environ,
           "DOCCHAT_DATA_DIR": str(data_dir), "DOCCHAT_CACHE_DIR": str(cache_dir),
           "DOCCHAT_COLLECTION": "shared", "DOCCHAT_INDEX__BACKEND": "server",
           "DOCCHAT_INDEX__URL": chroma_url, "DOCCHAT_GENERATOR__BACKEND": "openai",
           "DOCCHAT_GENERATOR__BASE_URL": model_server, "DOCCHAT_GENERATOR__MODEL": model_dir,
           "DOCCHAT_GENERATOR__MAX_NEW_TOKENS": "24"}
    done = subprocess.run([sys.executable, "-m", "ui", *args], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_one_process_ingests_and_another_answers(tmp_path, fixture_docs, chroma_url,
                                                 model_server, model_dir, docchat):
    common = dict(chroma_url=chroma_url, model_server=model_server, model_dir=model_dir,
                  cache_dir=docchat.settings.cache_dir)
    report = json.loads(run_docchat(["ingest", "--json", str(fixture_docs["router.pdf"])],
                                tmp_path / "a", **common))
    assert report["ingested"] == 1
    answer = json.loads(run_docchat(["ask", "--json", "How do I reset the Kestrel router?"],
                                tmp_path / "b", **common))
    assert answer["sources"][0]["file_name"] == "router.pdf"
    assert answer["sources"][0]["page"] == 2
    assert not (tmp_path / "b" / "chroma").exists(), "process b kept no local vector store"
    assert (tmp_path / "b" / "bm25" / "shared").is_dir(), "b built its BM25 from the server"
