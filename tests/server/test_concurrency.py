"""Slots: concurrent clients stream at the same time, more queue, a client that leaves cancels."""
import json
import socket
import threading
import time

MODEL = "SmolLM2-135M-Instruct.Q4_1"
PROMPTS = ["The capital of France is", "Once upon a time", "The best way to learn", "In 1969, the first"]
N_TOKENS = 10


def metric(server, name):
    _, body = server.get("/metrics")
    for line in body.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise KeyError(name)


def test_four_concurrent_streams_match_sequential_runs(server, client):
    want = {p: client.completions.create(model=MODEL, prompt=p, temperature=0, max_tokens=N_TOKENS).choices[0].text
            for p in PROMPTS}
    got, peak = {}, [0]
    done = threading.Event()

    def watch():  # all four hold a slot at once (from prefill to the last token)
        while not done.is_set():
            peak[0] = max(peak[0], metric(server, "vkstream_requests_active"))
            time.sleep(0.02)

    def run(p):
        text = ""
        for chunk in client.completions.create(model=MODEL, prompt=p, temperature=0, max_tokens=N_TOKENS,
                                               stream=True):
            if chunk.choices:
                text += chunk.choices[0].text
        got[p] = text

    w = threading.Thread(target=watch)
    w.start()
    threads = [threading.Thread(target=run, args=(p,)) for p in PROMPTS]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    done.set()
    w.join()
    assert got == want  # interleaved steps give each stream exactly its own tokens
    assert peak[0] == 4  # all four were generating at the same time


def test_more_requests_than_slots_queue_and_all_finish(server, client):
    results, peak_queued = [], [0]
    done = threading.Event()

    def watch():
        while not done.is_set():
            peak_queued[0] = max(peak_queued[0], metric(server, "vkstream_requests_queued"))
            time.sleep(0.05)

    def run(i):
        r = client.completions.create(model=MODEL, prompt=f"Count to {i}:", temperature=0, max_tokens=6)
        results.append(r.usage.completion_tokens)

    w = threading.Thread(target=watch)
    w.start()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(7)]  # 4 slots
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    done.set()
    w.join()
    assert len(results) == 7
    assert peak_queued[0] >= 1
    assert metric(server, "vkstream_requests_active") == 0


def test_a_client_that_disconnects_cancels_its_generation(server):
    # Counting at temperature 0 goes on and on: no end-of-text token ends it first.
    body = json.dumps({"prompt": "1, 2, 3, 4, 5, 6,", "max_tokens": 100000, "stream": True,
                       "temperature": 0}).encode()
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=60)
    sock.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    got = b""
    while got.count(b"data: ") < 5:  # a few tokens streamed
        part = sock.recv(4096)
        assert part, "the stream ended early: " + got.decode(errors="replace")
        got += part
    before = metric(server, "vkstream_generated_tokens_total")
    assert metric(server, "vkstream_requests_active") == 1
    sock.close()
    deadline = time.monotonic() + 10
    while metric(server, "vkstream_requests_active") != 0:
        assert time.monotonic() < deadline, "the generation went on after its client left"
        time.sleep(0.02)
    after = metric(server, "vkstream_generated_tokens_total")
    # The step running when the client left, and possibly the one after the last write went out.
    assert after - before <= 3, (before, after)
    time.sleep(0.5)
    assert metric(server, "vkstream_generated_tokens_total") == after
