"""The basic (Elman) RNN over whole sequences: a⟨t⟩ = tanh(x⟨t⟩·W_x + a⟨t−1⟩·W_h + b)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from seqlab.engine.base import aligned_copy, aligned_empty
from seqlab.engine.recurrent import Recurrent


class RNNCache(NamedTuple):
    """What forward keeps for backward: x, and hs (T+1, B, H), a⟨0⟩…a⟨T⟩."""

    x: np.ndarray
    hs: np.ndarray


class RNN(Recurrent):
    """tanh RNN layer. x (T, B, D) -> out (T, B, H); state h (B, H). Parameters W_x (D, H), W_h (H, H), b (H,)."""

    blocks = 1

    def __init__(self, input_size: int, hidden_size: int, *, dtype=np.float32, rng=None):
        super().__init__(input_size, hidden_size, dtype=dtype, rng=rng)
        self._init_grads()

    def config(self) -> dict:
        c = super().config()
        c.pop("recurrent_activation")
        return c

    def forward(self, x, state=None, cache: bool = True):
        """x (T, B, D) or one-hot ids (T, B), state h0 (B, H) or None -> (out (T, B, H), h_T (B, H))."""
        x = self._check_x(x)
        T, B = x.shape[:2]
        h0, _ = self._initial_state(state, B)
        W_h = self.params["W_h"]
        hs = aligned_empty((T + 1, B, self.hidden_size), self.dtype)
        hs[0] = h0
        self._project_inputs(x, out=hs[1:].reshape(T * B, -1))
        rec = aligned_empty((B, self.hidden_size), self.dtype)
        zero_start = state is None              # a⟨0⟩ = 0: the first recurrent product is zero, skip it
        for t in range(T):
            nxt = hs[t + 1]
            if t or not zero_start:
                np.matmul(hs[t], W_h, out=rec)
                nxt += rec
            np.tanh(nxt, out=nxt)
        self._cache = RNNCache(x, hs) if cache else None
        return hs[1:], hs[T].copy()

    def backward(self, dout, dstate=None, need_dx: bool = True, need_dstate: bool = True):
        """dout (T, B, H) or None, dstate dh_T (B, H) or None -> (dx (T, B, D), dh0 (B, H)); sets grads.

        need_dx=False skips dx (returns None) when the input is data, not something to train; ids have no dx.
        need_dstate=False skips the last step's product that only dh0 needs (returns None for it) when the
        initial state is not trained: zeros, or a state carried over from the previous batch.
        """
        x, hs = self._need_cache()
        T, B = x.shape[:2]
        H = self.hidden_size
        dout, dh_rec, _ = self._start_backward(dout, dstate, T, B)
        W_hT = aligned_copy(self.params["W_h"].T)   # contiguous: faster small products (see LSTM)
        dpre = self._buffer("dpre", (T, B, H))
        for t in range(T - 1, -1, -1):
            d = dpre[t]
            h = hs[t + 1]
            np.multiply(h, h, out=d)
            np.subtract(1.0, d, out=d)
            if dout is None:
                d *= dh_rec
            else:
                d *= dout[t] + dh_rec
            if t or need_dstate:
                np.matmul(d, W_hT, out=dh_rec)
        self._cache = None
        np.matmul(hs[:T].reshape(T * B, H).T, dpre.reshape(T * B, H), out=self.grads["W_h"])
        dx = self._input_grads(x, dpre, need_dx)
        return dx, (dh_rec if need_dstate else None)
