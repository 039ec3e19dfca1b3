"""Backend selection and the OpenAI-compatible client's failure modes (loopback only).

A real `transformers serve` process is exercised in tests/e2e/test_openai_server.py.
"""

import math
import socket

import pytest

from chat.config import DEFAULT_PARALLEL, DEFAULT_THREADS
from chat.generators.factory import make_generator
from chat.generators.hf import TransformersGenerator
from chat.generators.llamacpp import LlamaCppGenerator
from chat.generators.openai_compat import OpenAICompatibleGenerator
from chat.settings import load_settings
from evals.servers import free_port
from ingest.errors import ConfigError, ModelError

MESSAGES = [{"role": "user", "content": "hi"}]


def test_openai_backend_needs_a_url_and_a_model_name(tmp_path):
    with pytest.raises(ConfigError, match="generator.base_url"):
        load_settings(data_dir=tmp_path, generator={"backend": "openai", "model": "m"})
    with pytest.raises(ConfigError, match="model name the server serves"):
        load_settings(data_dir=tmp_path,
                      generator={"backend": "openai", "base_url": "http://127.0.0.1:1/v1"})


def test_each_backend_is_built_from_configuration(tmp_path):
    def build(**generator):
        settings = load_settings(data_dir=tmp_path, generator=generator)
        return make_generator(settings.generator, tmp_path)

    default = build()
    assert isinstance(default, LlamaCppGenerator) and default.model_name == "bundled"
    assert (default.threads, default.parallel) == (DEFAULT_THREADS, DEFAULT_PARALLEL)
    tuned = build(threads=1, parallel=3, model="smollm2-135m")
    assert (tuned.threads, tuned.parallel, tuned.model_name) == (1, 3, "smollm2-135m")
    assert type(build(backend="transformers")) is TransformersGenerator
    remote = build(backend="openai", base_url="http://127.0.0.1:9/v1/", model="m",
                   api_key="secret", timeout_s=3)
    assert isinstance(remote, OpenAICompatibleGenerator)
    assert (remote.base_url, remote.api_key, remote.timeout_s) == (
        "http://127.0.0.1:9/v1", "secret", 3)


def test_a_gpu_device_needs_the_transformers_backend(tmp_path):
    with pytest.raises(ConfigError, match='needs backend "transformers"'):
        load_settings(data_dir=tmp_path, generator={"device": "cuda"})
    settings = load_settings(data_dir=tmp_path,
                             generator={"device": "cuda", "backend": "transformers"})
    assert settings.generator.device == "cuda"


def test_llamacpp_needs_a_gguf_file(tmp_path):
    with pytest.raises(ModelError, match='needs a GGUF file.*backend = "transformers"'):
        LlamaCppGenerator(str(tmp_path / "some-model-dir"), cache_dir=tmp_path,
                          context_tokens=512, max_new_tokens=8).load()
    with pytest.raises(ModelError, match="GGUF file not found"):
        LlamaCppGenerator(str(tmp_path / "gone.gguf"), cache_dir=tmp_path,
                          context_tokens=512, max_new_tokens=8).load()


def test_the_removed_onnx_backend_is_named_at_start(tmp_path):
    with pytest.raises(ConfigError, match='"onnx" was removed.*"llamacpp"'):
        load_settings(data_dir=tmp_path, generator={"backend": "onnx"})


def test_a_server_that_is_down_is_a_clear_error():
    gen = OpenAICompatibleGenerator(f"http://127.0.0.1:{free_port()}/v1", "m", timeout_s=2)
    with pytest.raises(ModelError, match="Cannot reach the generator server.*generator.base_url"):
        list(gen.stream(MESSAGES, max_new_tokens=4, temperature=0))


def test_a_server_that_never_answers_times_out_instead_of_hanging():
    with socket.socket() as listener:  # accepts connections, never replies
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
        gen = OpenAICompatibleGenerator(url, "m", timeout_s=1)
        with pytest.raises(ModelError, match="did not answer within 1 s"):
            list(gen.stream(MESSAGES, max_new_tokens=4, temperature=0))


def test_without_a_tokenizer_tokens_are_over_estimated():
    gen = OpenAICompatibleGenerator("http://127.0.0.1:9/v1", "m")
    assert gen.count_tokens("abcdefgh") == 3  # 8 bytes / 3, rounded up


class _PieceTokenizer:
    """Decodes ids by joining pieces. "€" takes two tokens, 6 then 9: 6 alone decodes to
    the replacement character, as half a UTF-8 character does."""
    PIECES = {1: "The", 2: " pump", 3: " costs", 4: " ", 5: "5", 7: ".", 8: " ok"}

    def decode(self, ids, **_):
        return "".join("€" if i == 6 and n + 1 < len(ids) else
                       "\ufffd" if i == 6 else "" if i == 9 else self.PIECES[i]
                       for n, i in enumerate(ids))


def test_the_transformers_stream_hands_on_each_token_as_it_decodes():
    import torch
    from transformers import TextIteratorStreamer

    from chat.generators.hf import _token_streamer

    streamer = _token_streamer(TextIteratorStreamer)(_PieceTokenizer(), skip_prompt=True)
    seen = []
    for ids in ([[1, 2]], [1], [2], [3], [4], [5], [6], [9], [7], [8]):
        streamer.put(torch.tensor(ids))
        seen.append(streamer.text_queue.qsize())
    streamer.end()
    pieces = list(streamer)
    # the prompt is skipped; a word is handed on at once, a trailing space and half a
    # character wait for the next token
    assert seen == [0, 1, 2, 3, 3, 4, 4, 5, 6, 7]
    assert "".join(pieces) == "The pump costs 5€. ok"
    assert pieces[:4] == ["The", " pump", " costs", " 5"]


def _token(text, p, *others, id=1):
    tops = [{"id": id, "token": text, "logprob": math.log(p)}] + [
        {"id": id + 1 + i, "token": t, "logprob": math.log(q)} for i, (t, q) in enumerate(others)]
    return {"id": id, "token": text, "logprob": math.log(p), "top_logprobs": tops}


def test_a_tokens_margin_is_its_probability_over_the_likeliest_other_candidate():
    from chat.generators.llamacpp import _margin

    assert _margin(_token("Seven", 0.7, (" The", 0.2))) == pytest.approx(0.5)
    assert _margin(_token("Seven", 0.2, (" The", 0.7))) == pytest.approx(-0.5), "sampled"
    assert _margin(_token("Seven", 0.9)) == pytest.approx(0.9), "no runner-up reported"
    # A token that completes a character carries the held-back bytes in its text, not in
    # its candidate's: the ids tell them apart.
    split = _token("é", 0.8, ("\ufffd", 0.1))
    split["top_logprobs"][0]["token"] = "\ufffd"
    assert _margin(split) == pytest.approx(0.7)


class _FakeLlamaServer:
    """Calls the stream's callback with chunks shaped like llama.cpp's."""

    def __init__(self, chunks):
        self.chunks, self.bodies = chunks, []

    def handle_chat_completions(self, body, callback):
        self.bodies.append(body)
        for chunk in self.chunks:
            if callback(chunk):
                return


def test_llamacpp_bounds_its_memory_of_earlier_prompts(tmp_path, monkeypatch):
    """llama.cpp keeps earlier prompts' states in RAM, by default up to 8 GiB: a server
    answering distinct questions grew ~17 MB per question with the 1.5B model."""
    import xllamacpp

    from chat.generators.llamacpp import PROMPT_CACHE_MIB

    given = []
    monkeypatch.setattr(xllamacpp, "Server", lambda params: given.append(params) or object())
    gen = LlamaCppGenerator(str(tmp_path / "m.gguf"), cache_dir=tmp_path, context_tokens=512,
                            max_new_tokens=16)
    gen.__dict__["model_path"] = tmp_path / "m.gguf"  # no model file needed
    assert gen._server is not None
    assert given[0].cache_ram_mib == PROMPT_CACHE_MIB <= 512
    assert given[0].ui is False and given[0].api_keys  # and still its private socket's key
    gen.close()
    measured = LlamaCppGenerator(str(tmp_path / "m.gguf"), cache_dir=tmp_path,
                                 context_tokens=512, max_new_tokens=16, prompt_cache_mib=64)
    measured.__dict__["model_path"] = tmp_path / "m.gguf"
    assert measured._server is not None and given[1].cache_ram_mib == 64  # evals prompt-cache
    measured.close()


def _llamacpp_streaming(tmp_path, chunks):
    gen = LlamaCppGenerator(str(tmp_path / "m.gguf"), cache_dir=tmp_path, context_tokens=512,
                            max_new_tokens=16)
    gen.__dict__["_server"] = server = _FakeLlamaServer(chunks)  # no model loaded
    return gen, server


def test_llamacpp_pieces_carry_their_tokens_margins(tmp_path):
    def chunk(content=None, tokens=()):
        delta = {"content": content} if content is not None else {"role": "assistant"}
        return {"choices": [{"delta": delta, "logprobs": {"content": list(tokens)}}]}

    gen, server = _llamacpp_streaming(tmp_path, [
        chunk(tokens=[_token("Seven", 0.9, (" The", 0.1))]),  # the first token's, before text
        chunk("Seven"),
        chunk(" years", [_token(" years", 0.6, (" days", 0.3))]),
        chunk(".")])  # text without logprobs
    pieces = list(gen.stream([{"role": "user", "content": "How long?"}], max_new_tokens=8,
                             temperature=0.0))
    assert "".join(pieces) == "Seven years."
    assert [p.margins for p in pieces] == [pytest.approx((0.8,)), pytest.approx((0.3,)), ()]
    assert server.bodies[0]["logprobs"] is True and server.bodies[0]["top_logprobs"] == 2


def test_a_chunk_whose_logprobs_cannot_be_read_loses_only_its_margins(tmp_path):
    odd = {"choices": [{"delta": {"content": "Seven"},
                        "logprobs": {"content": [{"token": "Seven", "prob": 0.9}]}}]}
    gen, _ = _llamacpp_streaming(tmp_path, [odd, {"choices": [{"delta": {"content": " years."}}]}])
    pieces = list(gen.stream([{"role": "user", "content": "How long?"}], max_new_tokens=8,
                             temperature=0.0))
    assert "".join(pieces) == "Seven years." and pieces[0].margins == ()
