#!/usr/bin/env python3
"""Independent NumPy forward pass of a llama / qwen2 / gemma3 GGUF model, for cross-checking
vks::ref::Model / Session (tests/unit/test_ref_forward.cpp hard-codes its output).

Dequantization uses the `gguf` Python package (pip install gguf numpy), not vkstream code;
the transformer math is written from the published model definitions: RMSNorm, RoPE on
adjacent pairs (2i, 2i+1) for llama GGUF files and on halves (i, i + n_rot/2) for qwen2 and
gemma3, grouped-query causal attention, SwiGLU (GELU-tanh GLU for gemma3) feed-forward, tied
or separate output matrix. qwen2 adds Q/K/V biases. gemma3 scales the embeddings by
sqrt(n_embd), RMS-normalizes each q/k head, normalizes the attention and FFN outputs before
the residual add (its GGUF norms already hold 1 + w), and its sliding-window layers see only
the last `sliding_window` tokens with RoPE base rope.freq_base_swa (default 10000).

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
    assert arch in ("llama", "qwen2", "gemma3"), f"unsupported architecture {arch}"
    gemma = arch == "gemma3"
    n_embd = field(f"{arch}.embedding_length")
    n_layer = field(f"{arch}.block_count")
    n_head = field(f"{arch}.attention.head_count")
    n_head_kv = field(f"{arch}.attention.head_count_kv", n_head)
    eps = field(f"{arch}.attention.layer_norm_rms_epsilon")
    base = field(f"{arch}.rope.freq_base", 10000.0)
    hd = field(f"{arch}.attention.key_length", n_embd // n_head)
    n_rot = field(f"{arch}.rope.dimension_count", hd)
    swa = field(f"{arch}.attention.sliding_window", 0) if gemma else 0
    period = field(f"{arch}.attention.sliding_window_pattern", 6)
    base_local = field(f"{arch}.rope.freq_base_swa", 10000.0)

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

    def rope(x, theta):  # x: (T, heads, hd)
        inv = theta ** (-np.arange(0, n_rot, 2) / n_rot)  # (n_rot/2)
        ang = pos * inv[None, :]  # (T, n_rot/2)
        c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
        x = x.copy()
        if arch == "llama":  # adjacent pairs
            i0, i1 = slice(0, n_rot, 2), slice(1, n_rot, 2)
        else:  # halves
            i0, i1 = slice(0, n_rot // 2), slice(n_rot // 2, n_rot)
        x0, x1 = x[:, :, i0].copy(), x[:, :, i1].copy()
        x[:, :, i0] = x0 * c - x1 * s
        x[:, :, i1] = x0 * s + x1 * c
        return x

    def gelu_tanh(g):
        return 0.5 * g * (1 + np.tanh(np.sqrt(2 / np.pi) * (g + 0.044715 * g ** 3)))

    x = emb[ids]  # (T, n_embd)
    if gemma:
        x = x * np.sqrt(n_embd)
    qi, ki = np.arange(T)[:, None], np.arange(T)[None, :]
    causal = np.where(ki <= qi, 0.0, -np.inf)
    sliding = np.where((ki <= qi) & (qi - ki < max(swa, 1)), 0.0, -np.inf)
    group = n_head // n_head_kv
    for il in range(n_layer):
        p = f"blk.{il}."
        local = gemma and swa > 0 and (il + 1) % period != 0
        mask = sliding if local else causal
        h = rmsnorm(x, W(p + "attn_norm.weight"))
        q = h @ W(p + "attn_q.weight").T
        k = h @ W(p + "attn_k.weight").T
        v = h @ W(p + "attn_v.weight").T
        if arch == "qwen2":
            q, k, v = q + W(p + "attn_q.bias"), k + W(p + "attn_k.bias"), v + W(p + "attn_v.bias")
        q, k, v = q.reshape(T, n_head, hd), k.reshape(T, n_head_kv, hd), v.reshape(T, n_head_kv, hd)
        if gemma:
            q = rmsnorm(q, W(p + "attn_q_norm.weight"))
            k = rmsnorm(k, W(p + "attn_k_norm.weight"))
        theta = base_local if local else base
        q, k = rope(q, theta), rope(k, theta)
        att = np.zeros((T, n_head, hd))
        for hh in range(n_head):
            kh = hh // group
            s = q[:, hh, :] @ k[:, kh, :].T / np.sqrt(hd) + mask
            s = np.exp(s - s.max(axis=1, keepdims=True))
            s /= s.sum(axis=1, keepdims=True)
            att[:, hh, :] = s @ v[:, kh, :]
        o = att.reshape(T, n_head * hd) @ W(p + "attn_output.weight").T
        if gemma:
            o = rmsnorm(o, W(p + "post_attention_norm.weight"))
        x = x + o
        h = rmsnorm(x, W(p + "ffn_norm.weight"))
        g = h @ W(p + "ffn_gate.weight").T
        u = h @ W(p + "ffn_up.weight").T
        act = gelu_tanh(g) if gemma else g / (1 + np.exp(-g))
        o = (act * u) @ W(p + "ffn_down.weight").T
        if gemma:
            o = rmsnorm(o, W(p + "post_ffw_norm.weight"))
        x = x + o

    logits = rmsnorm(x[-1], W("output_norm.weight")) @ out_w.T
    top = np.argsort(-logits)[:5]
    print("// top-5 {id, logit} after tokens", ids)
    print("{" + ", ".join(f"{{{i}, {logits[i]:.4f}f}}" for i in top) + "}")
    probe = [i for i in [0, 1, 2, 100, 1000, 10000, 40000] if i < len(logits)]
    print("// logits of ids", probe)
    print("{" + ", ".join(f"{logits[i]:.4f}f" for i in probe) + "}")


if __name__ == "__main__":
    main()
