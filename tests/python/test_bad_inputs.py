"""Bad input raises vkstream.Error with the status the C API documents."""
import struct

import numpy as np
import pytest

import vkstream
from vkstream import Status


def raises(status, call):
    with pytest.raises(vkstream.Error) as e:
        call()
    assert e.value.status == status, e.value
    assert e.value.message
    return e.value


@pytest.mark.parametrize("contents,status", [
    (b"", Status.BAD_FORMAT),                                                                  # empty
    (b"not a gguf file at all" * 10, Status.BAD_FORMAT),                                       # wrong magic
    (b"GGUF" + struct.pack("<IQQ", 3, 1 << 60, 0), Status.BAD_FORMAT),                         # absurd tensor count
    (b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 1 << 62), Status.BAD_FORMAT),  # key past the end
    (b"GGUF" + struct.pack("<IQQ", 99, 0, 0), Status.UNSUPPORTED),                             # unknown version
], ids=["empty", "magic", "tensor_count", "key_length", "version"])
def test_hostile_model_files(tmp_path, contents, status):
    p = tmp_path / "hostile.gguf"
    p.write_bytes(contents)
    raises(status, lambda: vkstream.Model(p))


def test_truncated_model(tmp_path, model_path):
    p = tmp_path / "cut.gguf"
    with open(model_path, "rb") as f:
        p.write_bytes(f.read(1 << 20))  # header and metadata, tensor data cut off
    raises(Status.BAD_FORMAT, lambda: vkstream.Model(p))


def test_missing_files(tmp_path):
    raises(Status.IO, lambda: vkstream.Model(tmp_path / "nope.gguf"))
    raises(Status.IO, lambda: vkstream.Model(tmp_path))  # a folder


def test_out_of_range_tokens(model):
    n = model.info.n_vocab
    with model.session(n_window=16) as s:
        for bad in ([n], [-1], [5, n + 7, 6]):
            raises(Status.INVALID_ARGUMENT, lambda: s.feed(bad))
        assert s.stats().n_past == 0  # nothing was fed
        raises(Status.INVALID_ARGUMENT, lambda: s.feed([1 << 31]))       # not an int32: refused before C
        raises(Status.INVALID_ARGUMENT, lambda: s.feed([(1 << 32) + 5]))  # would wrap to 5 in C
        raises(Status.INVALID_ARGUMENT, lambda: s.feed([1 << 70]))
    raises(Status.INVALID_ARGUMENT, lambda: model.detokenize([n]))
    raises(Status.INVALID_ARGUMENT, lambda: model.is_end(1 << 40))


def test_wrong_types(model):
    with model.session(n_window=16) as s:
        for bad in ("hello", b"hi", [1.5, 2.0], [[1, 2], [3, 4]], [1, "a"], 5, None, [True, False],
                    np.array([1.0], dtype=np.float32), [[1], [2, 3]]):
            raises(Status.INVALID_ARGUMENT, lambda: s.feed(bad))
        s.feed(np.array([1, 2, 3], dtype=np.uint16))  # any integer array is fine
        for bad_out in (np.zeros(model.info.n_vocab, np.float64), np.zeros((2, model.info.n_vocab), np.float32),
                        np.zeros(2 * model.info.n_vocab, np.float32)[::2], [0.0] * model.info.n_vocab):
            raises(Status.INVALID_ARGUMENT, lambda: s.logits(out=bad_out))
        raises(Status.INVALID_ARGUMENT, lambda: s.logits(out=np.zeros(10, np.float32)))  # the library's size check
        raises(Status.INVALID_ARGUMENT, lambda: s.generate(1.5))
        raises(Status.INVALID_ARGUMENT, lambda: s.generate(-2).__next__())  # the library's range check
        raises(Status.INVALID_ARGUMENT, lambda: s.save(42))
    raises(Status.INVALID_ARGUMENT, lambda: model.tokenize(123))
    raises(Status.INVALID_ARGUMENT, lambda: model.tokenize("x", add_special=1))
    raises(Status.INVALID_ARGUMENT, lambda: model.chat_render("user: hi"))
    raises(Status.INVALID_ARGUMENT, lambda: model.chat_render([{"role": "user"}]))
    raises(Status.INVALID_ARGUMENT, lambda: model.chat_render([("user", 5)]))
    raises(Status.INVALID_ARGUMENT, lambda: vkstream.Model(3.14))
    raises(Status.INVALID_ARGUMENT, lambda: vkstream.Model("a\0b"))
    raises(Status.INVALID_ARGUMENT, lambda: vkstream.Model("x.gguf", device="gpu"))
    raises(Status.INVALID_ARGUMENT, lambda: vkstream.Session("model"))


def test_bad_session_params(model):
    raises(Status.INVALID_ARGUMENT, lambda: vkstream.Session(model, n_window=-1))      # would wrap to 2**32 - 1
    raises(Status.INVALID_ARGUMENT, lambda: vkstream.Session(model, n_batch="8"))
    raises(Status.INVALID_ARGUMENT, lambda: vkstream.Session(model, temperature="hot"))
    raises(Status.INVALID_ARGUMENT, lambda: vkstream.Session(model, seed=-5))
    raises(Status.INVALID_ARGUMENT, lambda: vkstream.Session(model, n_batch=0))        # the library's check
    raises(Status.INVALID_ARGUMENT, lambda: vkstream.Session(model, repeat_last_n=-1))  # the library's check
    raises(Status.INVALID_ARGUMENT, lambda: vkstream.Model("x.gguf", device=-2))      # the library's check
    raises(Status.INVALID_ARGUMENT, lambda: vkstream.Session(model, cache_type_k="q2_k"))
    raises(Status.INVALID_ARGUMENT, lambda: vkstream.Session(model, cache_type_v=1))


def test_bad_state_files(model, tmp_path):
    with model.session(n_window=16) as s:
        raises(Status.IO, lambda: s.load(tmp_path / "missing.state"))
        junk = tmp_path / "junk.state"
        junk.write_bytes(b"\x00garbage" * 100)
        raises(Status.BAD_FORMAT, lambda: s.load(junk))
        s.feed([1, 2, 3])
        good = tmp_path / "good.state"
        s.save(good)
        cut = tmp_path / "cut.state"
        cut.write_bytes(good.read_bytes()[:-10])
        raises(Status.BAD_FORMAT, lambda: s.load(cut))
        assert s.stats().n_past == 3  # a refused load leaves the session as it was
        raises(Status.IO, lambda: s.save(tmp_path / "no" / "such" / "dir" / "x.state"))
