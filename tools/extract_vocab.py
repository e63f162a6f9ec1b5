#!/usr/bin/env python3
"""Dumps the tokenizer.* metadata of a GGUF model into a plain text file that the unit tests
load (tests/support/vocab_dump.cpp) until the library's GGUF reader is wired to the tokenizer.

Needs the PyPI package `gguf`. The dump is ~2 MB for SmolLM2: keep it out of git; by
default it goes to ~/.cache/vkstream/vocab/<model file stem>.vocab.txt.

Format (one record per line, strings hex-encoded UTF-8 bytes so any byte is safe):
    vks-vocab 1
    model <str>            pre <str>             chat_template <hex>
    bos|eos|eot|unk|pad <int>                    add_bos|add_eos|add_space_prefix <0|1>
    n_tokens <n>  then n lines: t <type> <score> <hex text>
    n_merges <m>  then m lines: m <hex "left right">

Usage: python3 tools/extract_vocab.py MODEL.gguf [OUT]
"""
import os
import sys

from gguf import GGUFReader


def field(reader, key, default=None):
    f = reader.fields.get(key)
    return default if f is None else f.contents()


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    path = sys.argv[1]
    stem = os.path.splitext(os.path.basename(path))[0]
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.expanduser(f"~/.cache/vkstream/vocab/{stem}.vocab.txt")
    r = GGUFReader(path)
    tokens = field(r, "tokenizer.ggml.tokens")
    if tokens is None:
        sys.exit(f"{path}: no tokenizer.ggml.tokens")
    scores = field(r, "tokenizer.ggml.scores") or [0.0] * len(tokens)
    types = field(r, "tokenizer.ggml.token_type") or [0] * len(tokens)
    merges = field(r, "tokenizer.ggml.merges") or []

    def hx(s):
        return s.encode("utf-8", "surrogateescape").hex()

    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        f.write("vks-vocab 1\n")
        f.write(f"model {field(r, 'tokenizer.ggml.model', '')}\n")
        f.write(f"pre {field(r, 'tokenizer.ggml.pre', 'default')}\n")
        for name in ("bos", "eos", "eot", "unk", "pad"):
            key = {"unk": "unknown", "pad": "padding"}.get(name, name)
            f.write(f"{name} {int(field(r, f'tokenizer.ggml.{key}_token_id', -1))}\n")
        f.write(f"add_bos {int(bool(field(r, 'tokenizer.ggml.add_bos_token', False)))}\n")
        f.write(f"add_eos {int(bool(field(r, 'tokenizer.ggml.add_eos_token', False)))}\n")
        f.write(f"add_space_prefix {int(bool(field(r, 'tokenizer.ggml.add_space_prefix', True)))}\n")
        f.write(f"chat_template {hx(field(r, 'tokenizer.chat_template', ''))}\n")
        f.write(f"n_tokens {len(tokens)}\n")
        for t, s, ty in zip(tokens, scores, types):
            f.write(f"t {int(ty)} {float(s)!r} {hx(t)}\n")
        f.write(f"n_merges {len(merges)}\n")
        for m in merges:
            f.write(f"m {hx(m)}\n")
    os.replace(tmp, out)
    print(out)


if __name__ == "__main__":
    main()
