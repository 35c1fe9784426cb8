"""Long short-term memory over whole sequences, with exact backpropagation through time.

Gate blocks in the columns of W_x, W_h and b follow PyTorch's order i, f, g, o (the course's Γi, Γf, c̃, Γo):

    [i f g o] = [σ σ tanh σ](x⟨t⟩·W_x + a⟨t−1⟩·W_h + b)
    c⟨t⟩ = f ∗ c⟨t−1⟩ + i ∗ g
    a⟨t⟩ = o ∗ tanh(c⟨t⟩)

The same forward and backward written plainly, one step and one gate at a time (di, df, dg, do), is
tests/reference_rnn.py; tests/test_reference_rnn.py checks this fused version against it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from seqlab.engine import kernels
from seqlab.engine.activations import gate, gate_grad_inplace
from seqlab.engine.base import aligned_copy, aligned_empty
from seqlab.engine.recurrent import Recurrent


class LSTMCache(NamedTuple):
    """What forward keeps for backward. gates (T, B, 4H): the activated gate row of each step, overwritten
    by backward with dL/d(pre-activation); hs, cs (T+1, B, H): a⟨0⟩…a⟨T⟩, c⟨0⟩…c⟨T⟩; tcs (T, B, H): tanh c⟨t⟩."""

    x: np.ndarray
    gates: np.ndarray
    hs: np.ndarray
    cs: np.ndarray
    tcs: np.ndarray


class LSTM(Recurrent):
    """LSTM layer. x (T, B, D) -> out (T, B, H); state (h, c), each (B, H).

    Parameters: W_x (D, 4H), W_h (H, 4H), b (4H,). `forget_bias` initialises b's f block (1.0 is a common
    choice for training; 0 matches PyTorch and the course). `recurrent_activation` is σ for i, f, o:
    "sigmoid" or Keras 2's "hard_sigmoid".
    """

    blocks = 4
    has_cell = True
    gate_names = "ifgo"

    def __init__(self, input_size: int, hidden_size: int, *, dtype=np.float32, rng=None,
                 recurrent_activation: str = "sigmoid", forget_bias: float = 0.0):
        super().__init__(input_size, hidden_size, dtype=dtype, rng=rng, recurrent_activation=recurrent_activation)
        H = self.hidden_size
        if not np.isfinite(forget_bias):   # NaN would make every output NaN, silently
            raise ValueError(f"forget_bias must be a finite number, got {forget_bias}")
        self.params["b"][H:2 * H] = forget_bias
        self._init_grads()

    def forward(self, x, state=None, cache: bool = True):
        """x (T, B, D) or one-hot ids (T, B), state (h0, c0) or None -> (out (T, B, H), (h_T, c_T)).

        With cache=False nothing is kept for backward (use it for sampling one step at a time).
        """
        x = self._check_x(x)
        T, B = x.shape[:2]
        H = self.hidden_size
        h0, c0 = self._initial_state(state, B)
        sigmoid_gates = self.recurrent_activation == "sigmoid"
        # training (cache=True) runs the compiled loops; sampling keeps NumPy's (kernels.ENABLED says why)
        fused = kernels.compiled() if sigmoid_gates and cache else None
        if sigmoid_gates:
            # σ(s) = ½·tanh(s/2) + ½: with the i, f, o columns of W_x, W_h, b halved (exact in floating point),
            # one tanh over the whole contiguous (B, 4H) row and a multiply-add on the i, f and o blocks
            # activate all four gates.
            half = np.full(4 * H, 0.5, self.dtype)
            half[2 * H:3 * H] = 1.0
            shift = half.copy()                     # σ's + ½ on the i, f, o blocks; g's block gets + 0
            shift[2 * H:3 * H] = 0.0
            W_h = np.multiply(self.params["W_h"], half, out=aligned_empty((H, 4 * H), self.dtype))
            gates = self._project_inputs(x, out=self._buffer("gates", (T * B, 4 * H), cache), scale=half)
        else:
            act = gate(self.recurrent_activation)
            W_h = self.params["W_h"]
            # (T, B, 4H): pre-activations, then activations in place
            gates = self._project_inputs(x, out=self._buffer("gates", (T * B, 4 * H), cache))
        hs = aligned_empty((T + 1, B, H), self.dtype)  # a⟨0⟩ … a⟨T⟩
        cs = self._buffer("cs", (T + 1, B, H), cache)   # c⟨0⟩ … c⟨T⟩
        tcs = self._buffer("tcs", (T, B, H), cache)     # tanh(c⟨t⟩)
        hs[0], cs[0] = h0, c0
        rec = aligned_empty((B, 4 * H), self.dtype)
        ig = aligned_empty((B, H), self.dtype)
        zero_start = state is None              # a⟨0⟩ = 0: the first recurrent product is zero, skip it
        for t in range(T):
            row = gates[t]
            if t or not zero_start:
                np.matmul(hs[t], W_h, out=rec)
                row += rec
            c, o = cs[t + 1], row[:, 3 * H:]
            if fused is not None:
                np.tanh(row, out=row)
                fused[0](row, cs[t], c)                     # the lines below, in one compiled loop
            else:
                if sigmoid_gates:
                    np.tanh(row, out=row)
                    row *= half                              # whole-row broadcasts: about twice as fast here
                    row += shift                             # as four calls on the strided i|f and o slices
                else:
                    if_ = row[:, :2 * H]
                    act(if_, out=if_)
                    np.tanh(row[:, 2 * H:3 * H], out=row[:, 2 * H:3 * H])
                    act(o, out=o)
                np.multiply(row[:, H:2 * H], cs[t], out=c)   # f ∗ c⟨t−1⟩
                np.multiply(row[:, :H], row[:, 2 * H:3 * H], out=ig)   # i ∗ g
                c += ig
            np.tanh(c, out=tcs[t])
            np.multiply(o, tcs[t], out=hs[t + 1])
        self._cache = LSTMCache(x, gates, hs, cs, tcs) if cache else None
        out = hs[1:]
        return out, (hs[T].copy(), cs[T].copy())

    def backward(self, dout, dstate=None, need_dx: bool = True, need_dstate: bool = True):
        """dout (T, B, H) or None, dstate (dh_T, dc_T) or None -> (dx (T, B, D), (dh0, dc0)); sets grads.

        need_dx=False skips dx (returns None) when the input is data, not something to train; ids have no dx.
        need_dstate=False skips the last step's product that only (dh0, dc0) needs (returns None in their place)
        when the initial state is not trained: zeros, or a state carried over from the previous batch.

        The gate buffer of the forward pass is overwritten with dL/d(pre-activation), so backward runs once
        per forward.
        """
        x, gates, hs, cs, tcs = self._need_cache()
        T, B = x.shape[:2]
        H = self.hidden_size
        dout, dh_rec, dc = self._start_backward(dout, dstate, T, B)   # dL/da⟨t⟩ from step t+1, dL/dc⟨t⟩
        sigmoid_gates = self.recurrent_activation == "sigmoid"
        fused = kernels.compiled() if sigmoid_gates else None
        no_dout = np.empty((0, 0), self.dtype)          # the kernel's "no dout" (it sums dout + dh_rec itself)
        # W_hᵀ copied contiguous once per call: OpenBLAS's small per-step products are 30-45% slower on a
        # transposed view (the same sums; at small sizes its kernels may round the last bit differently).
        W_hT = aligned_copy(self.params["W_h"].T)
        dh_sum = aligned_empty((B, H), self.dtype)
        s1 = aligned_empty((B, H), self.dtype)
        s2 = aligned_empty((B, H), self.dtype)
        di = aligned_empty((B, H), self.dtype)
        up = aligned_empty((B, 4 * H), self.dtype)      # dL/d(gate value) of the four gates
        deriv = aligned_empty((B, 4 * H), self.dtype)   # d(gate value)/d(pre-activation), g's times i (see below)
        for t in range(T - 1, -1, -1):
            row = gates[t]
            i, f, g, o = row[:, :H], row[:, H:2 * H], row[:, 2 * H:3 * H], row[:, 3 * H:]
            tc = tcs[t]
            if fused is not None:
                fused[1](row, tc, cs[t], no_dout if dout is None else dout[t], dh_rec, dc)   # the sigmoid
                if t or need_dstate:                                                       # branch below
                    np.matmul(row, W_hT, out=dh_rec)
                continue
            if dout is None:
                dh = dh_rec                            # read before this step's product overwrites it
            else:
                dh = np.add(dout[t], dh_rec, out=dh_sum)
            # dc⟨t⟩ += da⟨t⟩ ∗ o ∗ (1 − tanh²c⟨t⟩)
            np.multiply(tc, tc, out=s1)
            np.subtract(1.0, s1, out=s1)
            s1 *= o
            s1 *= dh
            dc += s1
            if sigmoid_gates:
                # Whole-row form: row := up ∗ deriv, with up = [dc∗g, dc∗c⟨t−1⟩, dc, da∗tanh c] and
                # deriv = [i(1−i), f(1−f), (1−g²)∗i, o(1−o)] (g's factor i moved into deriv).
                np.multiply(dc, g, out=up[:, :H])
                np.multiply(dc, cs[t], out=up[:, H:2 * H])
                up[:, 2 * H:3 * H] = dc
                np.multiply(dh, tc, out=up[:, 3 * H:])
                np.subtract(1.0, row, out=deriv)
                deriv *= row                             # whole row; the g block is replaced next
                dg = deriv[:, 2 * H:3 * H]
                np.multiply(g, g, out=dg)
                np.subtract(1.0, dg, out=dg)
                dg *= i
                dc *= f                                # dc⟨t−1⟩ = dc ∗ f
                np.multiply(up, deriv, out=row)
            else:
                # o: d(pre) = da ∗ tanh c ∗ σ'(o)
                np.multiply(dh, tc, out=s1)
                gate_grad_inplace(self.recurrent_activation, o, s1, s2)
                # i and g: di = dc ∗ g, dg = dc ∗ i
                np.multiply(dc, g, out=di)
                np.multiply(g, g, out=s2)
                np.subtract(1.0, s2, out=s2)
                s2 *= i
                np.multiply(s2, dc, out=g)             # g slot := dL/d(pre g)
                gate_grad_inplace(self.recurrent_activation, i, di, s2)
                # f: df = dc ∗ c⟨t−1⟩, and dc⟨t−1⟩ = dc ∗ f
                np.multiply(dc, cs[t], out=s1)
                dc *= f
                gate_grad_inplace(self.recurrent_activation, f, s1, s2)
            if t or need_dstate:
                np.matmul(row, W_hT, out=dh_rec)

        dgates = gates  # now dL/d(pre-activations), (T, B, 4H)
        self._cache = None
        np.matmul(hs[:T].reshape(T * B, H).T, dgates.reshape(T * B, 4 * H), out=self.grads["W_h"])
        dx = self._input_grads(x, dgates, need_dx)
        return dx, ((dh_rec, dc) if need_dstate else None)

    def cell_states(self) -> np.ndarray:
        """c⟨1⟩ … c⟨T⟩ of the last forward(..., cache=True): a (T, B, H) copy (the course's c)."""
        if self._cache is None:
            raise RuntimeError("LSTM.cell_states() needs a forward(..., cache=True) and no backward since")
        return self._cache.cs[1:].copy()
