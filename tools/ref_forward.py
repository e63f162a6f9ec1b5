#!/usr/bin/env python3
"""Independent NumPy forward pass of a llama-architecture GGUF model, for cross-checking
vks::ref::Model / Session (tests/unit/test_ref_forward.cpp hard-codes its output).

Dequantization uses the `gguf` Python package (pip install gguf numpy), not vkstream code;
the transformer math is written from the published llama definition: RMSNorm, RoPE on
adjacent pairs (2i, 2i+1) as stored in llama GGUF files, grouped-query causal attention,
SwiGLU feed-forward, tied or separate output matrix.

Usage: tools/ref_forward.py MODEL.gguf TOKEN_ID [TOKEN_ID ...]
Prints the top-5 next-token ids and logits after the last token, and the logits of a few
fixed ids, as C++ initializers.
"""
import sys

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize


def main():
    path, ids = sys.argv[1], [int(a) for a in sys.argv[2:]]
    r = GGUFReader(path)

    def field(key, default=None):
        f = r.fields.get(key)
        return default if f is None else f.contents()

    arch = field("general.architecture")
    assert arch == "llama", f"only llama is implemented here, got {arch}"
    n_embd = field(f"{arch}.embedding_length")
    n_layer = field(f"{arch}.block_count")
    n_head = field(f"{arch}.attention.head_count")
    n_head_kv = field(f"{arch}.attention.head_count_kv", n_head)
    eps = field(f"{arch}.attention.layer_norm_rms_epsilon")
    base = field(f"{arch}.rope.freq_base", 10000.0)
    hd = n_embd // n_head
    n_rot = field(f"{arch}.rope.dimension_count", hd)

    tensors = {t.name: t for t in r.tensors}

    def W(name):
        t = tensors[name]
        # GGUF shape lists ne[0] first; dequantize returns the row-major (ne[1], ne[0]) array.
        return dequantize(t.data, t.tensor_type).astype(np.float64).reshape(
            [int(x) for x in reversed(t.shape)])

    emb = W("token_embd.weight")  # (n_vocab, n_embd)
    out_w = W("output.weight") if "output.weight" in tensors else emb

    def rmsnorm(x, w):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w

    T = len(ids)
    pos = np.arange(T)[:, None]
    inv = base ** (-np.arange(0, n_rot, 2) / n_rot)  # (n_rot/2)
    ang = pos * inv[None, :]  # (T, n_rot/2)
    cos, sin = np.cos(ang), np.sin(ang)

    def rope(x):  # x: (T, heads, hd), adjacent pairs
        x = x.copy()
        x0 = x[:, :, 0:n_rot:2].copy()
        x1 = x[:, :, 1:n_rot:2].copy()
        c, s = cos[:, None, :], sin[:, None, :]
        x[:, :, 0:n_rot:2] = x0 * c - x1 * s
        x[:, :, 1:n_rot:2] = x0 * s + x1 * c
        return x

    x = emb[ids]  # (T, n_embd)
    mask = np.triu(np.full((T, T), -np.inf), 1)
    group = n_head // n_head_kv
    for il in range(n_layer):
        p = f"blk.{il}."
        h = rmsnorm(x, W(p + "attn_norm.weight"))
        q = (h @ W(p + "attn_q.weight").T).reshape(T, n_head, hd)
        k = (h @ W(p + "attn_k.weight").T).reshape(T, n_head_kv, hd)
        v = (h @ W(p + "attn_v.weight").T).reshape(T, n_head_kv, hd)
        q, k = rope(q), rope(k)
        att = np.zeros((T, n_head, hd))
        for hh in range(n_head):
            kh = hh // group
            s = q[:, hh, :] @ k[:, kh, :].T / np.sqrt(hd) + mask
            s = np.exp(s - s.max(axis=1, keepdims=True))
            s /= s.sum(axis=1, keepdims=True)
            att[:, hh, :] = s @ v[:, kh, :]
        x = x + att.reshape(T, n_embd) @ W(p + "attn_output.weight").T
        h = rmsnorm(x, W(p + "ffn_norm.weight"))
        g = h @ W(p + "ffn_gate.weight").T
        u = h @ W(p + "ffn_up.weight").T
        x = x + ((g / (1 + np.exp(-g))) * u) @ W(p + "ffn_down.weight").T

    logits = rmsnorm(x[-1], W("output_norm.weight")) @ out_w.T
    top = np.argsort(-logits)[:5]
    print("// top-5 {id, logit} after tokens", ids)
    print("{" + ", ".join(f"{{{i}, {logits[i]:.4f}f}}" for i in top) + "}")
    probe = [0, 1, 2, 100, 1000, 10000, 40000]
    print("// logits of ids", probe)
    print("{" + ", ".join(f"{logits[i]:.4f}f" for i in probe) + "}")


if __name__ == "__main__":
    main()
