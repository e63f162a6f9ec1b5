#!/usr/bin/env python3
"""Logit parity with an independent engine: vkstream against llama.cpp's CPU backend, teacher-forced,
per position, on the same GGUF and the same token ids (issue 18, item 4).

NOT part of CI: it needs llama.cpp's Python package (llama-cpp-python, built from its sdist outside
the repository by tools/llamacpp_venv.sh; minutes to compile) and minutes of CPU per model. Run it
through tools/parity.sh, or directly with the venv's Python:

    tools/compare_logits.py MODEL [--tokens 1024] [--engines gpu,gpu-decode,ref] [--f32] [--json FILE]

MODEL is a GGUF path or a name tools/fetch_model.sh knows (smollm2, gemma3).

Method:
  * text: public-domain Austen (tools/fetch_austen.sh), from its start (--skip CHARS to move on);
  * tokenized ONCE, by vkstream's tokenizer (vks_parity_probe tokenize), first --tokens ids kept;
    llama.cpp's tokenization of the same text is compared as a side check, but the ids fed to
    both engines are the same list;
  * vkstream: `vks_parity_probe logits`, dense attention (no eviction, window = --tokens):
      gpu         the Vulkan engine, chunks of 256 (prefill kernels)
      gpu-decode  the Vulkan engine, one token per step (decode kernels)
      ref         the CPU reference forward (lib/ref, plain f32 loops; slow)
  * llama.cpp: Llama(logits_all=True, n_ctx=--tokens), eval(ids): every position's logits; plain
    CPU kernels (no AMX or repacked weights: see llama_no_extra_buffers()).
  * per position i (logits after ids[0..i]): top-1 agreement, |logit difference| (mean over all
    entries, max), KL(llama.cpp || vkstream) of the softmaxes (mean, max), and each side's
    perplexity of ids[1..]. Each disagreement is listed with the logit gap between the two
    candidates in each engine (a near-tie flips on noise). Pairs: every vkstream engine against
    llama.cpp, and gpu against ref.
  * --f32: the same again on an F32 copy of the model written by `vkstream quantize IN OUT F32`
    (exact dequantization), so both engines multiply the same real-valued weights: what is
    left is engine arithmetic (llama.cpp quantizes activations to 8 bits for quantized weights;
    F32 weights avoid that), not quantization. It also prints a yardstick: llama.cpp on the
    quantized model against llama.cpp on the F32 copy (llama.cpp's own activation rounding).

Exit status: 0 when every vkstream engine's top-1 agreement with llama.cpp is >= --min-top1
(default 0.99) on the model, or with --f32 on its F32 copy (where both engines compute with the
same real-valued weights; the quantized figures are printed beside it), 1 otherwise.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, stdout=subprocess.PIPE, **kw).stdout


def model_path(name):
    if os.path.exists(name):
        return os.path.abspath(name)
    return sh([os.path.join(ROOT, "tools/fetch_model.sh"), name]).strip()


def probe_path():
    p = os.environ.get("VKS_PARITY_PROBE", os.path.join(ROOT, "build/apps/vks_parity_probe"))
    if not os.access(p, os.X_OK):
        sys.exit("compare_logits: %s not found: build it (cmake --build build --target vks_parity_probe)" % p)
    return p


def vks_tokenize(probe, model, texts, add_special=True, parse_special=False, tmp="."):
    """Token ids of each text from vkstream's tokenizer (GGUF metadata only, no device)."""
    cases = os.path.join(tmp, "cases.hex")
    with open(cases, "w") as f:
        for t in texts:
            f.write(t.encode("utf-8").hex() + "\n")
    cmd = [probe, "tokenize", model, cases]
    if not add_special:
        cmd.append("--no-add-special")
    if parse_special:
        cmd.append("--parse-special")
    lines = sh(cmd).split("\n")
    return [[int(x) for x in line.split()] for line in lines[:len(texts)]]


def austen_prefix(n_tokens, skip, probe, model, tmp):
    path = os.environ.get("TEXT") or sh([os.path.join(ROOT, "tools/fetch_austen.sh")]).strip()
    with open(path, encoding="utf-8") as f:
        text = f.read()[skip:]
    chars = n_tokens * 8
    while True:
        ids = vks_tokenize(probe, model, [text[:chars]], tmp=tmp)[0]
        if len(ids) > n_tokens + 8 or chars >= len(text):
            break
        chars *= 2
    if len(ids) < n_tokens:
        sys.exit("compare_logits: the text has only %d tokens" % len(ids))
    return path, text[:chars], ids[:n_tokens]


def vks_logits(probe, model, ids, engine, tmp):
    ids_path = os.path.join(tmp, "ids.txt")
    with open(ids_path, "w") as f:
        f.write(" ".join(map(str, ids)) + "\n")
    out = os.path.join(tmp, "logits-%s.f32" % engine)
    args = [probe, "logits", model, ids_path, out]
    args += {"gpu": ["--engine", "gpu", "--batch", "256"], "gpu-decode": ["--engine", "gpu", "--batch", "1"],
             "ref": ["--engine", "ref"]}[engine]
    print("compare_logits: vkstream %s ..." % engine, file=sys.stderr, flush=True)
    info = json.loads(sh(args).strip().split("\n")[-1])
    logits = np.fromfile(out, dtype=np.float32).reshape(len(ids), info["n_vocab"])
    os.unlink(out)
    return logits, info


def llama_no_extra_buffers():
    """Makes llama_cpp.Llama load weights without llama.cpp's "extra" CPU buffer types (AMX and
    repacked layouts), as its CLI's --no-repack does (use_extra_bufts = false). Reason: with
    0.3.36 built GGML_NATIVE on a CPU with AMX-INT8, the AMX matmul segfaults on Q4_1 weights
    (ggml_backend_amx_mul_mat, SmolLM2); the plain CPU kernels remain. Llama() takes no such
    argument, so its source of default model parameters is wrapped."""
    import llama_cpp.llama_cpp as api
    if getattr(api.llama_model_default_params, "_vks_no_extra", False):
        return
    default = api.llama_model_default_params

    def params():
        p = default()
        p.use_extra_bufts = False
        return p
    params._vks_no_extra = True
    api.llama_model_default_params = params


def llama_logits(model, ids, threads):
    import llama_cpp
    llama_no_extra_buffers()
    print("compare_logits: llama.cpp %s (CPU, %d threads) ..." % (llama_cpp.__version__, threads),
          file=sys.stderr, flush=True)
    t0 = time.time()
    llm = llama_cpp.Llama(model_path=model, n_ctx=len(ids), n_batch=min(512, len(ids)), n_ubatch=min(512, len(ids)),
                          logits_all=True, n_threads=threads, n_threads_batch=threads, n_gpu_layers=0, verbose=False)
    llm.eval(ids)
    logits = np.array(llm.scores[:len(ids)], dtype=np.float32, copy=True)
    secs = time.time() - t0
    info = {"engine": "llama.cpp", "version": llama_cpp.__version__, "device": "CPU", "threads": threads,
            "n_tokens": len(ids), "n_vocab": int(logits.shape[1]), "seconds": round(secs, 2)}
    return logits, info, llm


def log_softmax(x):
    x = x.astype(np.float64)
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def compare(a, b, ids, rows=64):
    """a: reference (llama.cpp), b: vkstream; both (n, n_vocab). Works in blocks of rows."""
    n = a.shape[0]
    agree = np.argmax(a, axis=1) == np.argmax(b, axis=1)
    abs_sum, abs_max, kl = 0.0, 0.0, np.zeros(n)
    nll_a, nll_b = np.zeros(n - 1), np.zeros(n - 1)
    for s in range(0, n, rows):
        e = min(n, s + rows)
        d = np.abs(a[s:e].astype(np.float64) - b[s:e])
        abs_sum += d.sum()
        abs_max = max(abs_max, float(d.max()))
        la, lb = log_softmax(a[s:e]), log_softmax(b[s:e])
        kl[s:e] = (np.exp(la) * (la - lb)).sum(axis=1)
        for i in range(s, min(e, n - 1)):
            nll_a[i], nll_b[i] = -la[i - s, ids[i + 1]], -lb[i - s, ids[i + 1]]
    # Each disagreement: how far apart the two candidates are in each engine's logits (both
    # small: a near-tie that engine noise flips).
    flips = []
    for i in np.nonzero(~agree)[0]:
        ta, tb = int(np.argmax(a[i])), int(np.argmax(b[i]))
        flips.append({"position": int(i), "ref_top1": ta, "vks_top1": tb, "ref_gap": float(a[i, ta] - a[i, tb]),
                      "vks_gap": float(b[i, tb] - b[i, ta])})
    return {"n": n, "top1_agreement": float(agree.mean()), "n_disagree": int((~agree).sum()),
            "mean_abs_diff": abs_sum / a.size, "max_abs_diff": abs_max,
            "ref_logit_rms": float(np.sqrt(np.mean(a.astype(np.float64) ** 2))),
            "mean_kl": float(kl.mean()), "max_kl": float(kl.max()),
            "ppl_ref": float(np.exp(nll_a.mean())), "ppl_vks": float(np.exp(nll_b.mean())), "disagreements": flips}


def run_model(model, args, probe, tmp):
    text_path, text, ids = austen_prefix(args.tokens, args.skip, probe, model, tmp)
    print("compare_logits: %s: %d tokens of %s" % (os.path.basename(model), len(ids), text_path), file=sys.stderr)
    ll, ll_info, llm = llama_logits(model, ids, args.threads)
    # Side check: llama.cpp's own tokenization of the same text (the engines still get one list).
    ll_ids = llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)
    n_common = min(len(ll_ids), len(ids))
    tok_same = ll_ids[:n_common] == ids[:n_common]
    del llm
    result = {"model": model, "text": text_path, "skip_chars": args.skip, "n_tokens": len(ids),
              "tokenizer_prefix_identical": tok_same, "engines": {"llama.cpp": ll_info}, "pairs": {}}
    got = {}
    for eng in args.engines:
        try:
            got[eng], info = vks_logits(probe, model, ids, eng, tmp)
        except subprocess.CalledProcessError as e:
            print("compare_logits: vkstream %s failed (exit %d); skipped" % (eng, e.returncode), file=sys.stderr)
            result["engines"][eng] = {"engine": eng, "error": "exit %d" % e.returncode}
            continue
        result["engines"][eng] = info
        if got[eng].shape != ll.shape:
            sys.exit("compare_logits: shapes differ: %s %s vs llama.cpp %s" % (eng, got[eng].shape, ll.shape))
        result["pairs"]["%s vs llama.cpp" % eng] = compare(ll, got[eng], ids)
    if "gpu" in got and "ref" in got:
        result["pairs"]["gpu vs ref"] = compare(got["ref"], got["gpu"], ids)
    return result, ids, ll, got


def print_result(r):
    print("model %s, %d tokens (%s from char %d); vkstream and llama.cpp tokenizations of the text %s"
          % (os.path.basename(r["model"]), r["n_tokens"], os.path.basename(r["text"]), r["skip_chars"],
             "identical" if r["tokenizer_prefix_identical"] else "DIFFER"))
    for name, e in r["engines"].items():
        print("  %-10s %s" % (name, ", ".join("%s %s" % (k, v) for k, v in e.items() if k != "engine")))
    print_pairs(r["pairs"])


def print_pairs(pairs):
    print("| pair | top-1 agreement | mean abs diff | max abs diff | logit RMS (first) | mean KL | max KL | PPL first / second |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, p in pairs.items():
        print("| %s | %.2f %% (%d/%d) | %.4f | %.4f | %.3f | %.2e | %.2e | %.4f / %.4f |"
              % (name, 100 * p["top1_agreement"], p["n"] - p["n_disagree"], p["n"], p["mean_abs_diff"],
                 p["max_abs_diff"], p["ref_logit_rms"], p["mean_kl"], p["max_kl"], p["ppl_ref"], p["ppl_vks"]))
    for name, p in pairs.items():
        for d in p["disagreements"][:20]:
            print("  %s: position %d: top-1 %d vs %d; logit gap between the two: %.4f (first), %.4f (second)"
                  % (name, d["position"], d["ref_top1"], d["vks_top1"], d["ref_gap"], d["vks_gap"]))
        if len(p["disagreements"]) > 20:
            print("  %s: ... %d more (all in --json)" % (name, len(p["disagreements"]) - 20))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", nargs="?", default="smollm2")
    ap.add_argument("--tokens", type=int, default=1024)
    ap.add_argument("--skip", type=int, default=0, help="start this many characters into the text")
    ap.add_argument("--engines", default="gpu,gpu-decode", help="comma list of gpu, gpu-decode, ref")
    ap.add_argument("--f32", action="store_true", help="also compare on an F32 copy of the model")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--min-top1", type=float, default=0.99)
    ap.add_argument("--json", help="write all figures (and every disagreement) to this file")
    args = ap.parse_args()
    args.engines = [e for e in args.engines.split(",") if e]
    for e in args.engines:
        if e not in ("gpu", "gpu-decode", "ref"):
            sys.exit("compare_logits: unknown engine '%s'" % e)
    if args.tokens < 2:
        sys.exit("compare_logits: --tokens must be at least 2")
    probe = probe_path()
    model = model_path(args.model)
    models = [model]
    if args.f32:
        f32 = os.path.join(os.path.dirname(model), os.path.splitext(os.path.basename(model))[0] + ".f32.gguf")
        if not os.path.exists(f32):
            print("compare_logits: writing %s" % f32, file=sys.stderr)
            sh([os.path.join(ROOT, "build/apps/vkstream"), "quantize", model, f32 + ".tmp", "F32"])
            os.replace(f32 + ".tmp", f32)
        models.append(f32)
    commit = sh(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]).strip()
    results, runs = [], []
    with tempfile.TemporaryDirectory(prefix="vks-parity-") as tmp:
        for m in models:
            r, ids, ll, got = run_model(m, args, probe, tmp)
            r["commit"] = commit
            print_result(r)
            results.append(r)
            runs.append((ids, ll, got))
    if len(runs) == 2 and runs[0][0] == runs[1][0]:
        # llama.cpp's CPU backend rounds activations to 8 bits for quantized weights (q8_0, q8_1,
        # q8_K dot products); vkstream computes in f32 on the dequantized weights, i.e. exactly
        # the real-valued model the F32 copy holds. Two more views on the quantized model:
        #   yardstick: llama.cpp on it against llama.cpp on the F32 copy (its own rounding);
        #   each vkstream engine on it against llama.cpp on the F32 copy.
        (ids, ll_q, got_q), (_, ll_f, _) = runs
        extra = {"yardstick: llama.cpp vs llama.cpp on the F32 copy": compare(ll_f, ll_q, ids)}
        for eng, lg in got_q.items():
            extra["%s vs llama.cpp on the F32 copy" % eng] = compare(ll_f, lg, ids)
        print("quantized model %s against llama.cpp on its F32 copy:" % os.path.basename(models[0]))
        print_pairs(extra)
        results[0]["pairs_vs_f32_copy"] = extra
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    # Gate: every vkstream engine against llama.cpp on the same file; with --f32, on the F32 copy,
    # where both engines compute with the same real-valued weights (see above).
    gated = results[-1]
    worst = min((p["top1_agreement"] for p in gated["pairs"].values()), default=0.0)
    failed = any("error" in e for r in results for e in r["engines"].values())
    print("gate (%s): worst top-1 agreement %.2f %% (target >= %.0f %%)%s" % (
        os.path.basename(gated["model"]), 100 * worst, 100 * args.min_top1, "; some engine failed" if failed else ""))
    return 0 if worst >= args.min_top1 and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
