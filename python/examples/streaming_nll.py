"""StreamingLLM with numpy: per-token NLL of a text under three caches (docs/PYTHON.md shows a run).
usage: python3 streaming_nll.py MODEL.gguf TEXT.txt [N_TOKENS]   (TEXT: e.g. tools/fetch_austen.sh)"""
import sys

import numpy as np

import vkstream

model_path, text_path = sys.argv[1], sys.argv[2]
n_tokens, cache = (int(sys.argv[3]) if len(sys.argv) > 3 else 512), 64
policies = {"dense (keeps all)": dict(n_sink=4, n_window=n_tokens, dense=True),
            f"sink 4 + window {cache - 4}": dict(n_sink=4, n_window=cache - 4),
            f"window-only 0 + {cache}": dict(n_sink=0, n_window=cache)}

with vkstream.Model(model_path) as model:
    ids = model.tokenize(open(text_path, encoding="utf-8").read(40_000))[:n_tokens]
    print(f"{len(ids)} tokens of {text_path}; the small caches hold {cache} tokens\n")
    print("| policy | PPL, all | PPL once the small caches evict | PPL, last 128 |\n|---|---|---|---|")
    for name, params in policies.items():
        nll, buf = np.empty(len(ids) - 1), np.empty(model.info.n_vocab, np.float32)
        with vkstream.Session(model, **params) as s:
            for i in range(len(ids) - 1):
                s.feed(ids[i:i + 1])              # one token: its logits predict the next
                z = s.logits(out=buf).astype(np.float64)
                nll[i] = np.log(np.exp(z - z.max()).sum()) + z.max() - z[ids[i + 1]]
        ppl = lambda x: float(np.exp(x.mean()))
        print(f"| {name} | {ppl(nll):.2f} | {ppl(nll[cache:]):.2f} | {ppl(nll[-128:]):.2f} |")
