"""Thin ctypes binding over the vkstream C API (include/vkstream/vkstream.h).

    import vkstream
    with vkstream.Model("SmolLM2-135M-Instruct.Q4_1.gguf") as m:
        with m.session(n_sink=4, n_window=1020, temperature=0) as s:
            s.feed(m.tokenize("The capital of France is"))
            print("".join(piece for _, piece in s.generate(16)))

The library is found through VKSTREAM_LIBRARY (a path to libvkstream.so) or the loader's
search path. Errors raise vkstream.Error with the status and the library's message.
"""
import ctypes
import os

_lib = ctypes.CDLL(os.environ.get("VKSTREAM_LIBRARY", "libvkstream.so"))

STATUS = {0: "ok", 1: "invalid argument", 2: "i/o error", 3: "bad format", 4: "unsupported",
          5: "out of host memory", 6: "out of device memory", 7: "device lost", 8: "vulkan error",
          9: "feature missing", 10: "cancelled", 11: "context full", 12: "internal error",
          13: "buffer too small"}
BUFFER_TOO_SMALL = 13


class Error(Exception):
    def __init__(self, status, message):
        super().__init__("%s: %s" % (STATUS.get(status, status), message))
        self.status = status


class _SamplerParams(ctypes.Structure):
    _fields_ = [("temperature", ctypes.c_float), ("top_k", ctypes.c_int32), ("top_p", ctypes.c_float),
                ("min_p", ctypes.c_float), ("repeat_penalty", ctypes.c_float), ("repeat_last_n", ctypes.c_int32),
                ("seed", ctypes.c_uint64)]


class _SessionParams(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("n_sink", ctypes.c_uint32), ("n_window", ctypes.c_uint32),
                ("n_batch", ctypes.c_uint32), ("dense", ctypes.c_int), ("sampling", _SamplerParams)]


class _SessionStats(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("n_past", ctypes.c_uint64), ("n_cached", ctypes.c_uint32),
                ("n_sink", ctypes.c_uint32), ("n_window", ctypes.c_uint32), ("kv_bytes", ctypes.c_uint64),
                ("device_bytes", ctypes.c_uint64), ("prefill_tokens_per_s", ctypes.c_double),
                ("decode_tokens_per_s", ctypes.c_double), ("n_prefill_tokens", ctypes.c_uint64),
                ("n_decode_tokens", ctypes.c_uint64)]


_TOKEN_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int32, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p)

_lib.vks_version.restype = ctypes.c_char_p
_lib.vks_last_error.restype = ctypes.c_char_p
_lib.vks_model_load.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)]
_lib.vks_model_free.argtypes = [ctypes.c_void_p]
_lib.vks_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_ssize_t, ctypes.c_int, ctypes.c_int,
                              ctypes.POINTER(ctypes.c_int32), ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]
_lib.vks_detokenize.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int32), ctypes.c_size_t, ctypes.c_int,
                                ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]
_lib.vks_session_default_params.restype = _SessionParams
_lib.vks_session_create.argtypes = [ctypes.c_void_p, ctypes.POINTER(_SessionParams), ctypes.POINTER(ctypes.c_void_p)]
_lib.vks_session_free.argtypes = [ctypes.c_void_p]
_lib.vks_session_feed.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int32), ctypes.c_size_t]
_lib.vks_session_generate.argtypes = [ctypes.c_void_p, ctypes.c_int64, _TOKEN_FN, ctypes.c_void_p]
_lib.vks_session_get_stats.argtypes = [ctypes.c_void_p, ctypes.POINTER(_SessionStats)]


def version():
    return _lib.vks_version().decode()


def _check(status):
    if status != 0:
        raise Error(status, _lib.vks_last_error().decode(errors="replace"))


class Model:
    def __init__(self, path):
        self._h = ctypes.c_void_p()
        _check(_lib.vks_model_load(path.encode(), None, ctypes.byref(self._h)))

    def close(self):
        if self._h:
            _lib.vks_model_free(self._h)
            self._h = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def tokenize(self, text, add_special=True, parse_special=False):
        data = text.encode()
        n = ctypes.c_size_t(0)
        cap = len(data) + 8
        while True:
            buf = (ctypes.c_int32 * cap)()
            st = _lib.vks_tokenize(self._h, data, len(data), int(add_special), int(parse_special), buf, cap,
                                   ctypes.byref(n))
            if st == BUFFER_TOO_SMALL:
                cap = n.value
                continue
            _check(st)
            return list(buf[:n.value])

    def detokenize(self, ids):
        arr = (ctypes.c_int32 * len(ids))(*ids)
        n = ctypes.c_size_t(0)
        st = _lib.vks_detokenize(self._h, arr, len(ids), 0, None, 0, ctypes.byref(n))
        if st not in (0, BUFFER_TOO_SMALL):
            _check(st)
        buf = ctypes.create_string_buffer(n.value + 1)
        _check(_lib.vks_detokenize(self._h, arr, len(ids), 0, buf, n.value + 1, ctypes.byref(n)))
        return buf.raw[:n.value].decode(errors="replace")

    def session(self, n_sink=4, n_window=0, n_batch=256, temperature=0.8, seed=None):
        return Session(self, n_sink, n_window, n_batch, temperature, seed)


class Session:
    def __init__(self, model, n_sink, n_window, n_batch, temperature, seed):
        p = _lib.vks_session_default_params()
        p.n_sink, p.n_window, p.n_batch = n_sink, n_window, n_batch
        p.sampling.temperature = temperature
        if seed is not None:
            p.sampling.seed = seed
        self._model = model  # keeps the Python object alive as long as the session
        self._h = ctypes.c_void_p()
        _check(_lib.vks_session_create(model._h, ctypes.byref(p), ctypes.byref(self._h)))

    def close(self):
        if self._h:
            _lib.vks_session_free(self._h)
            self._h = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def feed(self, ids):
        arr = (ctypes.c_int32 * len(ids))(*ids)
        _check(_lib.vks_session_feed(self._h, arr, len(ids)))

    def generate(self, max_tokens):
        out = []

        def cb(token, piece, length, _user):
            out.append((token, ctypes.string_at(piece, length).decode(errors="replace")))
            return 0

        _check(_lib.vks_session_generate(self._h, max_tokens, _TOKEN_FN(cb), None))
        return out

    def stats(self):
        s = _SessionStats()
        s.struct_size = ctypes.sizeof(_SessionStats)
        _check(_lib.vks_session_get_stats(self._h, ctypes.byref(s)))
        return {name: getattr(s, name) for name, _ in _SessionStats._fields_ if name != "struct_size"}
