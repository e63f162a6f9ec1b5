"""Turns Python arguments into C arguments, refusing what C cannot represent.

ctypes converts silently where C would truncate (2**32 + 5 becomes token 5, -1 becomes a huge
uint32), so every value is checked against its C type here; whether a representable value is
acceptable (token id < n_vocab, n_batch <= 4096, ...) stays the library's decision.
"""
from __future__ import annotations

import os
from typing import Any, Union

import numpy as np

from ._errors import invalid

INT32 = (-(1 << 31), (1 << 31) - 1)
UINT32 = (0, (1 << 32) - 1)
INT64 = (-(1 << 63), (1 << 63) - 1)
UINT64 = (0, (1 << 64) - 1)

PathArg = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]


def integer(name: str, value: Any, bounds: tuple[int, int]) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise invalid(f"{name} must be an int, not {type(value).__name__}")
    v = int(value)
    if not bounds[0] <= v <= bounds[1]:
        raise invalid(f"{name} = {v} does not fit the C type (range [{bounds[0]}, {bounds[1]}])")
    return v


def real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise invalid(f"{name} must be a number, not {type(value).__name__}")
    return float(value)


def flag(name: str, value: Any) -> int:
    if not isinstance(value, (bool, np.bool_)):
        raise invalid(f"{name} must be a bool, not {type(value).__name__}")
    return int(value)


def text(name: str, value: Any) -> bytes:
    """str (encoded as UTF-8) or bytes (passed as they are, valid UTF-8 or not)."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise invalid(f"{name} must be str or bytes, not {type(value).__name__}")


def path(name: str, value: Any) -> bytes:  # value: PathArg
    if not isinstance(value, (str, bytes, os.PathLike)):
        raise invalid(f"{name} must be a path (str, bytes or os.PathLike), not {type(value).__name__}")
    p = os.fsencode(value)
    if b"\0" in p:
        raise invalid(f"{name} contains a NUL byte")
    return p


def tokens(value: Any) -> np.ndarray:
    """A 1-D sequence of integer token ids -> contiguous int32 array (ids are not range-checked
    against the vocabulary: the library does that)."""
    if isinstance(value, (str, bytes, bytearray)):
        raise invalid(f"tokens must be a sequence of ints, not {type(value).__name__} (tokenize text first)")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as e:  # ragged nesting and the like
        raise invalid(f"tokens must be a sequence of ints: {e}") from None
    if arr.ndim != 1:
        raise invalid(f"tokens must be a 1-D sequence of ints, got {arr.ndim} dimension(s)")
    if arr.size == 0:
        return np.zeros(0, dtype=np.int32)
    if arr.dtype.kind not in "iu":
        raise invalid(f"tokens must be ints, got elements of type {arr.dtype}")
    lo, hi = int(arr.min()), int(arr.max())
    if lo < INT32[0] or hi > INT32[1]:
        bad = lo if lo < INT32[0] else hi
        raise invalid(f"token id {bad} does not fit in int32")
    return np.ascontiguousarray(arr, dtype=np.int32)
