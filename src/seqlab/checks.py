"""`seqlab check`: the course's printed reference values and quick gradient checks, as a pass/fail table.

Each check reproduces the course notebook's own set-up (seeds, draw order, even its quirks) and compares
with the numbers it prints. The LSTM's backward pass through time is checked against central differences
instead: the course's printed `lstm_backward` values come from a solution that drops the gradients arriving
from the next step (see tests/test_course_step_by_step.py).
"""

from __future__ import annotations

import numpy as np

from seqlab.course import step_by_step as sbs
from seqlab.engine import GRU, LSTM, RNN
from seqlab.engine.gradcheck import check as gradcheck

TOL = 1e-7  # the course prints 8 to 17 significant digits


def _rnn_params():
    Waa, Wax, Wya = np.random.randn(5, 5), np.random.randn(5, 3), np.random.randn(2, 5)
    ba, by = np.random.randn(5, 1), np.random.randn(2, 1)
    return {"Waa": Waa, "Wax": Wax, "Wya": Wya, "ba": ba, "by": by}


def _lstm_params():
    p = {}
    for k in ("f", "i", "o", "c"):
        p["W" + k] = np.random.randn(5, 8)
        p["b" + k] = np.random.randn(5, 1)
    p["Wy"], p["by"] = np.random.randn(2, 5), np.random.randn(2, 1)
    return p


def _close(got, want) -> bool:
    return bool(np.allclose(np.asarray(got, float), np.asarray(want, float), atol=TOL, rtol=TOL))


def course_rnn_forward() -> bool:
    np.random.seed(1)
    xt, a_prev = np.random.randn(3, 10), np.random.randn(5, 10)
    a_next, yt, _ = sbs.rnn_cell_forward(xt, a_prev, _rnn_params())
    ok = _close(a_next[4, :3], [0.59584544, 0.18141802, 0.61311866]) and _close(yt[1, -1], 0.17746526)
    np.random.seed(1)
    x, a0 = np.random.randn(3, 10, 4), np.random.randn(5, 10)
    a, y, caches = sbs.rnn_forward(x, a0, _rnn_params())
    return ok and _close(a[4][1], [-0.99999375, 0.77911235, -0.99861469, -0.99833267]) \
        and _close(y[1][3], [0.79560373, 0.86224861, 0.11118257, 0.81515947]) \
        and _close(caches[1][1][3], [-1.1425182, -0.34934272, -0.20889423, 0.58662319])


def course_rnn_backward() -> bool:
    # The course's cell test draws `b` but passes the `ba` left over from the rnn_forward test.
    np.random.seed(1)
    np.random.randn(3, 10, 4), np.random.randn(5, 10)
    ba_left_over = _rnn_params()["ba"]
    np.random.seed(1)
    xt, a_prev = np.random.randn(3, 10), np.random.randn(5, 10)
    Wax, Waa, Wya = np.random.randn(5, 3), np.random.randn(5, 5), np.random.randn(2, 5)
    np.random.randn(5, 1)
    by = np.random.randn(2, 1)
    p = {"Wax": Wax, "Waa": Waa, "Wya": Wya, "ba": ba_left_over, "by": by}
    _, _, cache = sbs.rnn_cell_forward(xt, a_prev, p)
    g = sbs.rnn_cell_backward(np.random.randn(5, 10), cache)
    ok = _close(g["dxt"][1][2], -0.4605641030588796) and _close(g["da_prev"][2][3], 0.08429686538067718) \
        and _close(g["dWax"][3][1], 0.3930818739219304) and _close(g["dWaa"][1][2], -0.2848395578696067) \
        and _close(g["dba"][4], 0.80517166)
    np.random.seed(1)
    x, a0 = np.random.randn(3, 10, 4), np.random.randn(5, 10)
    Wax, Waa, Wya = np.random.randn(5, 3), np.random.randn(5, 5), np.random.randn(2, 5)
    ba, by = np.random.randn(5, 1), np.random.randn(2, 1)
    _, _, caches = sbs.rnn_forward(x, a0, {"Wax": Wax, "Waa": Waa, "Wya": Wya, "ba": ba, "by": by})
    g = sbs.rnn_backward(np.random.randn(5, 10, 4), caches)
    return ok and _close(g["dx"][1][2], [-2.07101689, -0.59255627, 0.02466855, 0.01483317]) \
        and _close(g["da0"][2][3], -0.31494237512664996) and _close(g["dWax"][3][1], 11.264104496527777) \
        and _close(g["dWaa"][1][2], 2.303333126579893) and _close(g["dba"][4], -0.74747722)


def course_lstm_forward() -> bool:
    np.random.seed(1)
    xt, a_prev, c_prev = np.random.randn(3, 10), np.random.randn(5, 10), np.random.randn(5, 10)
    a_next, c_next, yt, cache = sbs.lstm_cell_forward(xt, a_prev, c_prev, _lstm_params())
    ok = _close(a_next[4, :2], [-0.66408471, 0.0036921]) and _close(c_next[2, :2], [0.63267805, 1.00570849]) \
        and _close(yt[1, :2], [0.79913913, 0.15986619]) and _close(cache[1][3, :2], [-0.16263996, 1.03729328]) \
        and len(cache) == 10
    np.random.seed(1)
    x, a0 = np.random.randn(3, 10, 7), np.random.randn(5, 10)
    a, y, c, caches = sbs.lstm_forward(x, a0, _lstm_params())
    return ok and _close(a[4][3][6], 0.17211776753291672) and _close(y[1][4][3], 0.9508734618501101) \
        and _close(c[1][2][1], -0.8555449167181982) and _close(caches[1][1][1][:2], [0.82797464, 0.23009474])


def course_lstm_cell_backward() -> bool:
    np.random.seed(1)
    xt, a_prev, c_prev = np.random.randn(3, 10), np.random.randn(5, 10), np.random.randn(5, 10)
    _, _, _, cache = sbs.lstm_cell_forward(xt, a_prev, c_prev, _lstm_params())
    g = sbs.lstm_cell_backward(np.random.randn(5, 10), np.random.randn(5, 10), cache)
    return _close(g["dxt"][1][2], 3.230559115109188) and _close(g["da_prev"][2][3], -0.06396214197109236) \
        and _close(g["dc_prev"][2][3], 0.7975220387970015) and _close(g["dWf"][3][1], -0.1479548381644968) \
        and _close(g["dWi"][1][2], 1.0574980552259903) and _close(g["dWc"][3][1], 2.3045621636876668) \
        and _close(g["dWo"][1][2], 0.3313115952892109) and _close(g["dbf"][4], 0.18864637) \
        and _close(g["dbi"][4], -0.40142491) and _close(g["dbc"][4], 0.25587763) and _close(g["dbo"][4], 0.13893342)


def course_lstm_backward_bptt() -> bool:
    """lstm_backward against central differences of Σ da·a (the true gradient, not the course's print)."""
    rng = np.random.default_rng(1)
    x, a0 = rng.standard_normal((3, 4, 5)), rng.standard_normal((5, 4))
    p = {k: rng.standard_normal(v.shape) for k, v in _lstm_params().items()}
    da = rng.standard_normal((5, 4, 5))
    _, _, _, caches = sbs.lstm_forward(x, a0, p)
    g = sbs.lstm_backward(da, caches)
    f = lambda: float((sbs.lstm_forward(x, a0, p)[0] * da).sum())  # noqa: E731
    errors = gradcheck(f, {"x": x, "a0": a0, "Wf": p["Wf"], "bo": p["bo"]},
                       {"x": g["dx"], "a0": g["da0"], "Wf": g["dWf"], "bo": g["dbo"]})
    return max(errors.values()) < 1e-6


def _layer_gradcheck(layer) -> bool:
    rng = np.random.default_rng(0)
    for p in layer.params.values():
        p[...] = rng.uniform(-0.6, 0.6, p.shape)
    x = rng.standard_normal((4, 2, layer.input_size))
    R = rng.standard_normal((4, 2, layer.hidden_size))
    f = lambda: float((layer.forward(x, cache=False)[0] * R).sum())  # noqa: E731
    layer.forward(x)
    dx, _ = layer.backward(R)
    analytic = {"x": dx, **{k: v.copy() for k, v in layer.grads.items()}}
    return max(gradcheck(f, {"x": x, **layer.params}, analytic).values()) < 1e-6


CHECKS = [
    ("course rnn_cell_forward, rnn_forward", course_rnn_forward),
    ("course rnn_cell_backward, rnn_backward", course_rnn_backward),
    ("course lstm_cell_forward, lstm_forward", course_lstm_forward),
    ("course lstm_cell_backward", course_lstm_cell_backward),
    ("lstm_backward through time (gradient check)", course_lstm_backward_bptt),
    ("gradient check RNN", lambda: _layer_gradcheck(RNN(3, 4, dtype=np.float64))),
    ("gradient check LSTM (sigmoid)", lambda: _layer_gradcheck(LSTM(3, 4, dtype=np.float64))),
    ("gradient check LSTM (hard_sigmoid)",
     lambda: _layer_gradcheck(LSTM(3, 4, dtype=np.float64, recurrent_activation="hard_sigmoid"))),
    ("gradient check GRU (reset after)", lambda: _layer_gradcheck(GRU(3, 4, dtype=np.float64))),
    ("gradient check GRU (reset before)", lambda: _layer_gradcheck(GRU(3, 4, dtype=np.float64, reset_after=False))),
]


def run_checks(checks=CHECKS) -> list[tuple[str, bool, str]]:
    """[(name, passed, error text)]; a check that raises counts as failed."""
    results = []
    state = np.random.get_state()
    try:
        for name, fn in checks:
            try:
                results.append((name, bool(fn()), ""))
            except Exception as exc:  # a crash is a failure to report, not to hide
                results.append((name, False, f"{type(exc).__name__}: {exc}"))
    finally:
        np.random.set_state(state)
    return results
