"""The LSTM's per-step elementwise work fused into one loop each, compiled by Numba when it is installed.

At the applications' sizes a step's gate arithmetic is a dozen or more NumPy calls on arrays of a few thousand
numbers, each paying a fixed cost and a pass over memory; one compiled loop does them all in one pass. Each
kernel does, element by element and in the same order, exactly the float32 operations of the NumPy code
beside it in seqlab.engine.lstm (no fast-math: no reassociation, no fused multiply-add), so the results are
the same bit for bit; tests/test_kernels.py checks that. The NumPy code stays the reference and runs when
Numba is missing (it is the optional `fast` extra) or SEQLAB_NUMBA=0 is set.

Shapes: row (B, 4H), the i, f, g, o blocks of one step side by side; c_prev, c, tc, dout, dh_rec, dc (B, H).
"""

from __future__ import annotations

import importlib.util
import os

import numpy as np

# Whether the kernels run: Numba installed and not SEQLAB_NUMBA=0. Numba itself is imported by `compiled()`,
# at the first training step, not here: importing it and loading the cached loops take about 0.4 s, which
# `seqlab names -n 3` (0.16 s in all) should not pay; sampling runs the NumPy code.
ENABLED = os.environ.get("SEQLAB_NUMBA", "1") != "0" and importlib.util.find_spec("numba") is not None

# float32 constants: a Python float would make Numba compute in float64 (NumPy keeps float32 for these).
ZERO, HALF, ONE = np.float32(0.0), np.float32(0.5), np.float32(1.0)


def lstm_cell(row, c_prev, c):
    """Forward, after tanh over the row of halved i, f, o and plain g pre-activations:
    row := [½·row + ½ on i, f, o; g·1 + 0] (the gates, in place), c := f ∗ c_prev + i ∗ g."""
    B, H = c.shape
    for b in range(B):
        # 1-D views of each block: indexing them lets LLVM vectorise the loop over j (2-D indexing with
        # offsets did not, and ran 3 times slower)
        r, cp, cb = row[b], c_prev[b], c[b]
        ri, rf, rg, ro = r[:H], r[H:2 * H], r[2 * H:3 * H], r[3 * H:]
        for j in range(H):
            i = ri[j] * HALF + HALF
            f = rf[j] * HALF + HALF
            g = rg[j] * ONE + ZERO
            o = ro[j] * HALF + HALF
            ri[j] = i
            rf[j] = f
            rg[j] = g
            ro[j] = o
            cb[j] = f * cp[j] + i * g


def lstm_gate_grads(row, tc, c_prev, dout, dh_rec, dc):
    """Backward, one step: row (the gates i, f, g, o) := dL/d(pre-activations) in place, dc := dL/dc⟨t−1⟩.

    In: dh = dout + dh_rec = dL/da⟨t⟩ (from the output and from step t+1; dout may be an empty (0, 0) array
    when there is none), dc = dL/dc⟨t⟩ from step t+1, tc = tanh c⟨t⟩, c_prev = c⟨t−1⟩. With
    d = dc + dh ∗ o ∗ (1 − tc²):  di = d∗g ∗ i(1−i),  df = d∗c_prev ∗ f(1−f),  dg = d ∗ (1−g²)∗i,
    do = dh∗tc ∗ o(1−o),  dc⟨t−1⟩ = d ∗ f.
    """
    B, H = dc.shape
    with_dout = dout.shape[0] > 0
    for b in range(B):
        r, tb, cp, hb, dcb = row[b], tc[b], c_prev[b], dh_rec[b], dc[b]    # 1-D views, as in lstm_cell
        ob = dout[b] if with_dout else hb
        ri, rf, rg, ro = r[:H], r[H:2 * H], r[2 * H:3 * H], r[3 * H:]
        for j in range(H):
            i = ri[j]
            f = rf[j]
            g = rg[j]
            o = ro[j]
            t = tb[j]
            dh = ob[j] + hb[j] if with_dout else hb[j]
            d = dcb[j] + ((ONE - t * t) * o) * dh
            ri[j] = (d * g) * ((ONE - i) * i)
            rf[j] = (d * cp[j]) * ((ONE - f) * f)
            rg[j] = d * ((ONE - g * g) * i)
            ro[j] = (dh * t) * ((ONE - o) * o)
            dcb[j] = d * f


_compiled = None


def compiled():
    """(lstm_cell, lstm_gate_grads) compiled by Numba (once per process; cache=True keeps the machine code in
    __pycache__ between processes), or None when ENABLED is false."""
    global _compiled
    if not ENABLED:
        return None
    if _compiled is None:
        import numba  # here, not at the top: see ENABLED

        jit = numba.njit(cache=True, nogil=True)
        _compiled = (jit(lstm_cell), jit(lstm_gate_grads))
    return _compiled
