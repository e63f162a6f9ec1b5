"""Model (vks_model_*, tokens, chat) and devices (vks_device_*)."""
from __future__ import annotations

import ctypes
import dataclasses
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional, Sequence, Union

import numpy as np

from . import _args, _lib
from ._errors import Status, check, invalid

if TYPE_CHECKING:
    from ._session import Session

ProgressFn = Callable[[float], Optional[bool]]
Message = Union[Mapping[str, str], Sequence[str]]


@dataclasses.dataclass(frozen=True)
class DeviceInfo:
    """One Vulkan device (vks_device_info)."""
    index: int
    name: str
    type: str            # "discrete", "integrated", "virtual", "cpu", "other"
    api_version: int     # VK_MAKE_API_VERSION encoding
    memory_bytes: int    # largest device-local heap
    selected: bool       # the device Model() picks by default


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    """What vks_model_get_info reports."""
    architecture: str
    name: str
    n_vocab: int
    n_embd: int
    n_layer: int
    n_head: int
    n_head_kv: int
    head_dim: int
    n_ctx_train: int
    n_params: int
    weight_bytes: int
    bos: int             # -1 if none
    eos: int             # -1 if none


def devices() -> list[DeviceInfo]:
    """The Vulkan devices the library sees, in the order device= indexes them."""
    n = ctypes.c_size_t()
    check(_lib.lib.vks_device_count(ctypes.byref(n)))
    out = []
    for i in range(n.value):
        d = _lib.DeviceInfo()
        d.struct_size = ctypes.sizeof(d)
        check(_lib.lib.vks_device_get_info(i, ctypes.byref(d)))
        out.append(DeviceInfo(i, d.name.decode("utf-8", "replace"), d.type.decode("utf-8", "replace"),
                              d.api_version, d.memory_bytes, bool(d.selected)))
    return out


def _grow(call: Callable[[Any, int, Any], int], make: Callable[[int], Any], capacity: int) -> tuple[Any, int]:
    """Runs a C call that writes into a caller buffer and answers BUFFER_TOO_SMALL with the size
    it needs: once with `capacity`, again with the size the library asked for."""
    n = ctypes.c_size_t()
    buf = make(capacity)
    st = call(buf, capacity, ctypes.byref(n))
    if st == Status.BUFFER_TOO_SMALL:
        capacity = n.value
        buf = make(capacity)
        st = call(buf, capacity, ctypes.byref(n))
    check(st)
    return buf, n.value


class Model:
    """A GGUF model loaded onto a Vulkan device (vks_model).

        with vkstream.Model("SmolLM2-135M-Instruct.Q4_1.gguf") as m:
            print(m.info.architecture, m.tokenize("Hello"))

    device: index into devices() (None: the library's choice, or VKS_DEVICE).
    validation: turn the Vulkan validation layer on (debugging; VKS_VALIDATE=1 does too).
    progress: called with the loaded fraction in [0, 1] during the upload; return True to
    cancel the load (Error with Status.CANCELLED). An exception it raises cancels the load and
    is raised again from Model().
    The load runs without the GIL (other Python threads keep running).
    """

    def __init__(self, path: _args.PathArg, *, device: Optional[int] = None,
                 validation: Optional[bool] = None, progress: Optional[ProgressFn] = None):
        self._h = ctypes.c_void_p()
        c_path = _args.path("path", path)
        p = _lib.lib.vks_model_default_params()
        if device is not None:
            p.device_index = _args.integer("device", device, _args.INT32)
        if validation is not None:
            p.validation = _args.flag("validation", validation)
        if progress is not None and not callable(progress):
            raise invalid(f"progress must be callable, not {type(progress).__name__}")
        raised: list[BaseException] = []

        def on_progress(fraction: float, _user: Any) -> int:
            try:
                return 1 if progress(fraction) else 0  # type: ignore[misc]
            except BaseException as e:  # noqa: BLE001 - carried over the C frames, raised below
                raised.append(e)
                return 1

        keep = _lib.PROGRESS_FN(on_progress) if progress is not None else None
        if keep is not None:
            p.progress = keep
        st = _lib.lib.vks_model_load(c_path, ctypes.byref(p), ctypes.byref(self._h))
        if raised:
            raise raised[0]
        check(st)
        info = _lib.ModelInfo()
        info.struct_size = ctypes.sizeof(info)
        check(_lib.lib.vks_model_get_info(self._h, ctypes.byref(info)))
        fields = {f[0]: getattr(info, f[0]) for f in _lib.ModelInfo._fields_ if f[0] != "struct_size"}
        fields["architecture"] = fields["architecture"].decode("utf-8", "replace")
        fields["name"] = fields["name"].decode("utf-8", "replace")
        self.info = ModelInfo(**fields)

    devices = staticmethod(devices)

    # ---- lifetime ----
    def close(self) -> None:
        """Drops this handle. Sessions made from the model keep it alive until they are closed."""
        h, self._h = self._h, ctypes.c_void_p()
        if h:
            _lib.lib.vks_model_free(h)

    def __enter__(self) -> "Model":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_h", None):
            self.close()

    def _handle(self) -> ctypes.c_void_p:
        if not self._h:
            raise invalid("the model is closed")
        return self._h

    # ---- tokens ----
    def tokenize(self, text: Union[str, bytes], add_special: bool = True, parse_special: bool = False) -> list[int]:
        """Token ids of `text`. add_special: BOS (and EOS) as the model asks; parse_special:
        control tokens written in the text (e.g. "<|im_start|>") become their ids."""
        data = _args.text("text", text)
        h = self._handle()
        flags = (_args.flag("add_special", add_special), _args.flag("parse_special", parse_special))
        buf, n = _grow(lambda b, cap, n: _lib.lib.vks_tokenize(
            h, data, len(data), flags[0], flags[1], b.ctypes.data_as(_lib.c_int32_p), cap, n),
            lambda cap: np.empty(max(cap, 1), dtype=np.int32), len(data) + 8)
        ids: list[int] = buf[:n].tolist()
        return ids

    def detokenize_bytes(self, tokens: Sequence[int], render_special: bool = False) -> bytes:
        """The UTF-8 bytes of `tokens` exactly as the library writes them."""
        ids = _args.tokens(tokens)
        h = self._handle()
        special = _args.flag("render_special", render_special)
        buf, n = _grow(lambda b, cap, n: _lib.lib.vks_detokenize(
            h, ids.ctypes.data_as(_lib.c_int32_p), ids.size, special, b, cap, n),
            lambda cap: ctypes.create_string_buffer(max(cap, 1)), 8 * ids.size + 16)
        raw: bytes = buf.raw
        return raw[:n]

    def detokenize(self, tokens: Sequence[int], render_special: bool = False) -> str:
        """The text of `tokens` (control tokens only if render_special). Bytes that do not form
        UTF-8 (a character cut between tokens) become U+FFFD."""
        return self.detokenize_bytes(tokens, render_special).decode("utf-8", "replace")

    def is_end(self, token: int) -> bool:
        """True if `token` ends a generation turn (EOS, <|im_end|>, <|eot_id|>, ...)."""
        return int(_lib.lib.vks_token_is_end(self._handle(), _args.integer("token", token, _args.INT32))) == 1

    def chat_render(self, messages: Sequence[Message], add_generation_prompt: bool = True) -> str:
        """Renders a chat with the model's template. Each message is {"role": ..., "content": ...}
        or a (role, content) pair; role is "system", "user" or "assistant"."""
        if isinstance(messages, (str, bytes, Mapping)):
            raise invalid("messages must be a sequence of messages")
        roles, contents = [], []
        for i, m in enumerate(messages):
            if isinstance(m, Mapping):
                if "role" not in m or "content" not in m:
                    raise invalid(f"message {i} lacks 'role' or 'content'")
                r, c = m["role"], m["content"]
            elif isinstance(m, (tuple, list)) and len(m) == 2:
                r, c = m
            else:
                raise invalid(f"message {i} must be a mapping with role/content or a (role, content) pair")
            roles.append(_args.text(f"message {i} role", r))
            contents.append(_args.text(f"message {i} content", c))
        n_msg = len(roles)
        c_roles = (ctypes.c_char_p * max(n_msg, 1))(*roles)
        c_contents = (ctypes.c_char_p * max(n_msg, 1))(*contents)
        gen = _args.flag("add_generation_prompt", add_generation_prompt)
        h = self._handle()
        buf, n = _grow(lambda b, cap, n: _lib.lib.vks_chat_render(h, c_roles, c_contents, n_msg, gen, b, cap, n),
                       lambda cap: ctypes.create_string_buffer(max(cap, 1)),
                       sum(len(r) + len(c) for r, c in zip(roles, contents)) + 64 * (n_msg + 1))
        raw: bytes = buf.raw
        return raw[:n].decode("utf-8", "replace")

    # ---- sessions ----
    def session(self, **params: Any) -> "Session":
        """Session(self, **params): see Session."""
        from ._session import Session
        return Session(self, **params)


__all__ = ["DeviceInfo", "Model", "ModelInfo", "devices"]
