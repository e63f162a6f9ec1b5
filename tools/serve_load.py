#!/usr/bin/env python3
"""Load tests for `vkstream serve` (figures in docs/BENCHMARKS.md, "Server").

  soak:  N streaming clients (default 8) hold multi-turn conversations for a while (default 10
         minutes) against one server with N slots; every 10 s it records the server's RSS
         (/proc), its device bytes (/metrics) and the tokens so far. Ends with a table and a
         verdict on whether memory stayed flat.
  sweep: for each N in the list, a fresh server with N slots and N clients streaming for a fixed
         time; prints aggregate and per-stream tokens/s.

  tools/serve_load.py soak  --bin build/apps/vkstream -m MODEL [--clients 8] [--minutes 10]
  tools/serve_load.py sweep --bin build/apps/vkstream -m MODEL [--n 1,2,4,8] [--seconds 60]

Standard library only. Each client streams /v1/chat/completions and continues its conversation
(so prompts are fed incrementally and the caches roll); after --turns turns it starts a new one.
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request


def start_server(binary, model, parallel, window, log_path, extra=()):
    log = open(log_path, "w")
    proc = subprocess.Popen([binary, "serve", "-m", model, "--port", "0", "--parallel", str(parallel),
                             "--window", str(window), *extra], stdout=subprocess.DEVNULL, stderr=log)
    for _ in range(1200):
        m = re.search(r"on http://[^:]+:(\d+)/", open(log_path).read())
        if m:
            return proc, f"http://127.0.0.1:{m.group(1)}"
        if proc.poll() is not None:
            sys.exit(f"server exited {proc.returncode}: {open(log_path).read()}")
        time.sleep(0.05)
    proc.kill()
    sys.exit("server did not start")


def stop_server(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        return None


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def metric(url, name):
    with urllib.request.urlopen(url + "/metrics", timeout=30) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    return float("nan")


TOPICS = ["the sea", "mountains", "a robot", "coffee", "trains", "the moon", "a library", "winter"]


class Client(threading.Thread):
    """Streams chat turns until `stop` is set; counts tokens (content chunks) and time streaming."""

    def __init__(self, url, idx, stop, max_tokens, turns):
        super().__init__(daemon=True)
        self.url, self.idx, self.stop, self.max_tokens, self.turns = url, idx, stop, max_tokens, turns
        self.tokens = 0
        self.stream_secs = 0.0
        self.requests = 0
        self.errors = []

    def turn(self, messages):
        body = json.dumps({"messages": messages, "stream": True, "max_tokens": self.max_tokens,
                           "temperature": 0.8, "seed": self.idx * 1000 + self.requests}).encode()
        req = urllib.request.Request(self.url + "/v1/chat/completions", data=body,
                                     headers={"Content-Type": "application/json"})
        text, t0, first = "", time.monotonic(), None
        with urllib.request.urlopen(req, timeout=600) as r:
            for raw in r:
                line = raw.decode().strip()
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                chunk = json.loads(line[6:])
                if "error" in chunk:
                    raise RuntimeError(chunk["error"]["message"])
                delta = chunk["choices"][0]["delta"] if chunk["choices"] else {}
                if delta.get("content"):
                    first = first or time.monotonic()
                    self.tokens += 1
                    text += delta["content"]
        self.stream_secs += time.monotonic() - t0
        self.requests += 1
        return text

    def run(self):
        n = 0
        while not self.stop.is_set():
            messages = []
            for t in range(self.turns):
                if self.stop.is_set():
                    break
                messages.append({"role": "user", "content": f"Tell me something new about {TOPICS[(self.idx + n + t) % 8]}."})
                try:
                    reply = self.turn(messages)
                except Exception as e:  # recorded; the run goes on
                    self.errors.append(repr(e))
                    time.sleep(1)
                    break
                messages.append({"role": "assistant", "content": reply})
            n += 1


def run_clients(url, n, seconds, max_tokens, turns, on_tick=None):
    stop = threading.Event()
    clients = [Client(url, i, stop, max_tokens, turns) for i in range(n)]
    t0 = time.monotonic()
    tok0 = metric(url, "vkstream_generated_tokens_total")
    for c in clients:
        c.start()
    while time.monotonic() - t0 < seconds:
        time.sleep(min(10, max(0.1, seconds - (time.monotonic() - t0))))
        if on_tick:
            on_tick(time.monotonic() - t0)
    stop.set()
    for c in clients:
        c.join(timeout=600)
    secs = time.monotonic() - t0
    generated = metric(url, "vkstream_generated_tokens_total") - tok0
    return clients, secs, generated


def soak(a):
    proc, url = start_server(a.bin, a.model, a.clients, a.window, a.log, a.server_arg)
    rows = []

    def tick(t):
        rows.append((t, rss_bytes(proc.pid), metric(url, "vkstream_device_bytes"),
                     metric(url, "vkstream_generated_tokens_total"), metric(url, "vkstream_requests_active"),
                     metric(url, "vkstream_host_heap_in_use_bytes"), metric(url, "vkstream_host_heap_system_bytes")))
        r = rows[-1]
        print(f"{r[0]:7.0f} s  RSS {r[1] / 2**20:8.1f} MiB  device {r[2] / 2**20:8.1f} MiB  tokens {r[3]:9.0f}  "
              f"active {r[4]:.0f}  heap in use {r[5] / 2**20:8.1f} MiB of {r[6] / 2**20:8.1f} MiB", flush=True)

    tick(0)
    clients, secs, generated = run_clients(url, a.clients, a.minutes * 60, a.max_tokens, a.turns, tick)
    code = stop_server(proc)
    errors = [e for c in clients for e in c.errors]
    # Flatness: the RSS after the first minute, and over the second half of the run.
    warm = [r for r in rows if r[0] >= 60] or rows
    late = [r for r in rows if r[0] >= rows[-1][0] / 2] or rows
    rss_lo, rss_hi = min(r[1] for r in warm), max(r[1] for r in warm)
    dev = {r[2] for r in rows}
    print(f"\n{a.clients} clients, {secs:.0f} s: {generated:.0f} tokens, {generated / secs:.2f} tokens/s aggregate, "
          f"{sum(c.requests for c in clients)} requests, {len(errors)} errors, server exit {code}")
    print(f"RSS after the first minute: {rss_lo / 2**20:.1f} .. {rss_hi / 2**20:.1f} MiB "
          f"(spread {(rss_hi - rss_lo) / 2**20:.1f} MiB); second half: {late[0][1] / 2**20:.1f} -> "
          f"{late[-1][1] / 2**20:.1f} MiB; device bytes: {sorted(dev)}")
    for e in errors[:5]:
        print("error:", e)
    return 0 if not errors and code == 0 else 1


def sweep(a):
    print(f"{'N':>3} {'aggregate tok/s':>16} {'per stream tok/s':>17} {'requests':>9} {'errors':>7}")
    for n in [int(x) for x in a.n.split(",")]:
        proc, url = start_server(a.bin, a.model, n, a.window, a.log, a.server_arg)
        # warm-up: the first request builds the pipelines
        run_clients(url, 1, 3, 8, 1)
        clients, secs, generated = run_clients(url, n, a.seconds, a.max_tokens, a.turns)
        stop_server(proc)
        per = [c.tokens / c.stream_secs for c in clients if c.stream_secs > 0]
        print(f"{n:>3} {generated / secs:16.2f} {sum(per) / len(per):17.2f} {sum(c.requests for c in clients):9d} "
              f"{sum(len(c.errors) for c in clients):7d}", flush=True)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["soak", "sweep"])
    p.add_argument("--bin", default="build/apps/vkstream")
    p.add_argument("-m", "--model", default=os.path.expanduser(
        "~/.cache/vkstream/models/SmolLM2-135M-Instruct.Q4_1.gguf"))
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--minutes", type=float, default=10)
    p.add_argument("--n", default="1,2,4,8")
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--window", type=int, default=508, help="per-slot window (cache = 4 sinks + window)")
    p.add_argument("--max-tokens", type=int, default=64)
    p.add_argument("--turns", type=int, default=6, help="turns per conversation before a new one")
    p.add_argument("--log", default="/tmp/vkstream-serve-load.log")
    p.add_argument("--server-arg", action="append", default=[], help="one more argument for `vkstream serve`")
    a = p.parse_args()
    sys.exit(soak(a) if a.mode == "soak" else sweep(a))


if __name__ == "__main__":
    main()
