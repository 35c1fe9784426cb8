"""The engine's fused LSTM and GRU against the plain textbook version in tests/reference_rnn.py (float64)."""

from __future__ import annotations

import numpy as np
import pytest

import reference_rnn as ref
from seqlab.engine import GRU, LSTM

T, B, D, H = 5, 3, 4, 6


def _random(layer, rng):
    for p in layer.params.values():
        p[...] = rng.uniform(-0.8, 0.8, p.shape)
    return layer


def _close(a, b, name):
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13, err_msg=name)


@pytest.mark.parametrize("seed", [0, 1])
def test_lstm_matches_the_textbook_equations(seed):
    rng = np.random.default_rng(seed)
    layer = _random(LSTM(D, H, dtype=np.float64, rng=rng), rng)
    x, dout = rng.standard_normal((T, B, D)), rng.standard_normal((T, B, H))
    h0, c0, dh, dc = (rng.standard_normal((B, H)) for _ in range(4))
    out, (h, c) = layer.forward(x, (h0, c0))
    dx, (dh0, dc0) = layer.backward(dout, (dh, dc))
    r_out, (r_h, r_c), r_dx, (r_dh0, r_dc0), r_grads = ref.lstm(layer.params, x, h0, c0, dout, dh, dc)
    for name, a, b in [("out", out, r_out), ("h", h, r_h), ("c", c, r_c), ("dx", dx, r_dx), ("dh0", dh0, r_dh0),
                       ("dc0", dc0, r_dc0)] + [(k, layer.grads[k], r_grads[k]) for k in ("W_x", "W_h", "b")]:
        _close(a, b, name)


@pytest.mark.parametrize("seed", [0, 1])
def test_gru_matches_the_textbook_equations(seed):
    rng = np.random.default_rng(seed)
    layer = _random(GRU(D, H, dtype=np.float64, rng=rng), rng)
    x, dout = rng.standard_normal((T, B, D)), rng.standard_normal((T, B, H))
    h0, dh = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    out, h = layer.forward(x, h0)
    dx, dh0 = layer.backward(dout, dh)
    r_out, r_h, r_dx, r_dh0, r_grads = ref.gru(layer.params, x, h0, dout, dh)
    for name, a, b in [("out", out, r_out), ("h", h, r_h), ("dx", dx, r_dx), ("dh0", dh0, r_dh0)] + \
            [(k, layer.grads[k], r_grads[k]) for k in ("W_x", "W_h", "b", "b_hn")]:
        _close(a, b, name)
