#!/usr/bin/env python3
"""Plot per-token CSVs of `vkstream perplexity --csv` (token,nll,mean_nll,ppl[,latency_ms]).

    python3 tools/plot_ppl.py --out docs/img/ppl.png sink.csv window.csv dense.csv ...

Draws, like Figure 3 of the StreamingLLM paper, log-perplexity against the number of tokens
streamed: by default a moving average of the per-token NLL over --smooth tokens (which shows
where a policy breaks down), or with --running the running mean NLL from the first token.
Each CSV is one line, labelled with --label (in order) or the file's stem. Vertical dashed lines
mark --mark positions (e.g. the cache size, the trained context).
"""
import argparse
import csv
import math
import os
import sys


def read_csv(path):
    tokens, nll, mean = [], [], []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            tokens.append(int(row["token"]))
            nll.append(float(row["nll"]))
            mean.append(float(row["mean_nll"]))
    if not tokens:
        raise SystemExit(f"plot_ppl: {path} has no rows")
    return tokens, nll, mean


def moving_average(values, width):
    """Trailing moving average (prefix sums); the first width-1 points average what exists so
    far. A NaN/inf NLL (a collapsed model) makes its windows NaN/inf, which is honest."""
    pre = [0.0]
    for v in values:
        pre.append(pre[-1] + v)
    return [(pre[i + 1] - pre[max(0, i + 1 - width)]) / min(i + 1, width) for i in range(len(values))]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv", nargs="+")
    ap.add_argument("--out", required=True, help="PNG to write")
    ap.add_argument("--label", action="append", default=[], help="label per CSV, in order")
    ap.add_argument("--smooth", type=int, default=256, help="moving-average width in tokens (default 256)")
    ap.add_argument("--running", action="store_true", help="plot the running mean NLL instead")
    ap.add_argument("--mark", type=int, action="append", default=[], help="vertical line at this token")
    ap.add_argument("--title", default="")
    ap.add_argument("--ymin", type=float, default=None)
    ap.add_argument("--ymax", type=float, default=None)
    ap.add_argument("--xmax", type=int, default=None, help="last token shown")
    ap.add_argument("--logx", action="store_true")
    args = ap.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    for i, path in enumerate(args.csv):
        label = args.label[i] if i < len(args.label) else os.path.splitext(os.path.basename(path))[0]
        tokens, nll, mean = read_csv(path)
        y = mean if args.running else moving_average(nll, max(1, args.smooth))
        final = math.exp(mean[-1]) if math.isfinite(mean[-1]) else float("nan")
        ax.plot(tokens, y, linewidth=1.1, label=f"{label} (PPL {final:.2f} over {tokens[-1]} tok)")
    for m in args.mark:
        ax.axvline(m, color="gray", linestyle="--", linewidth=0.8)
    ax.set_xlabel("tokens streamed")
    ax.set_ylabel("running mean NLL (log PPL)" if args.running else f"NLL, moving average of {args.smooth} tokens (log PPL)")
    if args.logx:
        ax.set_xscale("log")
    if args.ymax is not None:
        ax.set_ylim(top=args.ymax)
    if args.ymin is not None:
        ax.set_ylim(bottom=args.ymin)
    if args.xmax is not None:
        ax.set_xlim(0, args.xmax)
    ax.set_title(args.title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    fig.savefig(args.out)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
