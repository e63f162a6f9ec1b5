#!/usr/bin/env python3
"""Prints the expected pre-tokenizer splits hard-coded in tests/unit/test_tokenizer_pretokenize.cpp.

Independent reference: the Hugging Face `tokenizers` library (pip install tokenizers), whose
Split pre-tokenizer runs the real regexes (Oniguruma), and Digits(individual_digits) for the
digit isolation SmolLM uses before the GPT-2 regex.

Usage: python3 tools/pretokenize_ground_truth.py
"""
from tokenizers import Regex, pre_tokenizers

GPT2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
LLAMA3 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
          r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2 = LLAMA3.replace(r"\p{N}{1,3}", r"\p{N}")

# Keep in sync with k_texts in tests/unit/test_tokenizer_pretokenize.cpp.
TEXTS = [
    "Hello, world! It's 2024 -- ok?\n\n  Indented\tTab  ",
    "don't DON'T I'M we'Re 'tis",
    "   x\n\n\ny",
    "123456789 a1b22c333",
    "Ünïcödé Ελληνικά русский 中文字符 한국어",
    "foo!!!\n\nbar  \r\n baz",
    "emoji 🙂🙂 x",
    " ½ Ⅻ ٣٤ x",
]


def split(pattern):
    return pre_tokenizers.Split(Regex(pattern), behavior="isolated")


STYLES = {
    "gpt2": split(GPT2),
    "digits_then_gpt2": pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), split(GPT2)]),
    "llama3": split(LLAMA3),
    "qwen2": split(QWEN2),
}


def c_escape(s):
    named = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}
    return '"' + "".join(named.get(c, c) for c in s) + '"'


def main():
    for name, pt in STYLES.items():
        print(f"// {name}")
        for t in TEXTS:
            pieces = [p for p, _ in pt.pre_tokenize_str(t)]
            assert "".join(pieces) == t
            print(f"    {{PreStyle::{name}, {c_escape(t)},\n     {{{', '.join(map(c_escape, pieces))}}}}},")


if __name__ == "__main__":
    main()
