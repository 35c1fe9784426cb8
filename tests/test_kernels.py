"""The Numba kernels of seqlab.engine.kernels give the LSTM's NumPy code's results bit for bit.

`make test` installs Numba (the `fast` extra), so the fused path is the one every other test runs; here the
same forward and backward run once with the kernels and once with the NumPy code (kernels.ENABLED off), and
every output, state and gradient must have the same bytes.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from seqlab.engine import kernels
from seqlab.engine.lstm import LSTM

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")


def _run(T, B, D, H, dtype, *, ids, with_state, with_dout, seed):
    rng = np.random.default_rng(seed)
    layer = LSTM(D, H, dtype=dtype, rng=rng, forget_bias=1.0)
    x = rng.integers(0, D, (T, B)) if ids else rng.standard_normal((T, B, D)).astype(dtype)
    state = tuple(rng.standard_normal((B, H)).astype(dtype) for _ in range(2)) if with_state else None
    out, (h, c) = layer.forward(x, state)
    dout = rng.standard_normal((T, B, H)).astype(dtype) if with_dout else None
    dstate = tuple(rng.standard_normal((B, H)).astype(dtype) for _ in range(2))
    dx, (dh0, dc0) = layer.backward(dout, dstate, need_dx=not ids)
    arrays = {"out": out, "h": h, "c": c, "dh0": dh0, "dc0": dc0, **{f"d{k}": g.copy() for k, g in layer.grads.items()}}
    if dx is not None:
        arrays["dx"] = dx
    return arrays


def test_numba_is_installed_so_the_fused_path_is_the_tested_one():
    assert kernels.ENABLED and [f.py_func for f in kernels.compiled()] == [kernels.lstm_cell, kernels.lstm_gate_grads]


@pytest.mark.parametrize("T,B,D,H,dtype,ids,with_state,with_dout", [
    (20, 32, 32, 128, np.float32, False, False, True),    # the dinosaur model's shape
    (30, 60, 90, 64, np.float32, True, False, True),      # jazz: one-hot ids
    (7, 3, 5, 16, np.float32, False, True, False),        # a carried state, only the final state's gradient
    (5, 4, 6, 8, np.float64, False, True, True),          # float64, as the gradient checks run
])
def test_fused_lstm_equals_the_numpy_code_bit_for_bit(monkeypatch, T, B, D, H, dtype, ids, with_state, with_dout):
    fused = _run(T, B, D, H, dtype, ids=ids, with_state=with_state, with_dout=with_dout, seed=T)
    monkeypatch.setattr(kernels, "ENABLED", False)
    plain = _run(T, B, D, H, dtype, ids=ids, with_state=with_state, with_dout=with_dout, seed=T)
    assert fused.keys() == plain.keys()
    for k in plain:
        assert fused[k].dtype == plain[k].dtype and fused[k].tobytes() == plain[k].tobytes(), k


def test_the_kernels_would_be_caught_if_they_rounded_differently(monkeypatch):
    # The comparison above can fail: a kernel computing in float64 (what a Python-float constant in place of
    # kernels.ONE would do) differs from the float32 NumPy code in the last bits.
    cell, _ = kernels.compiled()

    def gate_grads_in_float64(row, tc, c_prev, dout, dh_rec, dc):
        r, d, f64 = row.astype(np.float64), dc.astype(np.float64), (tc, c_prev, dout, dh_rec)
        kernels.lstm_gate_grads(r, *(a.astype(np.float64) for a in f64), d)
        row[...], dc[...] = r, d
    fused = _run(20, 32, 32, 128, np.float32, ids=False, with_state=False, with_dout=True, seed=1)
    monkeypatch.setattr(kernels, "compiled", lambda: (cell, gate_grads_in_float64))
    other = _run(20, 32, 32, 128, np.float32, ids=False, with_state=False, with_dout=True, seed=1)
    assert fused["dW_h"].tobytes() != other["dW_h"].tobytes()
    np.testing.assert_allclose(fused["dW_h"], other["dW_h"], rtol=1e-4, atol=1e-5)


def test_seqlab_numba_0_turns_the_kernels_off_and_sampling_never_imports_numba():
    code = ("import sys, numpy as np; from seqlab.engine import kernels; from seqlab.engine.lstm import LSTM; "
            "LSTM(3, 4).forward(np.zeros((2, 1, 3), np.float32), cache=False); a = 'numba' in sys.modules; "
            "print(kernels.compiled() is not None, a, 'numba' in sys.modules)")
    env = {**os.environ, "PYTHONPATH": SRC}
    runs = {v: subprocess.run([sys.executable, "-c", code], env={**env, "SEQLAB_NUMBA": v}, capture_output=True,
                              text=True, check=True).stdout.strip() for v in ("0", "1")}
    assert runs == {"0": "False False False", "1": "True False True"}
