"""The shared frame of the recurrent layers: argument checks, the input projection, weight gradients.

Each layer computes the input projection x⟨t⟩·W_x + b for all T steps in one matrix product before the time
loop, and after the backward time loop gets dW_x, dW_h and db from one matrix product each over all steps.
Only the h⟨t−1⟩·W_h product and the elementwise gate work remain inside the loop.
"""

from __future__ import annotations

import numpy as np

from seqlab.engine import init
from seqlab.engine.activations import RECURRENT_ACTIVATIONS
from seqlab.engine.base import (
    Layer,
    aligned_empty,
    as_dtype,
    check_array,
    check_ids,
    generator,
    kept_array,
    one_hot,
    sizes,
)

# Above this many entries (64 MB of float32) the one-hot rows of id inputs are not built for dW_x's product:
# the gradient is summed by id instead, the same sums in another order (so within float32 rounding, not bit for
# bit). Character vocabularies stay far below it (a batch of dinosaur names is about 25 x 32 x 27 = 21,600).
ONE_HOT_LIMIT = 1 << 24


class Recurrent(Layer):
    """Base of RNN, LSTM and GRU. `blocks` is the number of gate blocks stacked in the columns of W_x and W_h."""

    blocks = 1
    has_cell = False  # LSTM carries (h, c)
    gate_names = ""   # the gate blocks' letters in column order (gate_values)

    def __init__(self, input_size: int, hidden_size: int, *, dtype=np.float32, rng=None,
                 recurrent_activation: str = "sigmoid"):
        self.input_size, self.hidden_size = sizes(input_size=input_size, hidden_size=hidden_size)
        if recurrent_activation not in RECURRENT_ACTIVATIONS:
            raise ValueError(f"recurrent_activation must be one of {RECURRENT_ACTIVATIONS}, "
                             f"got {recurrent_activation!r}")
        self.dtype = as_dtype(dtype)
        self.recurrent_activation = recurrent_activation
        rng = generator(rng)
        D, H, G = self.input_size, self.hidden_size, self.blocks
        self.params = {
            "W_x": init.glorot_uniform(rng, (D, G * H), self.dtype),
            "W_h": init.orthogonal_blocks(rng, H, G, self.dtype),
            "b": np.zeros(G * H, self.dtype),
        }
        self._cache = None
        self._buffers: dict[str, np.ndarray] = {}

    @property
    def output_size(self) -> int:
        return self.hidden_size

    def config(self) -> dict:
        return {"type": type(self).__name__, "input_size": self.input_size, "hidden_size": self.hidden_size,
                "recurrent_activation": self.recurrent_activation}

    # --- argument checks -------------------------------------------------------------------------------
    def _check_x(self, x) -> np.ndarray:
        """x (T, B, D) of the layer's dtype, or ids (T, B) of an integer dtype standing for one-hot rows."""
        if isinstance(x, np.ndarray) and x.ndim == 2 and np.issubdtype(x.dtype, np.integer):
            check_ids(x, self.input_size)
        else:
            x = check_array("x", x, ("T", "B", self.input_size), self.dtype)
        if x.shape[0] < 1 or x.shape[1] < 1:
            raise ValueError(f"x must have at least one step and one sequence, got shape {x.shape}")
        return x

    def _check_h(self, name: str, h, B: int) -> np.ndarray:
        return check_array(name, h, (B, self.hidden_size), self.dtype)

    def _initial_state(self, state, B: int):
        """(h0, c0) with zeros where not given; c0 is None for layers without a cell."""
        H = self.hidden_size
        if self.has_cell:
            if state is None:
                return np.zeros((B, H), self.dtype), np.zeros((B, H), self.dtype)
            if not (isinstance(state, tuple) and len(state) == 2):
                raise TypeError("state must be a tuple (h0, c0) of arrays of shape (B, hidden_size) for an LSTM")
            return self._check_h("h0", state[0], B), self._check_h("c0", state[1], B)
        if state is None:
            return np.zeros((B, H), self.dtype), None
        return self._check_h("h0", state, B), None

    def _final_dstate(self, dstate, B: int):
        if self.has_cell:
            if dstate is None:
                return None, None
            if not (isinstance(dstate, tuple) and len(dstate) == 2):
                raise TypeError("dstate must be a tuple (dh_T, dc_T) for an LSTM")
            dh = None if dstate[0] is None else self._check_h("dh_T", dstate[0], B)
            dc = None if dstate[1] is None else self._check_h("dc_T", dstate[1], B)
            return dh, dc
        return (None if dstate is None else self._check_h("dh_T", dstate, B)), None

    def _start_backward(self, dout, dstate, T: int, B: int):
        """Checks the upstream gradients; returns (dout or None, dh_T, dc_T) with the final-state gradients as
        fresh (B, H) arrays the time loop may overwrite (zeros where not given; dc_T is None without a cell)."""
        if dout is not None:
            dout = check_array("dout", dout, (T, B, self.hidden_size), self.dtype)
        dh_T, dc_T = self._final_dstate(dstate, B)
        zeros = np.zeros((B, self.hidden_size), self.dtype)
        dh = zeros.copy() if dh_T is None else dh_T.copy()
        dc = None if not self.has_cell else (zeros if dc_T is None else dc_T.copy())
        return dout, dh, dc

    def gate_values(self) -> dict[str, np.ndarray]:
        """The activated gates of the last forward, {letter of `gate_names`: (T, B, H) copy}.

        LSTM: i, f, g, o (the course's Γi, Γf, c̃, Γo); GRU: r, z, n (Γr, 1 − Γu, c̃)."""
        cache = self._cache
        if cache is None or not self.gate_names:
            raise RuntimeError(f"{type(self).__name__}'s gates need a forward(..., cache=True) and no backward since")
        H = self.hidden_size
        return {name: cache.gates[:, :, k * H:(k + 1) * H].copy() for k, name in enumerate(self.gate_names)}

    # --- the parts shared by all cells -------------------------------------------------------------------
    def _buffer(self, name: str, shape: tuple, keep: bool = True) -> np.ndarray:
        """An uninitialised array of the layer's dtype for its own use (the backward cache and scratch).

        With keep=True (training calls) it is kept and reused by the next call of the same shape
        (layer.kept_array); the next forward overwrites it, which is safe because it also replaces the cache
        that refers to it."""
        return kept_array(self._buffers, name, shape, self.dtype) if keep else aligned_empty(shape, self.dtype)

    def _project_inputs(self, x: np.ndarray, out: np.ndarray | None = None, scale=None) -> np.ndarray:
        """x⟨t⟩·W_x + b for every step in one matrix product: (T, B, D) or ids (T, B) -> (T, B, G·H).

        For ids the product of a one-hot row is a row of W_x, so the projection is a row lookup in W_x + b
        (the same numbers the product gives). `scale` (G·H,) multiplies the columns of W_x and b first (the
        LSTM halves its σ gates)."""
        T, B = x.shape[:2]
        W_x, b = self.params["W_x"], self.params["b"]
        if scale is not None:
            W_x, b = W_x * scale, b * scale
        if x.ndim == 2:
            proj = np.take(W_x + b, x.reshape(T * B), axis=0, out=out, mode="clip")   # ids checked already
        else:
            proj = np.matmul(x.reshape(T * B, -1), W_x, out=out)
            proj += b
        return proj.reshape(T, B, -1)

    def _input_grads(self, x: np.ndarray, dpre_x: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        """From dL/d(x·W_x + b) of all steps, (T, B, G·H): sets dW_x, db; returns dx (T, B, D) or None.

        For ids (T, B) there is no dx: None."""
        T, B = x.shape[:2]
        d2 = dpre_x.reshape(T * B, -1)
        D = self.input_size
        if x.ndim == 2 and T * B * D > ONE_HOT_LIMIT:       # a large vocabulary: sum the rows by id
            self.grads["W_x"][...] = 0
            np.add.at(self.grads["W_x"], x.reshape(-1), d2)
            np.sum(d2, axis=0, out=self.grads["b"])
            return None
        if x.ndim == 2:                                      # the one-hot rows the ids stand for
            rows = one_hot(x, D, self.dtype).reshape(T * B, D)
            need_dx = False
        else:
            rows = x.reshape(T * B, D)
        np.matmul(rows.T, d2, out=self.grads["W_x"])
        np.sum(d2, axis=0, out=self.grads["b"])
        if not need_dx:
            return None
        return np.matmul(d2, self.params["W_x"].T).reshape(T, B, D)

    def forward(self, x, state=None, cache: bool = True):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, dout, dstate=None):  # pragma: no cover - abstract
        raise NotImplementedError

    def _need_cache(self):
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward() needs a forward(..., cache=True) first")
        return self._cache
