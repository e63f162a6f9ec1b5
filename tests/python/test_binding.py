"""The C API from a second language (ctypes). Run by CTest; exits 77 (skip) without the model."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
import vkstream  # noqa: E402

model_path = os.environ.get("VKS_TEST_MODEL",
                            os.path.expanduser("~/.cache/vkstream/models/SmolLM2-135M-Instruct.Q4_1.gguf"))

# Errors come back as exceptions carrying the status and message.
try:
    vkstream.Model("/nonexistent/model.gguf")
    sys.exit("loading a missing file did not raise")
except vkstream.Error as e:
    assert e.status == 2, e
print("vkstream", vkstream.version())

if not os.path.exists(model_path):
    print("SKIPPED: model not found:", model_path)
    sys.exit(77)

with vkstream.Model(model_path) as m:
    ids = m.tokenize("The capital of France is")
    assert m.detokenize(ids) == "The capital of France is", m.detokenize(ids)
    with m.session(n_sink=4, n_window=60, temperature=0) as s:
        s.feed(ids)
        out = s.generate(8)
        text = "".join(p for _, p in out)
        print(repr(text))
        assert len(out) >= 1 and "Paris" in text, text
        st = s.stats()
        assert st["n_past"] == len(ids) + len(out), st
        assert st["n_cached"] <= 64, st
        try:
            s.feed([10 ** 6])
            sys.exit("an out-of-range token id did not raise")
        except vkstream.Error as e:
            assert e.status == 1, e
print("python binding: ok")
