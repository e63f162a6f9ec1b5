"""Session (vks_session_*): feed, logits, sample, generate, cancel, stats, save/load, reset."""
from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import queue
import threading
import weakref
from typing import Any, Generator, Iterator, Optional, Sequence

import numpy as np

from . import _args, _lib
from ._errors import Error, check, invalid
from ._model import Model

# What generate() returns: a generator of (token id, text piece); close() stops it.
TokenStream = Generator[tuple[int, str], None, None]

_BUSY = ("the session is busy: another call or an unfinished generate() iterator is using it (one call at a time; "
         "only cancel() may overlap: run the iterator to its end or close() it first)")


@dataclasses.dataclass(frozen=True)
class SessionStats:
    """What vks_session_get_stats reports."""
    n_past: int                 # tokens fed so far in the stream (unbounded)
    n_cached: int               # tokens in the cache now (<= n_sink + n_window)
    n_sink: int
    n_window: int
    kv_bytes: int               # device bytes of the KV cache (fixed at creation)
    device_bytes: int           # all device bytes of the session
    prefill_tokens_per_s: float
    decode_tokens_per_s: float
    n_prefill_tokens: int
    n_decode_tokens: int


class Session:
    """A stream over a model (vks_session): a KV cache of n_sink attention sinks plus a rolling
    window of n_window tokens, allocated once; feed and generate for ever in constant memory.

        with vkstream.Session(model, n_sink=4, n_window=1020, temperature=0) as s:
            s.feed(model.tokenize("The capital of France is"))
            for token, piece in s.generate(16):
                print(piece, end="", flush=True)

    Every parameter left as None keeps the library's default (vks_session_default_params):
    n_sink, n_window (trained context - n_sink), n_batch (prefill chunk), dense (never evict:
    feeding past the cache is Status.CONTEXT_FULL) and the sampler: temperature (0: greedy),
    top_k, top_p, min_p, repeat_penalty, repeat_last_n, seed; cache_type_k / cache_type_v: the KV
    cache's element types, "f16" (default), "q8_0" (about 53 % of the bytes) or "q4_0" (about 28 %);
    cache_rotate: Hadamard-rotate the quantized rows over the head before quantizing, keys centred and
        scaled by a calibration run, sink rows kept in f16 (off by default).

    Threading: one call at a time per session (a second call from another thread while one runs
    raises Error, Status.INVALID_ARGUMENT); cancel() may be called from any thread at any time.
    feed() and generate() run without the GIL, so other Python threads keep running.
    """

    def __init__(self, model: Model, *, n_sink: Optional[int] = None, n_window: Optional[int] = None,
                 n_batch: Optional[int] = None, dense: Optional[bool] = None, temperature: Optional[float] = None,
                 top_k: Optional[int] = None, top_p: Optional[float] = None, min_p: Optional[float] = None,
                 repeat_penalty: Optional[float] = None, repeat_last_n: Optional[int] = None,
                 seed: Optional[int] = None, cache_type_k: Optional[str] = None,
                 cache_type_v: Optional[str] = None, cache_rotate: Optional[bool] = None):
        self._h = ctypes.c_void_p()
        self._call_lock = threading.Lock()    # held by the one running call (or live generate iterator)
        self._handle_lock = threading.Lock()  # orders vks_session_cancel against vks_session_free
        self._iterator: Optional[weakref.ref[TokenStream]] = None
        if not isinstance(model, Model):
            raise invalid(f"model must be a vkstream.Model, not {type(model).__name__}")
        p = _lib.SessionParams()
        check(_lib.lib.vks_session_params_init(ctypes.byref(p), ctypes.sizeof(p)))
        for name, count in (("n_sink", n_sink), ("n_window", n_window), ("n_batch", n_batch)):
            if count is not None:
                setattr(p, name, _args.integer(name, count, _args.UINT32))
        if dense is not None:
            p.dense = _args.flag("dense", dense)
        for name, kind in (("cache_type_k", cache_type_k), ("cache_type_v", cache_type_v)):
            if kind is not None:
                if not isinstance(kind, str) or kind not in _lib.CACHE_TYPES:
                    raise invalid(f"{name} must be one of {', '.join(_lib.CACHE_TYPES)}, not {kind!r}")
                setattr(p, name, _lib.CACHE_TYPES[kind])
        if cache_rotate is not None:
            p.cache_rotate = _args.flag("cache_rotate", cache_rotate)
        s = p.sampling
        for name, value in (("temperature", temperature), ("top_p", top_p), ("min_p", min_p),
                            ("repeat_penalty", repeat_penalty)):
            if value is not None:
                setattr(s, name, _args.real(name, value))
        for name, whole in (("top_k", top_k), ("repeat_last_n", repeat_last_n)):
            if whole is not None:
                setattr(s, name, _args.integer(name, whole, _args.INT32))
        if seed is not None:
            s.seed = _args.integer("seed", seed, _args.UINT64)
        check(_lib.lib.vks_session_create(model._handle(), ctypes.byref(p), ctypes.byref(self._h)))
        self.model = model  # the C session holds the model too; this keeps the Python object's info at hand

    # ---- lifetime ----
    def close(self) -> None:
        """Frees the session (closing an unfinished generate() iterator of this thread first)."""
        it = self._iterator() if self._iterator else None
        if it is not None:
            try:
                it.close()
            except ValueError:  # the iterator is running in another thread right now
                raise invalid(_BUSY) from None
        if not self._call_lock.acquire(blocking=False):
            raise invalid(_BUSY)
        try:
            with self._handle_lock:
                h, self._h = self._h, ctypes.c_void_p()
                if h:
                    _lib.lib.vks_session_free(h)
        finally:
            self._call_lock.release()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        # A collected session cannot have a live iterator (the iterator references the session).
        h = getattr(self, "_h", None)
        if h and self._call_lock.acquire(blocking=False):
            self._h = ctypes.c_void_p()
            _lib.lib.vks_session_free(h)
            self._call_lock.release()

    @contextlib.contextmanager
    def _using(self) -> Iterator[ctypes.c_void_p]:
        if not self._call_lock.acquire(blocking=False):
            raise invalid(_BUSY)
        try:
            if not self._h:
                raise invalid("the session is closed")
            yield self._h
        finally:
            self._call_lock.release()

    # ---- the stream ----
    def feed(self, tokens: Sequence[int]) -> None:
        """Runs `tokens` (a prompt or a forced continuation: list or integer numpy array) through
        the model in chunks of n_batch; afterwards logits() are the next-token logits. An id
        outside [0, n_vocab) is Error(INVALID_ARGUMENT) and nothing is fed. cancel() stops it
        between chunks with Error(CANCELLED); the completed chunks stay fed (see stats())."""
        ids = _args.tokens(tokens)
        with self._using() as h:
            check(_lib.lib.vks_session_feed(h, ids.ctypes.data_as(_lib.c_int32_p), ids.size))

    def logits(self, out: Optional[np.ndarray] = None) -> np.ndarray:
        """The next-token logits, float32 of shape (n_vocab,), exactly as the library holds them.
        `out`: a writable contiguous float32 vector to copy into (reused, no allocation)."""
        n_vocab = self.model.info.n_vocab
        if out is None:
            out = np.empty(n_vocab, dtype=np.float32)
        elif not isinstance(out, np.ndarray) or out.dtype != np.float32 or out.ndim != 1 \
                or not out.flags.c_contiguous or not out.flags.writeable:
            raise invalid("out must be a writable, contiguous, 1-D float32 numpy array")
        with self._using() as h:
            check(_lib.lib.vks_session_logits(h, out.ctypes.data_as(_lib.c_float_p), out.size))
        return out[:n_vocab]

    def sample(self) -> int:
        """Samples the next token from the current logits with the session's sampler (does not feed it)."""
        t = ctypes.c_int32()
        with self._using() as h:
            check(_lib.lib.vks_session_sample(h, ctypes.byref(t)))
        return t.value

    def generate(self, max_tokens: int = -1) -> TokenStream:
        """Samples and feeds up to `max_tokens` tokens (-1: until an end-of-turn token or
        cancel()), yielding (token, text piece) as each one is made. Pieces hold whole UTF-8
        characters (a piece may be "" while a character is incomplete); the end token is fed and
        yielded. If the last token leaves a character unfinished, one more item (-1, "\ufffd")
        carries it, so the pieces always add up to the whole text. Stopping the iteration early (break, close()) stops the generation after the
        last yielded token, which is fed. cancel() raises Error(CANCELLED) from the iterator.

        The library's own loop (vks_session_generate) runs on a helper thread without the GIL
        and waits for the consumer at each token: a token is computed only when next() asks
        for it. The session is busy until the iterator ends or is closed."""
        n = _args.integer("max_tokens", max_tokens, _args.INT64)
        it = self._generate(n)
        self._iterator = weakref.ref(it)
        return it

    def _generate(self, max_tokens: int) -> TokenStream:
        with self._using() as h:
            # (token, piece bytes) per token, then (None, status, message); True: go on, False: stop
            to_consumer: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
            to_worker: queue.SimpleQueue[bool] = queue.SimpleQueue()

            def on_token(token: int, piece: Optional[int], n: int, _user: Any) -> int:
                try:
                    to_consumer.put((token, ctypes.string_at(piece, n) if n and piece else b""))
                    return 0 if to_worker.get() else 1
                except BaseException:  # noqa: BLE001 - never let an exception unwind through C
                    return 1

            callback = _lib.TOKEN_FN(on_token)

            def work() -> None:
                st = _lib.lib.vks_session_generate(h, max_tokens, callback, None)
                to_consumer.put((None, st, _lib.last_error() if st else ""))  # vks_last_error is per thread

            worker = threading.Thread(target=work, name="vkstream-generate", daemon=True)
            worker.start()
            done = False
            try:
                while True:
                    item = to_consumer.get()
                    if item[0] is None:
                        done = True
                        if item[1]:
                            raise Error(item[1], item[2])
                        return
                    yield item[0], item[1].decode("utf-8", "replace")
                    to_worker.put(True)
            finally:
                if not done:  # the consumer stopped early: answer "stop" until the library returns
                    to_worker.put(False)
                    while to_consumer.get()[0] is not None:
                        to_worker.put(False)
                worker.join()

    def cancel(self) -> None:
        """Asks a running feed()/generate() to stop soon; safe from any thread. A cancel made
        while nothing runs stops the next feed()/generate() at its first check."""
        with self._handle_lock:
            if self._h:
                _lib.lib.vks_session_cancel(self._h)

    def reset(self) -> None:
        """Forgets the stream: empty cache, n_past 0 (nothing is reallocated)."""
        with self._using() as h:
            check(_lib.lib.vks_session_reset(h))

    # ---- state ----
    def stats(self) -> SessionStats:
        """Stream position, cache occupancy, memory and speed counters (SessionStats)."""
        s = _lib.SessionStats()
        s.struct_size = ctypes.sizeof(s)
        with self._using() as h:
            check(_lib.lib.vks_session_get_stats(h, ctypes.byref(s)))
        return SessionStats(**{f[0]: getattr(s, f[0]) for f in _lib.SessionStats._fields_ if f[0] != "struct_size"})

    def save(self, path: _args.PathArg) -> None:
        """Writes the whole state (cache, position, sampler, recent tokens) to `path`, atomically."""
        p = _args.path("path", path)
        with self._using() as h:
            check(_lib.lib.vks_session_save(h, p))

    def load(self, path: _args.PathArg) -> None:
        """Restores a state written by save() for the same model and n_sink/n_window. A damaged
        file is Error(BAD_FORMAT), another model's or shape's Error(INVALID_ARGUMENT); either
        leaves the session as it was."""
        p = _args.path("path", path)
        with self._using() as h:
            check(_lib.lib.vks_session_load(h, p))
