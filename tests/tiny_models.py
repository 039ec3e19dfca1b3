"""Tiny randomly initialised models that tests build and save themselves: no weights for a
cross-encoder, another LLM or another embedder exist offline, but their loading code must
still be exercised."""

from __future__ import annotations

from pathlib import Path

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "<s>", "</s>"] + [
    w for w in "the a pump warranty lasts seven years router reset red button hello".split()
]
CHAT_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)


def word_tokenizer(**special):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(VOCAB)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=tok, **special)


def bert_tokenizer():
    return word_tokenizer(cls_token="[CLS]", sep_token="[SEP]", pad_token="[PAD]",
                          unk_token="[UNK]", mask_token="[MASK]")


def bert_config(**extra):
    from transformers import BertConfig

    return BertConfig(vocab_size=len(VOCAB), hidden_size=16, num_hidden_layers=1,
                      num_attention_heads=2, intermediate_size=32,
                      max_position_embeddings=64, **extra)


def save_tiny_llama(path: Path, **config_overrides) -> Path:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    tokenizer = word_tokenizer(bos_token="<s>", eos_token="</s>", pad_token="[PAD]",
                               unk_token="[UNK]")
    tokenizer.chat_template = CHAT_TEMPLATE
    config = LlamaConfig(**{**dict(vocab_size=len(VOCAB), hidden_size=16, intermediate_size=32,
                                   num_hidden_layers=1, num_attention_heads=2,
                                   num_key_value_heads=2, bos_token_id=5, eos_token_id=6,
                                   pad_token_id=0), **config_overrides})
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def save_tiny_sentence_transformer(path: Path) -> Path:
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer import modules
    from transformers import BertModel

    torch.manual_seed(0)
    bert_dir = path / "bert"
    BertModel(bert_config()).save_pretrained(bert_dir)
    bert_tokenizer().save_pretrained(bert_dir)
    word = modules.Transformer(str(bert_dir), max_seq_length=32)
    model = SentenceTransformer(modules=[word, modules.Pooling(16, pooling_mode="mean")])
    model.save(str(path / "st"))
    return path / "st"


def save_tiny_cross_encoder(path: Path) -> Path:
    import torch
    from transformers import BertForSequenceClassification

    torch.manual_seed(0)
    BertForSequenceClassification(bert_config(num_labels=1)).save_pretrained(path)
    bert_tokenizer().save_pretrained(path)
    return path
