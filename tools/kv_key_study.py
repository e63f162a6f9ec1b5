#!/usr/bin/env python3
"""Attention error of quantized-K schemes on a model's real keys and queries (docs/STREAMING.md,
"Calibrated rotation"). Reads the dump of tools/kv_key_study.cpp (vks_kv_key_study) and, per
layer and head, compares the attention probabilities of queries over their causal view (RoPE at
stream positions) with exact keys against the keys after each scheme's q4_0 round trip (blocks of
32, d = f16(vmax / -8), codes round-half-even): mean KL(exact || scheme) over the sampled queries.

    tools/kv_key_study.py DUMP_DIR [--queries FROM:TO:STEP] [--calib FROM:TO]

--calib: the tokens the centre and scale are estimated from (default 1:65, the first token left
out); --queries: which queries are scored (default 200:N:7). numpy only.
"""
import argparse
import numpy as np


def hadamard(n):
    h = np.array([[1.0]])
    while h.shape[0] < n:
        h = np.block([[h, h], [h, -h]])
    return h / np.sqrt(n)


def f16(x):
    return x.astype(np.float16).astype(np.float64)


def q4_0(x):
    """Round trip of rows (..., head_dim) through q4_0 blocks of 32 (kv/cache_types.hpp)."""
    shape = x.shape
    b = x.reshape(-1, 32)
    vmax = b[np.arange(len(b)), np.argmax(np.abs(b), axis=1)]
    d = f16(vmax / -8.0)
    inv = np.divide(1.0, d, out=np.zeros_like(d), where=d != 0)
    q = np.clip(np.rint(b * inv[:, None]), -8, 7)
    return (q * d[:, None]).reshape(shape)


def rope(x, pos, theta, neox):
    hd = x.shape[1]
    half = hd // 2
    ang = pos[:, None] * theta ** (-np.arange(half) * 2.0 / hd)[None, :]
    c, s = np.cos(ang), np.sin(ang)
    y = x.copy()
    if neox:
        a, b = x[:, :half], x[:, half:]
        y[:, :half], y[:, half:] = a * c - b * s, a * s + b * c
    else:
        a, b = x[:, 0::2], x[:, 1::2]
        y[:, 0::2], y[:, 1::2] = a * c - b * s, a * s + b * c
    return y


def pair_mean(x, neox):
    y = x.copy()
    if neox:
        h = len(x) // 2
        y[:h] = y[h:] = (x[:h] + x[h:]) / 2
    else:
        y[0::2] = y[1::2] = (x[0::2] + x[1::2]) / 2
    return y


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dump")
    ap.add_argument("--queries", default=None)
    ap.add_argument("--calib", default="1:65")
    args = ap.parse_args()
    meta = {}
    for line in open(f"{args.dump}/meta.txt"):
        k, *v = line.split()
        meta[k] = v
    T, L = int(meta["n_tokens"][0]), int(meta["n_layer"][0])
    H, KV, hd = int(meta["n_head"][0]), int(meta["n_head_kv"][0]), int(meta["head_dim"][0])
    neox, thetas = int(meta["neox"][0]), [float(t) for t in meta["theta"]]
    qf, qt, qs = (int(v) for v in (args.queries or f"200:{T}:7").split(":"))
    c0, c1 = (int(v) for v in args.calib.split(":"))
    Hd = hadamard(hd)
    names = ["q4_0", "q4_0 + rotation", "centred + rotation", "centred + scaled + rotation",
             "centred + scaled + rotation, f16 sinks"]
    kl = {n: [] for n in names}
    for l in range(L):
        a = np.fromfile(f"{args.dump}/l{l}.bin", dtype=np.float32).reshape(T, -1).astype(np.float64)
        Q = a[:, :H * hd].reshape(T, H, hd)
        K = a[:, H * hd:H * hd + KV * hd].reshape(T, KV, hd)
        pos = np.arange(T, dtype=np.float64)
        per = {n: [] for n in names}
        for kv in range(KV):
            k = K[:, kv, :]
            qg = Q[:, kv * (H // KV):(kv + 1) * (H // KV), :]
            m = k[c0:c1].mean(0)
            var = pair_mean(((k[c0:c1] - m) ** 2).mean(0), neox)
            eq = pair_mean((qg[c0:c1] ** 2).mean((0, 1)), neox)
            sc = np.where((var > 1e-30) & (eq > 1e-30), (eq / np.maximum(var, 1e-30)) ** 0.25, 1.0)
            sc /= np.sqrt((sc ** 2).mean())
            rot = lambda x: q4_0(x @ Hd.T) @ Hd
            cs = m + rot((k - m) * sc) / sc
            variants = {"q4_0": q4_0(k), "q4_0 + rotation": rot(k), "centred + rotation": m + rot(k - m),
                        "centred + scaled + rotation": cs,
                        "centred + scaled + rotation, f16 sinks": np.concatenate([k[:4], cs[4:]])}
            exact = rope(k, pos, thetas[l], neox)
            roped = {n: rope(v, pos, thetas[l], neox) for n, v in variants.items()}
            for h in range(kv * (H // KV), (kv + 1) * (H // KV)):
                for t in range(qf, qt, qs):
                    q = rope(Q[t:t + 1, h, :], np.array([float(t)]), thetas[l], neox)[0]
                    s = exact[:t + 1] @ q / np.sqrt(hd)
                    p = np.exp(s - s.max())
                    p /= p.sum()
                    for n in names:
                        s2 = roped[n][:t + 1] @ q / np.sqrt(hd)
                        p2 = np.exp(s2 - s2.max())
                        p2 /= p2.sum()
                        per[n].append(np.sum(p * (np.log(p + 1e-30) - np.log(p2 + 1e-30))))
        km, ks = K[1:].mean(0), K[1:].std(0)
        print(f"layer {l:2d}: mean-key energy / spread energy {np.sum(km ** 2) / np.sum(ks ** 2):5.2f}; "
              + "  ".join(f"{np.mean(per[n]):.2e}" for n in names), flush=True)
        for n in names:
            kl[n].append(np.mean(per[n]))
    print("mean attention KL over layers (exact keys || scheme):")
    for n in names:
        print(f"  {n:40s} {np.mean(kl[n]):.3e}")


if __name__ == "__main__":
    main()
