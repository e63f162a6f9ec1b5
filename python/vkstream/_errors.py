"""The one exception type of the package and the status codes of the C API."""
from __future__ import annotations

import enum

from . import _lib


class Status(enum.IntEnum):
    """vks_status (include/vkstream/vkstream.h); the values are the C API's and never change."""
    OK = 0
    INVALID_ARGUMENT = 1
    IO = 2
    BAD_FORMAT = 3
    UNSUPPORTED = 4
    OUT_OF_HOST_MEMORY = 5
    OUT_OF_DEVICE_MEMORY = 6
    DEVICE_LOST = 7
    VULKAN = 8
    FEATURE_MISSING = 9
    CANCELLED = 10
    CONTEXT_FULL = 11
    INTERNAL = 12
    BUFFER_TOO_SMALL = 13


class Error(Exception):
    """Every failure of the package: `status` (a Status) and `message` (the library's words).

    The package raises it for the library's errors and for arguments that cannot be passed to
    C at all (a float where a token id goes, a value that does not fit the C type); the latter
    carry Status.INVALID_ARGUMENT, like the library's own argument checks.
    """

    def __init__(self, status: int, message: str):
        try:
            self.status: Status | int = Status(status)
        except ValueError:  # a status a newer library may add
            self.status = status
        self.message = message
        super().__init__(f"{_lib.status_string(int(status))}: {message}")

    def __reduce__(self) -> tuple[type["Error"], tuple[int, str]]:  # picklable (multiprocessing) despite the two-argument constructor
        return (type(self), (int(self.status), self.message))


def check(status: int) -> None:
    """Raises Error for a non-OK status, with the calling thread's vks_last_error()."""
    if status != Status.OK:
        raise Error(status, _lib.last_error())


def invalid(message: str) -> Error:
    return Error(Status.INVALID_ARGUMENT, message)
