#!/usr/bin/env python3
"""Prints the expected token ids hard-coded in tests/unit/test_tokenizer_smollm2.cpp.

Independent reference: the Hugging Face `tokenizers` library (pip install tokenizers gguf),
configured like SmolLM2's tokenizer.json: BPE over the GGUF vocab + merges, pre-tokenizer
Sequence[Digits(individual_digits=True), ByteLevel(add_prefix_space=False, use_regex=True)],
and every control token (token_type 3) registered as a special added token.

Usage: python3 tools/tokenizer_ground_truth.py MODEL.gguf
"""
import sys

from gguf import GGUFReader
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

# Keep in sync with k_cases in tests/unit/test_tokenizer_smollm2.cpp.
CASES = [
    "Hello world",
    "The quick brown fox jumps over the lazy dog.",
    "Café crème brûlée, naïve façade",
    "日本語のテキストと中文",
    "Emoji: 🙂👍🏽 done",
    "\n\n\n",
    "   x",
    "a  b   c\t\td \n e",
    "12345678",
    "Version 3.14, 2024-06-01: +42%",
    "def f(x):\n    return x**2  # square\n",
    "don't I'll we've they're it's",
    "DON'T YOU'LL",
    "<|im_start|>user\nhi<|im_end|>\n",
    "Привет, мир! Γειά σου κόσμε. 안녕하세요 مرحبا",
    "trailing spaces   ",
]


def c_escape(s):
    """C++ string literal; non-ASCII text stays as UTF-8 (source files are UTF-8)."""
    named = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}
    return '"' + "".join(named.get(c, c) for c in s) + '"'


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    r = GGUFReader(sys.argv[1])
    tokens = r.fields["tokenizer.ggml.tokens"].contents()
    types = r.fields["tokenizer.ggml.token_type"].contents()
    merges = r.fields["tokenizer.ggml.merges"].contents()
    vocab = {t: i for i, t in enumerate(tokens)}
    bpe = models.BPE(vocab=vocab, merges=[tuple(m.split(" ", 1)) for m in merges])
    tok = Tokenizer(bpe)
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False)
                            for t, ty in zip(tokens, types) if ty == 3])
    for s in CASES:
        ids = tok.encode(s, add_special_tokens=False).ids
        assert tok.decode(ids, skip_special_tokens=False) == s, s
        print(f"    {{{c_escape(s)},\n     {{{', '.join(map(str, ids))}}}}},")


if __name__ == "__main__":
    main()
