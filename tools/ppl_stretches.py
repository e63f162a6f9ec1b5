#!/usr/bin/env python3
"""PPL per stretch of predictions from `vkstream perplexity --csv` files, as a Markdown table.

    python3 tools/ppl_stretches.py --stretch 1-1024 --stretch 1025-2048 ... dense.csv sink.csv window.csv
    python3 tools/ppl_stretches.py --doubling 65535 dense.csv sink.csv     (1-1024, 1025-2048, 2049-4096, ...)

A stretch A-B is predictions A..B (CSV rows with token index A..B); its figure is exp of the mean
NLL of those rows. A file that stops before B gives "—" (or, with --partial, the figure over the
rows it has, marked with the last row). Columns are labelled with --label (in order) or the stem.
"""
import argparse
import csv
import math
import os


def read_nll(path):
    rows = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            rows[int(row["token"])] = float(row["nll"])
    return rows


def parse_stretch(s):
    a, b = s.split("-")
    a, b = int(a.replace(",", "")), int(b.replace(",", ""))
    if a < 1 or b < a:
        raise SystemExit(f"ppl_stretches: bad stretch {s}")
    return a, b


def doubling(last):
    out, a, b = [], 1, 1024
    while a <= last:
        out.append((a, min(b, last)))
        a, b = b + 1, 2 * b
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv", nargs="+")
    ap.add_argument("--stretch", action="append", default=[], help="A-B, predictions A..B (repeatable)")
    ap.add_argument("--doubling", type=int, metavar="LAST", help="1-1024, 1025-2048, ... up to LAST")
    ap.add_argument("--label", action="append", default=[])
    ap.add_argument("--partial", action="store_true", help="figures over incomplete stretches too")
    a = ap.parse_args()
    stretches = [parse_stretch(s) for s in a.stretch]
    if a.doubling:
        stretches += doubling(a.doubling)
    if not stretches:
        raise SystemExit("ppl_stretches: give --stretch or --doubling")
    labels = a.label + [os.path.splitext(os.path.basename(p))[0] for p in a.csv[len(a.label):]]
    data = [read_nll(p) for p in a.csv]
    print("| predictions | " + " | ".join(labels) + " |")
    print("|---|" + "---:|" * len(labels))
    for lo, hi in stretches:
        cells = []
        for rows in data:
            vals = [rows[t] for t in range(lo, hi + 1) if t in rows]
            if not vals or (len(vals) < hi - lo + 1 and not a.partial):
                cells.append("—")
                continue
            cell = f"{math.exp(sum(vals) / len(vals)):.2f}"
            if len(vals) < hi - lo + 1:
                cell += f" (to {lo + len(vals) - 1:,})"
            cells.append(cell)
        print(f"| {lo:,}-{hi:,} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
