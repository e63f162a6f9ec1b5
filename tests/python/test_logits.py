"""Session.logits() equals, bit for bit, what a C program gets from vks_session_logits for the
same tokens and cache shape (tests/python/capi_logits.c); generate() at temperature 0 prints what
`vkstream run` prints."""
import re
import subprocess

import numpy as np

import vkstream

VALIDATION = re.compile(r"\[vulkan (error|warning)\]")


def test_logits_bit_for_bit_with_the_c_api(model, model_path, capi_logits_exe, tmp_path):
    # 4 sinks + 16 window slots, chunks of 7: the 45 tokens wrap the ring twice, mid-chunk.
    ids = model.tokenize("It is a truth universally acknowledged, that a single man in possession of a good "
                         "fortune, must be in want of a wife. However little known the feelings or views")
    assert len(ids) > 30
    out = tmp_path / "logits.f32"
    proc = subprocess.run([capi_logits_exe, model_path, str(out), "4", "16", "7", *map(str, ids)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert not VALIDATION.search(proc.stderr), proc.stderr
    c_logits = np.fromfile(out, dtype=np.float32)
    with vkstream.Session(model, n_sink=4, n_window=16, n_batch=7) as s:
        s.feed(ids)
        py_logits = s.logits()
    assert c_logits.shape == py_logits.shape == (model.info.n_vocab,)
    assert np.array_equal(c_logits.view(np.uint32), py_logits.view(np.uint32))


def test_generate_greedy_equals_vkstream_run(model, model_path, cli_exe):
    prompt, n = "Once upon a time, in a small village,", 24
    proc = subprocess.run([cli_exe, "run", "-m", model_path, "-p", prompt, "-n", str(n), "--temp", "0",
                           "--sink", "4", "--window", "60"], capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    assert not VALIDATION.search(proc.stderr.decode(errors="replace"))
    cli_text = proc.stdout.decode()
    assert cli_text.startswith(prompt) and cli_text.endswith("\n")
    with vkstream.Session(model, n_sink=4, n_window=60, temperature=0) as s:
        s.feed(model.tokenize(prompt, parse_special=True))  # as `run` tokenizes its prompt
        pieces = list(s.generate(n))
    assert len(pieces) == n  # no end token in this continuation
    assert prompt + "".join(p for _, p in pieces) + "\n" == cli_text


def test_quantized_cache_types_reach_the_library(model, model_path, capi_logits_exe, tmp_path):
    # cache_type_k / cache_type_v land in vks_session_params: the KV bytes shrink as the types
    # say, and q8_0 keys and values change the logits only a little (the ring wraps: 4 + 16 slots).
    ids = model.tokenize("It is a truth universally acknowledged, that a single man in possession of a good "
                         "fortune, must be in want of a wife.")
    got = {}
    for k, v in (("f16", "f16"), ("q8_0", "q8_0"), ("q8_0", "q4_0")):
        with vkstream.Session(model, n_sink=4, n_window=16, n_batch=7, cache_type_k=k, cache_type_v=v) as s:
            s.feed(ids)
            got[k, v] = (s.stats().kv_bytes, s.logits())
    f16_bytes, f16_logits = got["f16", "f16"]
    q8_bytes, q8_logits = got["q8_0", "q8_0"]
    assert q8_bytes < 0.6 * f16_bytes
    assert got["q8_0", "q4_0"][0] < q8_bytes
    assert not np.array_equal(q8_logits, f16_logits)  # the cache really is quantized
    assert int(q8_logits.argmax()) == int(f16_logits.argmax())
    rel = float(np.linalg.norm(q8_logits - f16_logits) / np.linalg.norm(f16_logits))
    assert rel < 0.05, rel


def test_cache_rotate_reaches_the_library(model):
    # cache_rotate lands in vks_session_params: with q4_0 keys and values, the rotated cache gives
    # other logits than the plain one (the rows are quantized in another basis), both near f16.
    # Judged over the last 8 predictions: with a 16-slot window a 4-bit cache moves this model's
    # logits a lot, and one position alone swings as single codes flip (measured, mean relative
    # distance to f16: rotated 0.30, plain 0.32; rotated top-1 agreement 7 of 8).
    ids = model.tokenize("It is a truth universally acknowledged, that a single man in possession of a good "
                         "fortune, must be in want of a wife.")
    got = {}
    for kind, rotate in (("f16", False), ("q4_0", False), ("q4_0", True)):
        with vkstream.Session(model, n_sink=4, n_window=16, n_batch=7, cache_type_k=kind, cache_type_v=kind,
                              cache_rotate=rotate) as s:
            s.feed(ids[:-8])
            rows = []
            for t in ids[-8:]:
                s.feed([t])
                rows.append(s.logits())
            got[kind, rotate] = np.stack(rows)
    f16 = got["f16", False]
    assert not np.array_equal(got["q4_0", True], got["q4_0", False])
    for key in (("q4_0", True), ("q4_0", False)):
        assert np.all(np.isfinite(got[key]))
        rel = float(np.mean(np.linalg.norm(got[key] - f16, axis=1) / np.linalg.norm(f16, axis=1)))
        agree = float(np.mean(got[key].argmax(axis=1) == f16.argmax(axis=1)))
        assert rel < 0.45 and agree >= 0.5, (key, rel, agree)
