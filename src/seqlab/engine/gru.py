"""Gated recurrent unit over whole sequences, with exact backpropagation through time.

Blocks in the columns of W_x, W_h and b follow PyTorch's order and convention r, z, n:

    r = σ(x·W_xr + h·W_hr + b_r)                 reset gate (the course's Γr)
    z = σ(x·W_xz + h·W_hz + b_z)                 keep gate; the course's update gate is Γu = 1 − z
    n = tanh(x·W_xn + b_n + r ∗ (h·W_hn + b_hn))   reset_after=True  (PyTorch, Keras reset_after=True)
    n = tanh(x·W_xn + b_n + (r ∗ h)·W_hn)          reset_after=False (the lecture, Keras reset_after=False)
    h' = (1 − z) ∗ n + z ∗ h                     (the course: a⟨t⟩ = Γu ∗ c̃ + (1 − Γu) ∗ a⟨t−1⟩)

The reset_after form written plainly, one step and one gate at a time, is tests/reference_rnn.py.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from seqlab.engine.activations import gate, gate_grad_inplace
from seqlab.engine.base import aligned_copy, aligned_empty
from seqlab.engine.recurrent import Recurrent


class GRUCache(NamedTuple):
    """What forward keeps for backward. gates (T, B, 3H): the activated gate row of each step (r, z, n),
    overwritten by backward with dL/d(input pre-activation); hs (T+1, B, H): h⟨0⟩…h⟨T⟩; aux (T, B, H): the
    n block's recurrent part, h·W_hn + b_hn (reset_after) or r ∗ h (before)."""

    x: np.ndarray
    gates: np.ndarray
    hs: np.ndarray
    aux: np.ndarray


class GRU(Recurrent):
    """GRU layer. x (T, B, D) -> out (T, B, H); state h (B, H).

    Parameters: W_x (D, 3H), W_h (H, 3H), b (3H,), and b_hn (H,) when reset_after.
    """

    blocks = 3
    gate_names = "rzn"

    def __init__(self, input_size: int, hidden_size: int, *, dtype=np.float32, rng=None,
                 recurrent_activation: str = "sigmoid", reset_after: bool = True):
        super().__init__(input_size, hidden_size, dtype=dtype, rng=rng, recurrent_activation=recurrent_activation)
        self.reset_after = bool(reset_after)
        if self.reset_after:
            self.params["b_hn"] = np.zeros(self.hidden_size, self.dtype)
        self._init_grads()

    def config(self) -> dict:
        return {**super().config(), "reset_after": self.reset_after}

    def forward(self, x, state=None, cache: bool = True):
        """x (T, B, D) or one-hot ids (T, B), state h0 (B, H) or None -> (out (T, B, H), h_T (B, H))."""
        x = self._check_x(x)
        T, B = x.shape[:2]
        H = self.hidden_size
        h0, _ = self._initial_state(state, B)
        act = gate(self.recurrent_activation)
        W_h = self.params["W_h"]

        # (T, B, 3H): pre-activations, then r, z, n in place
        gates = self._project_inputs(x, out=self._buffer("gates", (T * B, 3 * H), cache))
        hs = aligned_empty((T + 1, B, H), self.dtype)
        hs[0] = h0
        # What the n block's recurrent part needs for backward: h·W_hn + b_hn (after) or r ∗ h (before).
        aux = self._buffer("aux", (T, B, H), cache)
        rec = aligned_empty((B, 3 * H), self.dtype)
        s = aligned_empty((B, H), self.dtype)
        for t in range(T):
            row = gates[t]
            h = hs[t]
            rz, n = row[:, :2 * H], row[:, 2 * H:]
            if self.reset_after:
                np.matmul(h, W_h, out=rec)
                rz += rec[:, :2 * H]
                act(rz, out=rz)
                np.add(rec[:, 2 * H:], self.params["b_hn"], out=aux[t])
                np.multiply(row[:, :H], aux[t], out=s)
                n += s
            else:
                np.matmul(h, W_h[:, :2 * H], out=rec[:, :2 * H])
                rz += rec[:, :2 * H]
                act(rz, out=rz)
                np.multiply(row[:, :H], h, out=aux[t])
                np.matmul(aux[t], W_h[:, 2 * H:], out=s)
                n += s
            np.tanh(n, out=n)
            # h' = n + z ∗ (h − n)
            np.subtract(h, n, out=s)
            s *= row[:, H:2 * H]
            np.add(n, s, out=hs[t + 1])
        self._cache = GRUCache(x, gates, hs, aux) if cache else None
        return hs[1:], hs[T].copy()

    def backward(self, dout, dstate=None, need_dx: bool = True, need_dstate: bool = True):
        """dout (T, B, H) or None, dstate dh_T (B, H) or None -> (dx (T, B, D), dh0 (B, H)); sets grads.

        need_dx=False skips dx (returns None) when the input is data, not something to train; ids have no dx.
        need_dstate=False skips the last step's products that only dh0 needs (returns None for it) when the
        initial state is not trained: zeros, or a state carried over from the previous batch.
        """
        x, gates, hs, aux = self._need_cache()
        T, B = x.shape[:2]
        H = self.hidden_size
        dout, dh_rec, _ = self._start_backward(dout, dstate, T, B)
        W_h = self.params["W_h"]
        # the r|z and n blocks of W_hᵀ, each copied contiguous: faster small products (see LSTM)
        W_rzT = aligned_copy(W_h[:, :2 * H].T)
        W_nT = aligned_copy(W_h[:, 2 * H:].T)
        dh = aligned_empty((B, H), self.dtype)
        s1 = aligned_empty((B, H), self.dtype)
        s2 = aligned_empty((B, H), self.dtype)
        # dL/d(recurrent pre-activations h·W_h): r and z blocks equal the input-side ones; n block differs.
        drec_n = self._buffer("drec_n", (T, B, H))
        for t in range(T - 1, -1, -1):
            row = gates[t]
            r, z, n = row[:, :H], row[:, H:2 * H], row[:, 2 * H:]
            h = hs[t]
            if dout is None:
                dh[...] = dh_rec
            else:
                np.add(dout[t], dh_rec, out=dh)
            # z: dz = dh ∗ (h − n);  n: dn = dh ∗ (1 − z);  direct path: dh ∗ z
            np.subtract(h, n, out=s1)
            s1 *= dh
            np.multiply(dh, z, out=dh_rec)
            np.subtract(1.0, z, out=s2)
            s2 *= dh                                   # dn
            gate_grad_inplace(self.recurrent_activation, z, s1, dh)         # z slot := d(pre z); dh is free now
            # n: d(pre n) = dn ∗ (1 − n²)
            np.multiply(n, n, out=s1)
            np.subtract(1.0, s1, out=s1)
            np.multiply(s2, s1, out=n)                 # n slot := d(pre n)
            if self.reset_after:
                # n = tanh(… + r ∗ aux), aux = h·W_hn + b_hn
                np.multiply(n, r, out=drec_n[t])       # d aux
                np.multiply(n, aux[t], out=s1)         # dr
                gate_grad_inplace(self.recurrent_activation, r, s1, s2)
                if t or need_dstate:
                    dh_rec += np.matmul(row[:, :2 * H], W_rzT)
                    dh_rec += np.matmul(drec_n[t], W_nT)
            else:
                # n = tanh(… + (r ∗ h)·W_hn): d(r ∗ h) = d(pre n)·W_hnᵀ
                np.matmul(n, W_nT, out=s1)
                np.multiply(s1, r, out=s2)
                dh_rec += s2
                s1 *= h                                # dr
                gate_grad_inplace(self.recurrent_activation, r, s1, s2)
                if t or need_dstate:
                    dh_rec += np.matmul(row[:, :2 * H], W_rzT)

        self._cache = None
        dgates = gates  # dL/d(input pre-activations), (T, B, 3H)
        h_prev = hs[:T].reshape(T * B, H)
        gW_h = self.grads["W_h"]
        np.matmul(h_prev.T, dgates[:, :, :2 * H].reshape(T * B, 2 * H), out=gW_h[:, :2 * H])
        if self.reset_after:
            np.matmul(h_prev.T, drec_n.reshape(T * B, H), out=gW_h[:, 2 * H:])
            np.sum(drec_n.reshape(T * B, H), axis=0, out=self.grads["b_hn"])
        else:
            np.matmul(aux.reshape(T * B, H).T, dgates[:, :, 2 * H:].reshape(T * B, H), out=gW_h[:, 2 * H:])
        dx = self._input_grads(x, dgates, need_dx)
        return dx, (dh_rec if need_dstate else None)
