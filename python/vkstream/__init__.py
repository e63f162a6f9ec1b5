"""vkstream for Python: GGUF language models on any Vulkan device, streaming for ever in
constant memory with StreamingLLM attention sinks.

    import vkstream
    with vkstream.Model("SmolLM2-135M-Instruct.Q4_1.gguf") as m:
        with vkstream.Session(m, n_sink=4, n_window=1020, temperature=0) as s:
            s.feed(m.tokenize("The capital of France is"))
            print(s.logits().argmax())                    # numpy float32, shape (n_vocab,)
            for token, piece in s.generate(16):
                print(piece, end="", flush=True)

A thin layer over the C API (include/vkstream/vkstream.h) through ctypes: every failure is
vkstream.Error with .status (vkstream.Status) and the library's .message.
"""
from ._errors import Error, Status
from ._lib import lib as _clib
from ._model import DeviceInfo, Model, ModelInfo, devices
from ._session import Session, SessionStats


def version() -> str:
    """The library's version, "MAJOR.MINOR.PATCH"."""
    v: bytes = _clib.vks_version()
    return v.decode()


def status_string(status: int) -> str:
    """The library's short English name of a status ("invalid argument", ...)."""
    name: bytes = _clib.vks_status_string(int(status))
    return name.decode()


__version__ = version()
__all__ = ["DeviceInfo", "Error", "Model", "ModelInfo", "Session", "SessionStats", "Status", "devices",
           "status_string", "version"]
