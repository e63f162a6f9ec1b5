"""The ctypes layer: loads libvkstream and declares every function of include/vkstream/vkstream.h.

Nothing here decides anything the library decides; it only states the C signatures and structs
(which must match the header field for field: the library checks struct_size, so a drift shows
up as INVALID_ARGUMENT on the first call) and finds the shared library.

ctypes.CDLL releases the GIL for the duration of every foreign call, so long calls (model load,
feed, generate) let other Python threads run; callbacks into Python take the GIL back.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

_LIBRARY_NAMES = {"linux": "libvkstream.so", "darwin": "libvkstream.dylib", "win32": "vkstream.dll"}


def _find_library() -> str:
    """VKSTREAM_LIBRARY, else the library installed inside this package, else the system's."""
    env = os.environ.get("VKSTREAM_LIBRARY")
    if env:
        return env
    name = _LIBRARY_NAMES.get(sys.platform, "libvkstream.so")
    inside = os.path.join(os.path.dirname(os.path.abspath(__file__)), name)
    if os.path.exists(inside):
        return inside
    found = ctypes.util.find_library("vkstream")
    if found:
        return found
    raise ImportError(
        "vkstream: the shared library was not found: install the package with `pip install .` from the "
        "repository root, or set VKSTREAM_LIBRARY to a built libvkstream (e.g. build/lib/libvkstream.so)")


path = _find_library()
lib = ctypes.CDLL(path)

c_int32_p = ctypes.POINTER(ctypes.c_int32)
c_size_p = ctypes.POINTER(ctypes.c_size_t)
c_float_p = ctypes.POINTER(ctypes.c_float)


# ---- structs (field order and types exactly as in vkstream.h) -------------------------------

class DeviceInfo(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("name", ctypes.c_char * 256), ("type", ctypes.c_char * 16),
                ("api_version", ctypes.c_uint32), ("memory_bytes", ctypes.c_uint64), ("selected", ctypes.c_int)]


PROGRESS_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_float, ctypes.c_void_p)


class ModelParams(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("device_index", ctypes.c_int32), ("progress", PROGRESS_FN),
                ("progress_user_data", ctypes.c_void_p), ("validation", ctypes.c_int)]


class ModelInfo(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("architecture", ctypes.c_char * 32), ("name", ctypes.c_char * 128),
                ("n_vocab", ctypes.c_uint32), ("n_embd", ctypes.c_uint32), ("n_layer", ctypes.c_uint32),
                ("n_head", ctypes.c_uint32), ("n_head_kv", ctypes.c_uint32), ("head_dim", ctypes.c_uint32),
                ("n_ctx_train", ctypes.c_uint32), ("n_params", ctypes.c_uint64), ("weight_bytes", ctypes.c_uint64),
                ("bos", ctypes.c_int32), ("eos", ctypes.c_int32)]


class SamplerParams(ctypes.Structure):
    _fields_ = [("temperature", ctypes.c_float), ("top_k", ctypes.c_int32), ("top_p", ctypes.c_float),
                ("min_p", ctypes.c_float), ("repeat_penalty", ctypes.c_float), ("repeat_last_n", ctypes.c_int32),
                ("seed", ctypes.c_uint64)]


class SessionParams(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("n_sink", ctypes.c_uint32), ("n_window", ctypes.c_uint32),
                ("n_batch", ctypes.c_uint32), ("dense", ctypes.c_int), ("sampling", SamplerParams),
                ("cache_type_k", ctypes.c_int32), ("cache_type_v", ctypes.c_int32), ("cache_rotate", ctypes.c_int32)]


# vks_cache_type: element type of the KV cache, by the names the CLI's --cache-type-k/-v take.
CACHE_TYPES = {"f16": 0, "q8_0": 1, "q4_0": 2}


class SessionStats(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("n_past", ctypes.c_uint64), ("n_cached", ctypes.c_uint32),
                ("n_sink", ctypes.c_uint32), ("n_window", ctypes.c_uint32), ("kv_bytes", ctypes.c_uint64),
                ("device_bytes", ctypes.c_uint64), ("prefill_tokens_per_s", ctypes.c_double),
                ("decode_tokens_per_s", ctypes.c_double), ("n_prefill_tokens", ctypes.c_uint64),
                ("n_decode_tokens", ctypes.c_uint64)]


TOKEN_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int32, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p)

# ---- functions: name -> (restype, argtypes), in header order --------------------------------
_p = ctypes.c_void_p  # opaque vks_model* / vks_session*
_status = ctypes.c_int
SIGNATURES = {
    "vks_status_string": (ctypes.c_char_p, [ctypes.c_int]),
    "vks_version": (ctypes.c_char_p, []),
    "vks_last_error": (ctypes.c_char_p, []),
    "vks_device_count": (_status, [c_size_p]),
    "vks_device_get_info": (_status, [ctypes.c_size_t, ctypes.POINTER(DeviceInfo)]),
    "vks_model_default_params": (ModelParams, []),
    "vks_model_load": (_status, [ctypes.c_char_p, ctypes.POINTER(ModelParams), ctypes.POINTER(_p)]),
    "vks_model_free": (None, [_p]),
    "vks_model_get_info": (_status, [_p, ctypes.POINTER(ModelInfo)]),
    "vks_tokenize": (_status, [_p, ctypes.c_char_p, ctypes.c_ssize_t, ctypes.c_int, ctypes.c_int, c_int32_p,
                               ctypes.c_size_t, c_size_p]),
    "vks_detokenize": (_status, [_p, c_int32_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t,
                                 c_size_p]),
    "vks_token_is_end": (ctypes.c_int, [_p, ctypes.c_int32]),
    "vks_chat_render": (_status, [_p, ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_char_p),
                                  ctypes.c_size_t, ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, c_size_p]),
    "vks_session_params_init": (_status, [ctypes.POINTER(SessionParams), ctypes.c_size_t]),
    "vks_session_create": (_status, [_p, ctypes.POINTER(SessionParams), ctypes.POINTER(_p)]),
    "vks_session_free": (None, [_p]),
    "vks_session_feed": (_status, [_p, c_int32_p, ctypes.c_size_t]),
    "vks_session_logits": (_status, [_p, c_float_p, ctypes.c_size_t]),
    "vks_session_sample": (_status, [_p, c_int32_p]),
    "vks_session_generate": (_status, [_p, ctypes.c_int64, TOKEN_FN, ctypes.c_void_p]),
    "vks_session_cancel": (None, [_p]),
    "vks_session_get_stats": (_status, [_p, ctypes.POINTER(SessionStats)]),
    "vks_session_save": (_status, [_p, ctypes.c_char_p]),
    "vks_session_load": (_status, [_p, ctypes.c_char_p]),
    "vks_session_reset": (_status, [_p]),
}

for _name, (_res, _args) in SIGNATURES.items():
    _fn = getattr(lib, _name)
    _fn.restype = _res
    _fn.argtypes = _args


def last_error() -> str:
    """The library's message for the last failed call on the calling thread."""
    msg: bytes = lib.vks_last_error()
    return msg.decode("utf-8", "replace")


def status_string(status: int) -> str:
    name: bytes = lib.vks_status_string(status)
    return name.decode("utf-8", "replace")
