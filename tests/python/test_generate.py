"""generate(): a lazy iterator over the library's own loop; cancel() from another thread; the GIL."""
import threading
import time

import pytest

import vkstream

PROMPT = "The capital of France is"


def test_pieces_and_end_token(model):
    with model.session(n_window=60, temperature=0) as s:
        s.feed(model.tokenize(PROMPT))
        out = list(s.generate(12))
        assert len(out) == 12 and out[0] == (7042, " Paris")
        assert "".join(p for _, p in out) == model.detokenize([t for t, _ in out])
        assert s.stats().n_past == len(model.tokenize(PROMPT)) + 12
        # A chat turn ends at its end token, which is fed and yielded.
        s.reset()
        s.feed(model.tokenize(model.chat_render([("user", "Reply with one word: yes or no?")]), parse_special=True))
        turn = list(s.generate(200))
        assert len(turn) < 200 and model.is_end(turn[-1][0]) and all(not model.is_end(t) for t, _ in turn[:-1])


def test_lazy_and_stops_where_the_consumer_stops(model):
    with model.session(n_window=60, temperature=0) as s:
        n_prompt = len(model.tokenize(PROMPT))
        s.feed(model.tokenize(PROMPT))
        it = s.generate(-1)
        assert s.stats().n_past == n_prompt  # nothing runs before the first next()
        got = [next(it) for _ in range(3)]
        with pytest.raises(vkstream.Error) as e:
            s.feed([1])  # the iterator owns the session until it ends or is closed
        assert e.value.status == vkstream.Status.INVALID_ARGUMENT and "busy" in e.value.message
        it.close()
        assert s.stats().n_past == n_prompt + 3  # exactly the yielded tokens were fed
        for _ in s.generate(-1):
            break  # a for loop's iterator is closed when the loop drops it
        assert s.stats().n_past == n_prompt + 4
        assert [t for t, _ in got] == [7042, 30, 198]


def test_an_exception_in_the_loop_stops_the_generation(model):
    with model.session(n_window=60, temperature=0) as s:
        s.feed(model.tokenize(PROMPT))
        with pytest.raises(RuntimeError):
            for i, _ in enumerate(s.generate(-1)):
                if i == 2:
                    raise RuntimeError("consumer failed")
        assert s.stats().n_past == len(model.tokenize(PROMPT)) + 3
        assert len(list(s.generate(2))) == 2  # the session is free again


def test_generate_needs_a_prompt(model):
    with model.session(n_window=16) as s:
        with pytest.raises(vkstream.Error) as e:
            next(s.generate(4))
        assert e.value.status == vkstream.Status.INVALID_ARGUMENT


def _progress_during(call):
    """Runs call() while a pure-Python thread counts; returns how many of that thread's progress
    marks fall strictly inside the call, away from its edges (a call holding the GIL leaves none:
    no bytecode of another thread runs while a thread is in C with the GIL)."""
    stamps, stop = [], threading.Event()

    def count():
        i = 0
        while not stop.is_set():
            i += 1
            if i % 200 == 0:
                stamps.append(time.perf_counter())

    t = threading.Thread(target=count)
    t.start()
    time.sleep(0.05)
    t0 = time.perf_counter()
    call()
    t1 = time.perf_counter()
    stop.set()
    t.join()
    margin = 0.02  # > the 5 ms switch interval: slices the counter gets around the call's Python edges
    assert t1 - t0 > 4 * margin, f"call too short ({t1 - t0:.3f} s) to judge"
    return sum(t0 + margin < x < t1 - margin for x in stamps)


def test_feed_and_generate_release_the_gil(model):
    with model.session(n_window=200, temperature=0) as s:
        ids = model.tokenize("word " * 60)
        assert _progress_during(lambda: s.feed(ids)) > 100
        assert _progress_during(lambda: list(s.generate(6))) > 100


def test_cancel_generate_from_another_thread(model):
    with model.session(n_window=60, temperature=0) as s:
        s.feed(model.tokenize(PROMPT))
        got, after_cancel, errors = [], [], []

        def consume():
            try:
                for item in s.generate(-1):
                    got.append(item)
            except vkstream.Error as e:
                errors.append(e)

        t = threading.Thread(target=consume)
        t.start()
        while len(got) < 3:
            time.sleep(0.001)
        s.cancel()
        after_cancel.append(len(got))
        t.join(timeout=60)
        assert not t.is_alive()
        assert len(errors) == 1 and errors[0].status == vkstream.Status.CANCELLED
        assert len(got) <= after_cancel[0] + 1  # within one step of the cancel
        # The cancel was consumed: the session goes on.
        assert len(list(s.generate(2))) == 2


def test_cancel_feed_from_another_thread(model):
    with model.session(n_window=1024, n_batch=16) as s:
        ids = model.tokenize("word " * 600)

        def cancel_soon():
            while not s._call_lock.locked():  # the feed has started
                time.sleep(0.001)
            time.sleep(0.05)
            s.cancel()

        t = threading.Thread(target=cancel_soon)
        t.start()
        with pytest.raises(vkstream.Error) as e:
            s.feed(ids)
        t.join()
        assert e.value.status == vkstream.Status.CANCELLED
        n_past = s.stats().n_past
        assert n_past < len(ids) and n_past % 16 == 0  # stopped between chunks; completed chunks stay fed


def test_cancel_before_a_call_stops_the_next_one(model):
    with model.session(n_window=60) as s:
        s.cancel()  # nothing runs: stays pending
        with pytest.raises(vkstream.Error) as e:
            s.feed(model.tokenize(PROMPT))
        assert e.value.status == vkstream.Status.CANCELLED
        s.feed(model.tokenize(PROMPT))
        assert s.stats().n_past == len(model.tokenize(PROMPT))
