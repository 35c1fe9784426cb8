"""What every layer shares: named parameters and their gradients, and argument checks with clear messages."""

from __future__ import annotations

import numpy as np

from seqlab.values import is_whole

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def as_dtype(dtype) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype not in FLOAT_DTYPES:
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    return dtype


def sizes(**named) -> tuple[int, ...]:
    """The given layer sizes as ints: TypeError unless each is a whole number (not a bool, not 3.5),
    ValueError unless each is at least 1."""
    for name, v in named.items():
        if not is_whole(v):
            raise TypeError(f"{name} must be a whole number, got {v!r}")
        if v < 1:
            raise ValueError(f"{name} must be at least 1, got {v}")
    return tuple(int(v) for v in named.values())


def generator(rng) -> np.random.Generator:
    """rng as given, or a fresh np.random.default_rng() for None; TypeError for anything else (an int seed
    would fail later with an AttributeError: pass np.random.default_rng(seed))."""
    if rng is None:
        return np.random.default_rng()
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator, e.g. np.random.default_rng(0), got {type(rng).__name__}")
    return rng


def _fmt(shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def check_array(name: str, a, shape: tuple, dtype: np.dtype) -> np.ndarray:
    """Checks that `a` is an ndarray of `dtype` whose shape matches `shape` (str entries are free: 'T', 'B')."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a numpy array of shape {_fmt(shape)}, got {type(a).__name__}")
    ok = a.ndim == len(shape) and all(isinstance(s, str) or s == n for s, n in zip(shape, a.shape))
    if not ok:
        raise ValueError(f"{name} must have shape {_fmt(shape)}, got {_fmt(a.shape)}")
    if a.dtype != dtype:
        raise TypeError(f"{name} must have dtype {dtype}, got {a.dtype}")
    return a


ALIGN = 64   # bytes: a cache line, and one AVX-512 register


def aligned_empty(shape: tuple, dtype) -> np.ndarray:
    """np.empty(shape, dtype) whose first element starts on a 64-byte boundary.

    Most of NumPy's allocations land on 64 bytes, not all (often the first large ones of a process land on
    16), and a misaligned operand slows the small products by 7-20% and elementwise calls by up to 35%
    (a (32, 128)·(128, 512) product: 33 µs aligned, 36-40 µs not; tanh of a (32, 512) row: 3.4 against 4.6).
    The layers' buffers and scratch arrays come from here so that no run draws the slow case."""
    dtype = np.dtype(dtype)
    n = int(np.prod(shape, dtype=np.int64))
    if n == 0:
        return np.empty(shape, dtype)                # no element, nothing to align
    raw = np.empty(n * dtype.itemsize + ALIGN, np.uint8)
    start = -raw.ctypes.data % ALIGN
    return raw[start:start + n * dtype.itemsize].view(dtype).reshape(shape)


def aligned_copy(a: np.ndarray) -> np.ndarray:
    """A C-contiguous copy of `a` (any layout, e.g. a transposed view) on a 64-byte boundary."""
    out = aligned_empty(a.shape, a.dtype)
    np.copyto(out, a)
    return out


def kept_array(store: dict, name: str, shape: tuple, dtype) -> np.ndarray:
    """An uninitialised array kept in `store` under `name` and handed out again while shape and dtype stay.

    Training loops call layers with one shape batch after batch; reusing their arrays spares a page fault per
    fresh 4 KiB page (at the course's sizes about a tenth of a training step). Only arrays that never leave
    the layer may come from here: the next call overwrites them.
    """
    dtype = np.dtype(dtype)
    buf = store.get(name)
    if buf is None or buf.shape != shape or buf.dtype != dtype:
        buf = store[name] = aligned_empty(shape, dtype)
    return buf


def check_ids(ids, vocab_size: int) -> np.ndarray:
    if not isinstance(ids, np.ndarray) or not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"ids must be an integer numpy array, got {getattr(ids, 'dtype', type(ids).__name__)}")
    if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):
        raise ValueError(f"ids must lie in [0, {vocab_size}), got values in [{ids.min()}, {ids.max()}]")
    return ids


def one_hot(ids: np.ndarray, vocab_size: int, dtype=np.float32) -> np.ndarray:
    """ids int (...) -> one-hot vectors (..., V) of `dtype`; a negative id (-1) gives the zero vector, the
    course's "nothing yet" input x⟨0⟩ = 0. Ids are not otherwise checked (see check_ids)."""
    ids = np.asarray(ids)
    hot = ids >= 0
    out = np.zeros((*ids.shape, vocab_size), dtype)
    np.put_along_axis(out, np.where(hot, ids, 0)[..., None], hot[..., None], axis=-1)
    return out


def named_arrays(named_layers) -> dict[str, np.ndarray]:
    """[(prefix, layer), ...] -> every parameter as "prefix.name" -> a copy (what a checkpoint stores)."""
    return {f"{prefix}.{name}": p.copy() for prefix, layer in named_layers for name, p in layer.params.items()}


def load_named_arrays(named_layers, arrays: dict[str, np.ndarray]) -> None:
    """Copy parameters in from `arrays` (names as `named_arrays` gives them); ValueError naming a missing or
    misshapen one."""
    for prefix, layer in named_layers:
        for name, p in layer.params.items():
            key = f"{prefix}.{name}"
            if key not in arrays:
                raise ValueError(f"arrays: missing parameter {key!r}")
            a = np.asarray(arrays[key])
            if a.shape != p.shape:
                raise ValueError(f"arrays[{key!r}]: expected shape {p.shape}, got {a.shape}")
            p[...] = a


class Layer:
    """A layer holds `params` and `grads`, dicts of name -> array with equal keys and shapes.

    backward() overwrites `grads`; optimizers update `params` in place.
    """

    params: dict[str, np.ndarray]
    grads: dict[str, np.ndarray]

    def _init_grads(self) -> None:
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    @property
    def num_params(self) -> int:
        return int(sum(p.size for p in self.params.values()))

    def set_params(self, **arrays: np.ndarray) -> None:
        """Copies new values into the named parameters (shapes must match; dtype is converted)."""
        for name, value in arrays.items():
            if name not in self.params:
                raise KeyError(f"{type(self).__name__} has no parameter {name!r}; it has {sorted(self.params)}")
            value = np.asarray(value)
            if value.shape != self.params[name].shape:
                raise ValueError(f"{name} must have shape {_fmt(self.params[name].shape)}, got {_fmt(value.shape)}")
            self.params[name][...] = value
