"""Other models by configuration: any transformers directory as the generator, any
sentence-transformers directory as the embedder. No such weights exist offline here, so the
tests build tiny randomly initialised models and save them, as a user's model directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from chat.generators.hf import TransformersGenerator
from ingest.embedder import SentenceTransformerEmbeddings
from ingest.errors import ModelError

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


@pytest.fixture(scope="module")
def tiny_llama_dir(tmp_path_factory) -> Path:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny-llama")
    tokenizer = word_tokenizer(bos_token="<s>", eos_token="</s>", pad_token="[PAD]",
                               unk_token="[UNK]")
    tokenizer.chat_template = CHAT_TEMPLATE
    config = LlamaConfig(vocab_size=len(VOCAB), hidden_size=16, intermediate_size=32,
                         num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2,
                         bos_token_id=5, eos_token_id=6, pad_token_id=0)
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def tiny_embedder_dir(tmp_path_factory) -> Path:
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer import modules as models
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny-bert")
    bert_dir = path / "bert"
    tokenizer = word_tokenizer(cls_token="[CLS]", sep_token="[SEP]", pad_token="[PAD]",
                               unk_token="[UNK]", mask_token="[MASK]")
    BertModel(BertConfig(vocab_size=len(VOCAB), hidden_size=16, num_hidden_layers=1,
                         num_attention_heads=2, intermediate_size=32,
                         max_position_embeddings=64)).save_pretrained(bert_dir)
    tokenizer.save_pretrained(bert_dir)
    word = models.Transformer(str(bert_dir), max_seq_length=32)
    model = SentenceTransformer(modules=[word, models.Pooling(16, pooling_mode="mean")])
    model.save(str(path / "st"))
    return path / "st"


def test_a_transformers_model_directory_works_as_the_generator(tiny_llama_dir, tmp_path):
    gen = TransformersGenerator(str(tiny_llama_dir), cache_dir=tmp_path)
    messages = [{"role": "user", "content": "the pump warranty"}]
    pieces = list(gen.stream(messages, max_new_tokens=5, temperature=0.0))
    assert pieces, "a random model still produces tokens"
    again = list(gen.stream(messages, max_new_tokens=5, temperature=0.0))
    assert again == pieces, "temperature 0 is repeatable"
    assert gen.count_tokens("the pump warranty") == 3
    assert not (tmp_path / "models").exists(), "only GGUF files are converted"


def test_closing_the_stream_stops_generation(tiny_llama_dir, tmp_path):
    gen = TransformersGenerator(str(tiny_llama_dir), cache_dir=tmp_path)
    stream = gen.stream([{"role": "user", "content": "hello"}], max_new_tokens=2000,
                        temperature=0.0)
    next(stream)
    stream.close()  # joins the generation thread: returns only once generation stopped


def test_a_sentence_transformers_directory_works_as_the_embedder(tiny_embedder_dir):
    emb = SentenceTransformerEmbeddings(str(tiny_embedder_dir))
    vectors = emb.embed_documents(["the pump warranty", "red button reset"])
    assert len(vectors) == 2 and len(vectors[0]) == 16
    assert abs(sum(v * v for v in vectors[0]) - 1.0) < 1e-4, "normalised"
    assert emb.max_tokens == 32
    assert emb.count_tokens("the pump warranty") == 3


def test_an_unreachable_hub_id_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="HF_HUB_OFFLINE=0"):
        SentenceTransformerEmbeddings("someone/not-downloaded-model").model
    with pytest.raises(ModelError, match="HF_HUB_OFFLINE=0"):
        TransformersGenerator("someone/not-downloaded-llm", cache_dir=tmp_path).load()
