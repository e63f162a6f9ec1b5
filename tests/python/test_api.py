"""Model, tokens, chat, devices, session state: each wrapped C function against what the C API promises."""
import os
import re

import numpy as np
import pytest

import vkstream
from vkstream import _lib

HEADER = os.path.join(os.path.dirname(__file__), "..", "..", "include", "vkstream", "vkstream.h")


def test_every_c_api_function_is_bound():
    # The package declares every function of the public header (a new one must be wrapped too).
    with open(HEADER) as f:
        declared = set(re.findall(r"^VKS_API\b[^;]*?\b(vks_\w+)\s*\(", f.read(), re.S | re.M))
    assert len(declared) >= 25
    assert declared == set(_lib.SIGNATURES)


def test_status_values_match_the_header():
    with open(HEADER) as f:
        values = {m[0]: int(m[1]) for m in re.findall(r"\bVKS_(OK|ERR_\w+) = (\d+)", f.read())}
    assert values == {("OK" if s.name == "OK" else "ERR_" + s.name): s.value for s in vkstream.Status}


def test_version_and_status_strings():
    assert re.fullmatch(r"\d+\.\d+\.\d+", vkstream.version())
    assert vkstream.__version__ == vkstream.version()
    assert vkstream.status_string(vkstream.Status.IO) == "i/o error"
    assert vkstream.status_string(vkstream.Status.BUFFER_TOO_SMALL) == "buffer too small"
    e = vkstream.Error(vkstream.Status.CANCELLED, "stopped")
    assert e.status is vkstream.Status.CANCELLED and e.message == "stopped" and str(e) == "cancelled: stopped"


def test_devices():
    devs = vkstream.devices()
    assert devs, "no Vulkan device (lavapipe is installed by tools/setup.sh)"
    assert sum(d.selected for d in devs) == 1
    assert [d.index for d in devs] == list(range(len(devs)))
    assert all(d.name and d.type in ("discrete", "integrated", "virtual", "cpu", "other") for d in devs)
    assert vkstream.Model.devices() == devs


def test_model_info(model):
    i = model.info
    assert (i.architecture, i.n_vocab, i.n_layer, i.n_embd, i.head_dim) == ("llama", 49152, 30, 576, 64)
    assert i.n_ctx_train == 8192 and i.bos == 1 and i.eos == 2 and i.weight_bytes > 0


def test_tokenize_detokenize(model):
    text = "The capital of France is Paris. Ünïcödé → 東京"
    ids = model.tokenize(text)
    assert isinstance(ids, list) and all(isinstance(t, int) for t in ids)
    assert model.detokenize(ids) == text
    assert model.tokenize(text.encode()) == ids
    assert model.detokenize(np.asarray(ids, dtype=np.int64)) == text
    assert model.detokenize_bytes(ids) == text.encode()
    assert model.tokenize("") == [] and model.detokenize([]) == ""
    # A long text takes the BUFFER_TOO_SMALL retry path of the token buffer.
    long = "abc " * 3000
    assert model.detokenize(model.tokenize(long)) == long


def test_special_tokens(model):
    ids = model.tokenize("<|im_start|>user", parse_special=True)
    assert ids[0] == model.tokenize("<|im_start|>", parse_special=True)[0] and len(model.tokenize("<|im_start|>", parse_special=True)) == 1
    assert len(model.tokenize("<|im_start|>user", parse_special=False)) > len(ids)
    assert model.detokenize(ids) == "user"
    assert model.detokenize(ids, render_special=True) == "<|im_start|>user"
    assert model.is_end(model.info.eos) and not model.is_end(model.tokenize("Paris")[0])
    assert not model.is_end(10 ** 6)  # outside the vocabulary: not an end token (the C API's answer)


def test_chat_render(model):
    msgs = [{"role": "system", "content": "Be brief."}, ("user", "Hi!")]
    text = model.chat_render(msgs)
    assert "<|im_start|>system\nBe brief.<|im_end|>" in text and "<|im_start|>user\nHi!<|im_end|>" in text
    assert text.endswith("<|im_start|>assistant\n")
    assert not model.chat_render(msgs, add_generation_prompt=False).endswith("<|im_start|>assistant\n")
    big = model.chat_render([("user", "x" * 5000)])  # past the first buffer guess
    assert "x" * 5000 in big


def test_session_logits_sample_stats(model):
    with vkstream.Session(model, n_sink=4, n_window=28, n_batch=5, temperature=0) as s:
        ids = model.tokenize("The capital of France is")
        s.feed(ids)
        logits = s.logits()
        assert logits.dtype == np.float32 and logits.shape == (model.info.n_vocab,)
        assert np.isfinite(logits).all()
        assert s.sample() == int(np.argmax(logits))  # temperature 0: greedy
        out = np.zeros(model.info.n_vocab + 3, dtype=np.float32)
        view = s.logits(out=out)
        assert view.base is out and np.array_equal(view, logits)
        st = s.stats()
        assert (st.n_past, st.n_cached, st.n_sink, st.n_window) == (len(ids), len(ids), 4, 28)
        assert st.kv_bytes > 0 and st.device_bytes >= st.kv_bytes and st.n_prefill_tokens == len(ids)
        s.feed(list(range(100, 140)))  # past the cache: the ring rolls, memory stays
        st2 = s.stats()
        assert (st2.n_past, st2.n_cached, st2.kv_bytes) == (len(ids) + 40, 32, st.kv_bytes)
        s.reset()
        assert s.stats().n_past == 0
        with pytest.raises(vkstream.Error) as e:
            s.logits()  # nothing fed since the reset
        assert e.value.status == vkstream.Status.INVALID_ARGUMENT


def test_save_load_round_trip(model, tmp_path):
    path = tmp_path / "state.bin"
    with model.session(n_sink=4, n_window=60, temperature=0.9, seed=7) as s:
        s.feed(model.tokenize("Once upon a time"))
        s.save(path)
        first = [t for t, _ in s.generate(8)]
        s.load(str(path))
        assert [t for t, _ in s.generate(8)] == first  # same cache, position and sampler state
        with model.session(n_sink=4, n_window=30) as other:
            with pytest.raises(vkstream.Error) as e:
                other.load(path)  # another n_window
            assert e.value.status == vkstream.Status.INVALID_ARGUMENT


def test_closed_objects_raise(model_path):
    m = vkstream.Model(model_path)
    s = vkstream.Session(m, n_window=16)
    m.close()  # the session keeps the model alive
    s.feed([1, 2, 3])
    s.close()
    s.close()  # idempotent
    for call in (lambda: s.feed([1]), s.stats, s.logits, lambda: m.tokenize("x")):
        with pytest.raises(vkstream.Error) as e:
            call()
        assert e.value.status == vkstream.Status.INVALID_ARGUMENT and "closed" in e.value.message


def test_progress_callback(model_path):
    seen = []
    with vkstream.Model(model_path, progress=lambda f: seen.append(f)) as m:
        assert m.info.n_vocab == 49152
    assert seen and seen == sorted(seen) and seen[-1] == pytest.approx(1.0)
    with pytest.raises(vkstream.Error) as e:
        vkstream.Model(model_path, progress=lambda f: f > 0.3)
    assert e.value.status == vkstream.Status.CANCELLED

    def boom(_f):
        raise KeyError("from the callback")
    with pytest.raises(KeyError, match="from the callback"):
        vkstream.Model(model_path, progress=boom)
