"""Feed-forward pieces: Dense, Embedding, Dropout."""

from __future__ import annotations

import numpy as np

from seqlab.engine import init
from seqlab.engine.base import Layer, as_dtype, check_array, check_ids, generator, kept_array, one_hot, sizes


class Dense(Layer):
    """y = x·W + b over the last axis. x (..., in) -> y (..., out). Parameters W (in, out), b (out,)."""

    def __init__(self, in_features: int, out_features: int, *, dtype=np.float32, rng=None):
        self.in_features, self.out_features = sizes(in_features=in_features, out_features=out_features)
        self.dtype = as_dtype(dtype)
        rng = generator(rng)
        self.params = {"W": init.glorot_uniform(rng, (self.in_features, self.out_features), self.dtype),
                       "b": np.zeros(self.out_features, self.dtype)}
        self._init_grads()
        self._x = None

    def config(self) -> dict:
        return {"type": "Dense", "in_features": self.in_features, "out_features": self.out_features}

    def forward(self, x, cache: bool = True) -> np.ndarray:
        if not isinstance(x, np.ndarray) or x.ndim < 1 or x.shape[-1] != self.in_features:
            got = x.shape if isinstance(x, np.ndarray) else type(x).__name__
            raise ValueError(f"x must have shape (..., {self.in_features}), got {got}")
        if x.dtype != self.dtype:
            raise TypeError(f"x must have dtype {self.dtype}, got {x.dtype}")
        self._x = x if cache else None
        y = np.matmul(x.reshape(-1, self.in_features), self.params["W"])
        y += self.params["b"]
        return y.reshape(*x.shape[:-1], self.out_features)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """dy (..., out) -> dx (..., in); sets grads."""
        if self._x is None:
            raise RuntimeError("Dense.backward() needs a forward(..., cache=True) first")
        x = self._x
        check_array("dy", dy, (*x.shape[:-1], self.out_features), self.dtype)
        x2 = x.reshape(-1, self.in_features)
        d2 = dy.reshape(-1, self.out_features)
        np.matmul(x2.T, d2, out=self.grads["W"])
        np.sum(d2, axis=0, out=self.grads["b"])
        self._x = None
        return np.matmul(d2, self.params["W"].T).reshape(x.shape)


class Embedding(Layer):
    """A lookup table: ids (T, B) ints in [0, V) -> vectors (T, B, dim). Parameter W (V, dim)."""

    def __init__(self, vocab_size: int, dim: int, *, dtype=np.float32, rng=None):
        self.vocab_size, self.dim = sizes(vocab_size=vocab_size, dim=dim)
        self.dtype = as_dtype(dtype)
        rng = generator(rng)
        self.params = {"W": init.normal(rng, (self.vocab_size, self.dim), self.dtype)}
        self._init_grads()
        self._ids = None

    def config(self) -> dict:
        return {"type": "Embedding", "vocab_size": self.vocab_size, "dim": self.dim}

    def forward(self, ids, cache: bool = True) -> np.ndarray:
        ids = check_ids(ids, self.vocab_size)
        self._ids = ids if cache else None
        return self.params["W"][ids]

    def backward(self, dy: np.ndarray) -> None:
        """dy (T, B, dim); sets grads (rows of repeated ids add up). Returns None: ids have no gradient."""
        ids = self._ids
        if ids is None:
            raise RuntimeError("Embedding.backward() needs a forward(..., cache=True) first")
        check_array("dy", dy, (*ids.shape, self.dim), self.dtype)
        g = self.grads["W"]
        g[...] = 0
        np.add.at(g, ids.ravel(), dy.reshape(-1, self.dim))
        self._ids = None
        return None


class OneHot:
    """ids (T, B) -> one-hot vectors (T, B, V): the course's input encoding. No parameters."""

    params: dict = {}
    grads: dict = {}

    def __init__(self, vocab_size: int, *, dtype=np.float32):
        self.vocab_size, = sizes(vocab_size=vocab_size)
        self.dtype = as_dtype(dtype)

    def config(self) -> dict:
        return {"type": "OneHot", "vocab_size": self.vocab_size}

    def forward(self, ids, cache: bool = True) -> np.ndarray:
        return one_hot(check_ids(ids, self.vocab_size), self.vocab_size, self.dtype)

    def backward(self, dy) -> None:
        return None


class Dropout:
    """Inverted dropout: keeps each unit with probability 1 − p and scales it by 1/(1 − p) while training.

    shared_axis: None draws one multiplier per entry of x; an axis (0: time, for x (T, B, D)) draws one
    mask with that axis of size 1 and uses it all along it: variational dropout (Gal & Ghahramani), the same
    units of a sequence dropped at every step.
    """

    params: dict = {}
    grads: dict = {}

    def __init__(self, p: float, rng=None, shared_axis: int | None = None):
        if not 0.0 <= p < 1.0:
            raise ValueError(f"p must be in [0, 1), got {p}")
        self.p = float(p)
        self.rng = generator(rng)
        self.shared_axis = shared_axis
        self._mask = None
        self._kept: dict[str, np.ndarray] = {}

    def mask_shape(self, shape: tuple) -> tuple:
        """The shape of the mask drawn for an x of `shape` (1 along shared_axis)."""
        if self.shared_axis is None:
            return tuple(shape)
        return tuple(1 if k == self.shared_axis else n for k, n in enumerate(shape))

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        if not training or self.p == 0.0:
            self._mask = None
            return x
        keep = 1.0 - self.p
        shape = self.mask_shape(x.shape)
        # The draws, the test and the mask reuse their arrays while the shape stays (layer.kept_array).
        draws = self.rng.random(out=kept_array(self._kept, "draws", shape, np.float64))
        kept = np.less(draws, keep, out=kept_array(self._kept, "kept", shape, bool))
        self._mask = np.divide(kept, x.dtype.type(keep), out=kept_array(self._kept, "mask", shape, x.dtype))
        return x * self._mask   # (broadcast along shared_axis)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy if self._mask is None else dy * self._mask
