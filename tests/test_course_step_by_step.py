"""seqlab.course.step_by_step reproduces the course's "Building your RNN - Step by Step" reference values.

Every set-up below repeats the seeds' own test cells draw for draw (np.random.seed(1), then the randn calls in
the printed order), quirks included: the rnn_cell_backward cell builds its parameters with the `ba` left over
from the rnn_forward cell (it draws its own bias into `b` and never uses it), the lstm_backward cell reuses the
Wy, by of the lstm_cell_backward cell and passes da with T_x = 4 for a forward pass over 7 steps.

Printed numbers: arrays are printed to 8 decimals (checked to ATOL_PRINT), scalars in full (checked to 1e-10).
Beyond the printed numbers, each backward function is checked against torch autograd of the same forward
computation written directly in torch here (independent of seqlab). Where the two disagree the true
gradient wins: that happens only for lstm_backward (see test_lstm_backward_true_gradient_not_the_printed_one).
The lecture's GRU has no printed reference; it is checked against torch autograd of the lecture's formulas.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from seqlab.course import step_by_step as sbs

ATOL_PRINT = 1e-8  # values printed with 8 decimals
TOL_FULL = 1e-10  # values printed in full (repr)
TOL_TORCH = 1e-8  # seqlab vs torch autograd, float64

RNN_GRAD_KEYS = {"dxt", "da_prev", "dWax", "dWaa", "dba"}
RNN_SEQ_GRAD_KEYS = {"dx", "da0", "dWax", "dWaa", "dba"}
LSTM_GRAD_KEYS = {"dxt", "da_prev", "dc_prev", "dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo"}
LSTM_SEQ_GRAD_KEYS = {"dx", "da0", "dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo"}
GRU_GRAD_KEYS = {"dxt", "da_prev", "dWu", "dbu", "dWr", "dbr", "dWc", "dbc"}
GRU_SEQ_GRAD_KEYS = {"dx", "da0", "dWu", "dbu", "dWr", "dbr", "dWc", "dbc"}


def close(actual, expected, atol):
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64),
                               rtol=0, atol=atol)


# --- the seeds' set-ups, draw for draw -----------------------------------------------------------------------
def setup_rnn_cell_forward():
    np.random.seed(1)
    xt = np.random.randn(3, 10)
    a_prev = np.random.randn(5, 10)
    Waa = np.random.randn(5, 5)
    Wax = np.random.randn(5, 3)
    Wya = np.random.randn(2, 5)
    ba = np.random.randn(5, 1)
    by = np.random.randn(2, 1)
    return xt, a_prev, {"Waa": Waa, "Wax": Wax, "Wya": Wya, "ba": ba, "by": by}


def setup_rnn_forward():
    np.random.seed(1)
    x = np.random.randn(3, 10, 4)
    a0 = np.random.randn(5, 10)
    Waa = np.random.randn(5, 5)
    Wax = np.random.randn(5, 3)
    Wya = np.random.randn(2, 5)
    ba = np.random.randn(5, 1)
    by = np.random.randn(2, 1)
    return x, a0, {"Waa": Waa, "Wax": Wax, "Wya": Wya, "ba": ba, "by": by}


def setup_rnn_cell_backward():
    """Quirk kept: the parameters take `ba` from the rnn_forward cell; the bias drawn here (`b`) is unused."""
    _, _, leftover = setup_rnn_forward()
    np.random.seed(1)
    xt = np.random.randn(3, 10)
    a_prev = np.random.randn(5, 10)
    Wax = np.random.randn(5, 3)  # note: Wax before Waa here (the forward cells draw Waa first)
    Waa = np.random.randn(5, 5)
    Wya = np.random.randn(2, 5)
    b = np.random.randn(5, 1)  # noqa: F841  drawn, never used
    by = np.random.randn(2, 1)
    parameters = {"Wax": Wax, "Waa": Waa, "Wya": Wya, "ba": leftover["ba"], "by": by}
    a_next, yt, cache = sbs.rnn_cell_forward(xt, a_prev, parameters)
    da_next = np.random.randn(5, 10)
    return xt, a_prev, parameters, cache, da_next


def setup_rnn_backward():
    np.random.seed(1)
    x = np.random.randn(3, 10, 4)
    a0 = np.random.randn(5, 10)
    Wax = np.random.randn(5, 3)
    Waa = np.random.randn(5, 5)
    Wya = np.random.randn(2, 5)
    ba = np.random.randn(5, 1)
    by = np.random.randn(2, 1)
    parameters = {"Wax": Wax, "Waa": Waa, "Wya": Wya, "ba": ba, "by": by}
    a, y, caches = sbs.rnn_forward(x, a0, parameters)
    da = np.random.randn(5, 10, 4)
    return x, a0, parameters, caches, da


def _lstm_params(with_output=True):
    p = {}
    for k in ("f", "i", "o", "c"):  # the seeds' draw order: Wf, bf, Wi, bi, Wo, bo, Wc, bc
        p["W" + k] = np.random.randn(5, 5 + 3)
        p["b" + k] = np.random.randn(5, 1)
    if with_output:
        p["Wy"] = np.random.randn(2, 5)
        p["by"] = np.random.randn(2, 1)
    return p


def setup_lstm_cell_forward():
    np.random.seed(1)
    xt = np.random.randn(3, 10)
    a_prev = np.random.randn(5, 10)
    c_prev = np.random.randn(5, 10)
    return xt, a_prev, c_prev, _lstm_params()


def setup_lstm_forward():
    np.random.seed(1)
    x = np.random.randn(3, 10, 7)
    a0 = np.random.randn(5, 10)
    return x, a0, _lstm_params()


def setup_lstm_cell_backward():
    xt, a_prev, c_prev, parameters = setup_lstm_cell_forward()
    a_next, c_next, yt, cache = sbs.lstm_cell_forward(xt, a_prev, c_prev, parameters)
    da_next = np.random.randn(5, 10)
    dc_next = np.random.randn(5, 10)
    return xt, a_prev, c_prev, parameters, cache, da_next, dc_next


def setup_lstm_backward():
    """Quirks kept: Wy, by come from the lstm_cell_backward cell (not redrawn); da has T_x = 4 while x has 7."""
    _, _, _, leftover, _, _, _ = setup_lstm_cell_backward()
    np.random.seed(1)
    x = np.random.randn(3, 10, 7)
    a0 = np.random.randn(5, 10)
    parameters = _lstm_params(with_output=False)
    parameters["Wy"], parameters["by"] = leftover["Wy"], leftover["by"]
    a, y, c, caches = sbs.lstm_forward(x, a0, parameters)
    da = np.random.randn(5, 10, 4)
    return x, a0, parameters, caches, da


# --- torch references of the same forward computations (column layout, float64) ------------------------------
def T(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def rnn_autograd(x, a0, p, da):
    """Autograd of L = Σ_t da⟨t⟩ ⊙ a⟨t⟩ over the da.shape[2] first steps. x (n_x, m, T), da (n_a, m, T_da)."""
    xs, a0t = T(x, True), T(a0, True)
    W = {k: T(p[k], True) for k in ("Wax", "Waa", "ba")}
    a = a0t
    loss = 0
    for t in range(da.shape[2]):
        a = torch.tanh(W["Wax"] @ xs[:, :, t] + W["Waa"] @ a + W["ba"])
        loss = loss + (a * T(da[:, :, t])).sum()
    loss.backward()
    g = {"d" + k: v.grad.numpy() for k, v in W.items()}
    g["dx"] = xs.grad.numpy()[:, :, : da.shape[2]]
    g["da0"] = a0t.grad.numpy()
    return g


def lstm_step_torch(W, xt, a, c):
    z = torch.cat([a, xt], dim=0)
    f = torch.sigmoid(W["Wf"] @ z + W["bf"])
    i = torch.sigmoid(W["Wi"] @ z + W["bi"])
    cc = torch.tanh(W["Wc"] @ z + W["bc"])
    o = torch.sigmoid(W["Wo"] @ z + W["bo"])
    c = f * c + i * cc
    a = o * torch.tanh(c)
    return a, c, (f, i, cc, o)


LSTM_PARAM_KEYS = ("Wf", "bf", "Wi", "bi", "Wc", "bc", "Wo", "bo")


def lstm_autograd(x, a0, c0, p, da, dc_last=None):
    """Autograd of L = Σ_t da⟨t⟩ ⊙ a⟨t⟩ (+ dc_last ⊙ c⟨T⟩) over the da.shape[2] first steps."""
    xs, a0t, c0t = T(x, True), T(a0, True), T(c0, True)
    W = {k: T(p[k], True) for k in LSTM_PARAM_KEYS}
    a, c = a0t, c0t
    loss = 0
    for t in range(da.shape[2]):
        a, c, _ = lstm_step_torch(W, xs[:, :, t], a, c)
        loss = loss + (a * T(da[:, :, t])).sum()
    if dc_last is not None:
        loss = loss + (c * T(dc_last)).sum()
    loss.backward()
    g = {"d" + k: v.grad.numpy() for k, v in W.items()}
    g["dx"] = xs.grad.numpy()[:, :, : da.shape[2]]
    g["da0"] = a0t.grad.numpy()
    g["dc0"] = c0t.grad.numpy()
    return g


def gru_step_torch(W, xt, a):
    """The lecture's GRU: Γu, Γr on [a; x]; c̃ = tanh(Wc[Γr ∗ a; x] + bc); a' = Γu ∗ c̃ + (1 − Γu) ∗ a."""
    z = torch.cat([a, xt], dim=0)
    gu = torch.sigmoid(W["Wu"] @ z + W["bu"])
    gr = torch.sigmoid(W["Wr"] @ z + W["br"])
    cc = torch.tanh(W["Wc"] @ torch.cat([gr * a, xt], dim=0) + W["bc"])
    return gu * cc + (1 - gu) * a, (gu, gr, cc)


GRU_PARAM_KEYS = ("Wu", "bu", "Wr", "br", "Wc", "bc")


def gru_autograd(x, a0, p, da):
    xs, a0t = T(x, True), T(a0, True)
    W = {k: T(p[k], True) for k in GRU_PARAM_KEYS}
    a = a0t
    loss = 0
    for t in range(da.shape[2]):
        a, _ = gru_step_torch(W, xs[:, :, t], a)
        loss = loss + (a * T(da[:, :, t])).sum()
    loss.backward()
    g = {"d" + k: v.grad.numpy() for k, v in W.items()}
    g["dx"] = xs.grad.numpy()[:, :, : da.shape[2]]
    g["da0"] = a0t.grad.numpy()
    return g


def softmax_cols(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


# --- softmax, sigmoid ------------------------------------------------------------------------------------------
def test_softmax_is_over_axis_0():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((4, 6))
    s = sbs.softmax(z)
    assert s.shape == (4, 6)
    close(s, np.exp(z) / np.exp(z).sum(axis=0), 1e-14)
    close(s.sum(axis=0), np.ones(6), 1e-14)


def test_softmax_stable_per_column():
    # The course's softmax subtracts the max of the whole array, which turns a column far below it into 0/0;
    # subtracting each column's own max gives the right answer for every column.
    z = np.array([[1000.0, -1000.0], [999.0, -1001.0]])
    s = sbs.softmax(z)
    expected = np.array([[1, 1], [np.exp(-1), np.exp(-1)]]) / (1 + np.exp(-1))
    close(s, expected, 1e-14)


def test_sigmoid():
    x = np.linspace(-30, 30, 61).reshape(61, 1)
    close(sbs.sigmoid(x), 1 / (1 + np.exp(-x)), 1e-15)
    close(sbs.sigmoid(np.array([-800.0, 0.0, 800.0])), [0.0, 0.5, 1.0], 0)


# --- RNN forward ------------------------------------------------------------------------------------------------
def test_rnn_cell_forward_reference():
    xt, a_prev, parameters = setup_rnn_cell_forward()
    a_next, yt_pred, cache = sbs.rnn_cell_forward(xt, a_prev, parameters)
    close(a_next[4], [0.59584544, 0.18141802, 0.61311866, 0.99808218, 0.85016201, 0.99980978,
                      -0.18887155, 0.99815551, 0.6531151, 0.82872037], ATOL_PRINT)
    assert a_next.shape == (5, 10)
    close(yt_pred[1], [0.9888161, 0.01682021, 0.21140899, 0.36817467, 0.98988387, 0.88945212,
                       0.36920224, 0.9966312, 0.9982559, 0.17746526], ATOL_PRINT)
    assert yt_pred.shape == (2, 10)
    # cache = (a_next, a_prev, xt, parameters)
    assert isinstance(cache, tuple) and len(cache) == 4
    close(cache[0], a_next, 0)
    close(cache[1], a_prev, 0)
    close(cache[2], xt, 0)
    assert set(cache[3]) == set(parameters)


def test_rnn_forward_reference():
    x, a0, parameters = setup_rnn_forward()
    a, y_pred, caches = sbs.rnn_forward(x, a0, parameters)
    close(a[4][1], [-0.99999375, 0.77911235, -0.99861469, -0.99833267], ATOL_PRINT)
    assert a.shape == (5, 10, 4)
    close(y_pred[1][3], [0.79560373, 0.86224861, 0.11118257, 0.81515947], ATOL_PRINT)
    assert y_pred.shape == (2, 10, 4)
    # caches = ([cache of each step], x): caches[1] is x itself
    close(caches[1][1][3], [-1.1425182, -0.34934272, -0.20889423, 0.58662319], ATOL_PRINT)
    assert len(caches) == 2
    steps = caches[0]
    assert len(steps) == 4
    for t, (a_t, a_prev_t, x_t, p_t) in enumerate(steps):
        close(a_t, a[:, :, t], 0)
        close(a_prev_t, a0 if t == 0 else a[:, :, t - 1], 0)
        close(x_t, x[:, :, t], 0)
        assert set(p_t) == set(parameters)
    # prediction at every step is softmax(Wya a + by)
    for t in range(4):
        close(y_pred[:, :, t], softmax_cols(parameters["Wya"] @ a[:, :, t] + parameters["by"]), 1e-14)


# --- LSTM forward -----------------------------------------------------------------------------------------------
def test_lstm_cell_forward_reference():
    xt, a_prev, c_prev, parameters = setup_lstm_cell_forward()
    a_next, c_next, yt, cache = sbs.lstm_cell_forward(xt, a_prev, c_prev, parameters)
    close(a_next[4], [-0.66408471, 0.0036921, 0.02088357, 0.22834167, -0.85575339, 0.00138482,
                      0.76566531, 0.34631421, -0.00215674, 0.43827275], ATOL_PRINT)
    assert a_next.shape == (5, 10)
    close(c_next[2], [0.63267805, 1.00570849, 0.35504474, 0.20690913, -1.64566718, 0.11832942,
                      0.76449811, -0.0981561, -0.74348425, -0.26810932], ATOL_PRINT)
    assert c_next.shape == (5, 10)
    close(yt[1], [0.79913913, 0.15986619, 0.22412122, 0.15606108, 0.97057211, 0.31146381,
                  0.00943007, 0.12666353, 0.39380172, 0.07828381], ATOL_PRINT)
    assert yt.shape == (2, 10)
    close(cache[1][3], [-0.16263996, 1.03729328, 0.72938082, -0.54101719, 0.02752074, -0.30821874,
                        0.07651101, -1.03752894, 1.41219977, -0.37647422], ATOL_PRINT)
    assert len(cache) == 10
    # cache = (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters)
    W = {k: T(parameters[k]) for k in LSTM_PARAM_KEYS}
    a_t, c_t, (f, i, cc, o) = lstm_step_torch(W, T(xt), T(a_prev), T(c_prev))
    for got, want in zip(cache[:9], (a_t, c_t, T(a_prev), T(c_prev), f, i, cc, o, T(xt))):
        close(got, want.numpy(), 1e-14)
    assert set(cache[9]) == set(parameters)


def test_lstm_forward_reference():
    x, a0, parameters = setup_lstm_forward()
    a, y, c, caches = sbs.lstm_forward(x, a0, parameters)
    assert a[4][3][6] == pytest.approx(0.17211776753291672, abs=TOL_FULL)
    assert a.shape == (5, 10, 7)
    assert y[1][4][3] == pytest.approx(0.9508734618501101, abs=TOL_FULL)
    assert y.shape == (2, 10, 7)
    # printed as caches[1][1[1]] in the seed: caches[1] is x, so this is x[1][1]
    close(caches[1][1][1], [0.82797464, 0.23009474, 0.76201118, -0.22232814, -0.20075807, 0.18656139,
                            0.41005165], ATOL_PRINT)
    assert c[1][2][1] == pytest.approx(-0.8555449167181982, abs=TOL_FULL)
    assert c.shape == (5, 10, 7)
    assert len(caches) == 2 and len(caches[0]) == 7
    # each step's cache as lstm_cell_forward's, chained: c⟨0⟩ = 0
    for t, cache in enumerate(caches[0]):
        assert len(cache) == 10
        close(cache[0], a[:, :, t], 0)
        close(cache[1], c[:, :, t], 0)
        close(cache[2], a0 if t == 0 else a[:, :, t - 1], 0)
        close(cache[3], np.zeros((5, 10)) if t == 0 else c[:, :, t - 1], 0)
        close(cache[8], x[:, :, t], 0)


# --- RNN backward -----------------------------------------------------------------------------------------------
def test_rnn_cell_backward_reference():
    xt, a_prev, parameters, cache, da_next = setup_rnn_cell_backward()
    g = sbs.rnn_cell_backward(da_next, cache)
    assert set(g) == RNN_GRAD_KEYS
    assert g["dxt"][1][2] == pytest.approx(-0.4605641030588796, abs=TOL_FULL)
    assert g["dxt"].shape == (3, 10)
    assert g["da_prev"][2][3] == pytest.approx(0.08429686538067718, abs=TOL_FULL)
    assert g["da_prev"].shape == (5, 10)
    assert g["dWax"][3][1] == pytest.approx(0.3930818739219304, abs=TOL_FULL)
    assert g["dWax"].shape == (5, 3)
    assert g["dWaa"][1][2] == pytest.approx(-0.2848395578696067, abs=TOL_FULL)
    assert g["dWaa"].shape == (5, 5)
    close(g["dba"][4], [0.80517166], ATOL_PRINT)
    assert g["dba"].shape == (5, 1)


def test_rnn_cell_backward_matches_autograd():
    xt, a_prev, parameters, cache, da_next = setup_rnn_cell_backward()
    g = sbs.rnn_cell_backward(da_next, cache)
    ref = rnn_autograd(xt[:, :, None], a_prev, parameters, da_next[:, :, None])
    close(g["dxt"], ref["dx"][:, :, 0], TOL_TORCH)
    close(g["da_prev"], ref["da0"], TOL_TORCH)
    for k in ("dWax", "dWaa", "dba"):
        close(g[k], ref[k], TOL_TORCH)


def test_rnn_backward_reference():
    x, a0, parameters, caches, da = setup_rnn_backward()
    g = sbs.rnn_backward(da, caches)
    assert set(g) == RNN_SEQ_GRAD_KEYS
    close(g["dx"][1][2], [-2.07101689, -0.59255627, 0.02466855, 0.01483317], ATOL_PRINT)
    assert g["dx"].shape == (3, 10, 4)
    assert g["da0"][2][3] == pytest.approx(-0.31494237512664996, abs=TOL_FULL)
    assert g["da0"].shape == (5, 10)
    assert g["dWax"][3][1] == pytest.approx(11.264104496527777, abs=TOL_FULL)
    assert g["dWax"].shape == (5, 3)
    assert g["dWaa"][1][2] == pytest.approx(2.303333126579893, abs=TOL_FULL)
    assert g["dWaa"].shape == (5, 5)
    close(g["dba"][4], [-0.74747722], ATOL_PRINT)
    assert g["dba"].shape == (5, 1)


def test_rnn_backward_matches_autograd():
    x, a0, parameters, caches, da = setup_rnn_backward()
    g = sbs.rnn_backward(da, caches)
    ref = rnn_autograd(x, a0, parameters, da)
    for k in RNN_SEQ_GRAD_KEYS:
        close(g[k], ref[k], TOL_TORCH)


# --- LSTM backward ----------------------------------------------------------------------------------------------
def test_lstm_cell_backward_reference():
    *_, cache, da_next, dc_next = setup_lstm_cell_backward()
    g = sbs.lstm_cell_backward(da_next, dc_next, cache)
    assert set(g) == LSTM_GRAD_KEYS
    assert g["dxt"][1][2] == pytest.approx(3.230559115109188, abs=TOL_FULL)
    assert g["dxt"].shape == (3, 10)
    assert g["da_prev"][2][3] == pytest.approx(-0.06396214197109236, abs=TOL_FULL)
    assert g["da_prev"].shape == (5, 10)
    assert g["dc_prev"][2][3] == pytest.approx(0.7975220387970015, abs=TOL_FULL)
    assert g["dc_prev"].shape == (5, 10)
    assert g["dWf"][3][1] == pytest.approx(-0.1479548381644968, abs=TOL_FULL)
    assert g["dWi"][1][2] == pytest.approx(1.0574980552259903, abs=TOL_FULL)
    assert g["dWc"][3][1] == pytest.approx(2.3045621636876668, abs=TOL_FULL)
    assert g["dWo"][1][2] == pytest.approx(0.3313115952892109, abs=TOL_FULL)
    for k in ("dWf", "dWi", "dWc", "dWo"):
        assert g[k].shape == (5, 8)
    close(g["dbf"][4], [0.18864637], ATOL_PRINT)
    close(g["dbi"][4], [-0.40142491], ATOL_PRINT)
    close(g["dbc"][4], [0.25587763], ATOL_PRINT)
    close(g["dbo"][4], [0.13893342], ATOL_PRINT)
    for k in ("dbf", "dbi", "dbc", "dbo"):
        assert g[k].shape == (5, 1)


def test_lstm_cell_backward_matches_autograd():
    xt, a_prev, c_prev, parameters, cache, da_next, dc_next = setup_lstm_cell_backward()
    g = sbs.lstm_cell_backward(da_next, dc_next, cache)
    ref = lstm_autograd(xt[:, :, None], a_prev, c_prev, parameters, da_next[:, :, None], dc_last=dc_next)
    close(g["dxt"], ref["dx"][:, :, 0], TOL_TORCH)
    close(g["da_prev"], ref["da0"], TOL_TORCH)
    close(g["dc_prev"], ref["dc0"], TOL_TORCH)
    for k in LSTM_PARAM_KEYS:
        close(g["d" + k], ref["d" + k], TOL_TORCH)


# The seed's printed lstm_backward output (kept here to show that seqlab does NOT reproduce it).
LSTM_BACKWARD_PRINTED = {
    ("dx", 1, 2): [-0.00173313, 0.08287442, -0.30545663, -0.43281115],
    ("da0", 2, 3): -0.09591150195400468,
    ("dWf", 3, 1): -0.0698198561274401,
    ("dWi", 1, 2): 0.10237182024854774,
    ("dWc", 3, 1): -0.062498379492745226,
    ("dWo", 1, 2): 0.04843891314443013,
    ("dbf", 4, None): [-0.0565788],
    ("dbi", 4, None): [-0.15399065],
    ("dbc", 4, None): [-0.29691142],
    ("dbo", 4, None): [-0.29798344],
}
# The true gradient at the same entries (torch autograd of the same forward computation; these are also the
# corrected values later editions of the course print).
LSTM_BACKWARD_TRUE = {
    ("dx", 1, 2): [0.00218254, 0.28205375, -0.48292508, -0.43281115],
    ("da0", 2, 3): 0.3127703102572602,
    ("dWf", 3, 1): -0.08098023109383468,
    ("dWi", 1, 2): 0.40512433092981825,
    ("dWc", 3, 1): -0.07937467355121496,
    ("dWo", 1, 2): 0.038948775762986956,
    ("dbf", 4, None): [-0.15745657],
    ("dbi", 4, None): [-0.50848333],
    ("dbc", 4, None): [-0.42510818],
    ("dbo", 4, None): [-0.17958196],
}


def _entry(g, key):
    name, i, j = key
    return g[name][i] if j is None else g[name][i][j]


def test_lstm_backward_true_gradient_not_the_printed_one():
    """The seed's lstm_backward loop calls lstm_cell_backward(da[:, :, t], dc_prevt, caches[t]) and never
    updates dc_prevt nor adds da_prevt: every step sees only its own da⟨t⟩, with no gradient arriving through
    a⟨t⟩ or c⟨t⟩ from step t + 1. Its printed numbers are therefore not the gradient. seqlab returns the true
    gradient (checked against torch autograd); only dx at the last step (t = 3), where nothing arrives from a
    later step, coincides with the printed value."""
    x, a0, parameters, caches, da = setup_lstm_backward()
    g = sbs.lstm_backward(da, caches)
    assert set(g) == LSTM_SEQ_GRAD_KEYS

    # the true gradient: L = Σ_{t<4} da⟨t⟩ ⊙ a⟨t⟩ for the 7-step forward pass (later steps don't reach L)
    ref = lstm_autograd(x, a0, np.zeros((5, 10)), parameters, da)
    for k in LSTM_SEQ_GRAD_KEYS:
        close(g[k], ref[k], TOL_TORCH)

    assert g["dx"].shape == (3, 10, 4)  # as printed: dx covers the T_x = 4 steps da covers
    assert g["da0"].shape == (5, 10)
    for k in ("dWf", "dWi", "dWc", "dWo"):
        assert g[k].shape == (5, 8)
    for k in ("dbf", "dbi", "dbc", "dbo"):
        assert g[k].shape == (5, 1)

    for key, true_value in LSTM_BACKWARD_TRUE.items():
        close(_entry(g, key), true_value, ATOL_PRINT)
    for key, printed in LSTM_BACKWARD_PRINTED.items():
        got = np.atleast_1d(np.asarray(_entry(g, key), dtype=np.float64))
        printed = np.atleast_1d(np.asarray(printed, dtype=np.float64))
        if key[0] == "dx":
            close(got[3], printed[3], ATOL_PRINT)  # last step: nothing from t + 1, so the seed is right here
            got, printed = got[:3], printed[:3]
        assert np.all(np.abs(got - printed) > 1e-3), f"{key}: matches the seed's wrong value"


# --- GRU (the lecture's form; no printed reference) ------------------------------------------------------------
def _gru_params():
    p = {}
    for k in ("u", "r", "c"):
        p["W" + k] = np.random.randn(5, 5 + 3)
        p["b" + k] = np.random.randn(5, 1)
    p["Wy"] = np.random.randn(2, 5)
    p["by"] = np.random.randn(2, 1)
    return p


def setup_gru_cell():
    np.random.seed(1)
    xt = np.random.randn(3, 10)
    a_prev = np.random.randn(5, 10)
    parameters = _gru_params()
    da_next = np.random.randn(5, 10)
    return xt, a_prev, parameters, da_next


def setup_gru_seq():
    np.random.seed(1)
    x = np.random.randn(3, 10, 4)
    a0 = np.random.randn(5, 10)
    parameters = _gru_params()
    da = np.random.randn(5, 10, 4)
    return x, a0, parameters, da


def test_gru_cell_forward_matches_lecture_formulas():
    xt, a_prev, parameters, _ = setup_gru_cell()
    a_next, yt_pred, cache = sbs.gru_cell_forward(xt, a_prev, parameters)
    W = {k: T(parameters[k]) for k in GRU_PARAM_KEYS}
    a_ref, _ = gru_step_torch(W, T(xt), T(a_prev))
    assert a_next.shape == (5, 10) and yt_pred.shape == (2, 10)
    close(a_next, a_ref.numpy(), 1e-14)
    close(yt_pred, softmax_cols(parameters["Wy"] @ a_ref.numpy() + parameters["by"]), 1e-14)
    assert isinstance(cache, tuple)


def test_gru_forward_matches_lecture_formulas():
    x, a0, parameters, _ = setup_gru_seq()
    a, y_pred, caches = sbs.gru_forward(x, a0, parameters)
    assert a.shape == (5, 10, 4) and y_pred.shape == (2, 10, 4)
    W = {k: T(parameters[k]) for k in GRU_PARAM_KEYS}
    a_t = T(a0)
    for t in range(4):
        a_t, _ = gru_step_torch(W, T(x[:, :, t]), a_t)
        close(a[:, :, t], a_t.numpy(), 1e-13)
        close(y_pred[:, :, t], softmax_cols(parameters["Wy"] @ a_t.numpy() + parameters["by"]), 1e-13)
    assert len(caches) == 2 and len(caches[0]) == 4
    close(caches[1], x, 0)


def test_gru_cell_backward_matches_autograd():
    xt, a_prev, parameters, da_next = setup_gru_cell()
    _, _, cache = sbs.gru_cell_forward(xt, a_prev, parameters)
    g = sbs.gru_cell_backward(da_next, cache)
    assert set(g) == GRU_GRAD_KEYS
    ref = gru_autograd(xt[:, :, None], a_prev, parameters, da_next[:, :, None])
    close(g["dxt"], ref["dx"][:, :, 0], TOL_TORCH)
    close(g["da_prev"], ref["da0"], TOL_TORCH)
    for k in GRU_PARAM_KEYS:
        assert g["d" + k].shape == parameters[k].shape
        close(g["d" + k], ref["d" + k], TOL_TORCH)


def test_gru_backward_matches_autograd():
    x, a0, parameters, da = setup_gru_seq()
    _, _, caches = sbs.gru_forward(x, a0, parameters)
    g = sbs.gru_backward(da, caches)
    assert set(g) == GRU_SEQ_GRAD_KEYS
    ref = gru_autograd(x, a0, parameters, da)
    assert g["dx"].shape == (3, 10, 4) and g["da0"].shape == (5, 10)
    for k in GRU_SEQ_GRAD_KEYS:
        close(g[k], ref[k], TOL_TORCH)


# --- Adam (the course's rnn_utils; no printed reference in the seeds) ----------------------------------------
def course_adam_reference(parameters, grads, v, s, t, lr=0.01, beta1=0.9, beta2=0.999, epsilon=1e-8):
    """The course's rnn_utils update, written out: note ε sits INSIDE the square root,
    W ← W − lr · v̂ / √(ŝ + ε), unlike the usual √ŝ + ε."""
    out_p, out_v, out_s = dict(parameters), dict(v), dict(s)
    for name in parameters:
        d = "d" + name
        out_v[d] = beta1 * v[d] + (1 - beta1) * grads[d]
        out_s[d] = beta2 * s[d] + (1 - beta2) * grads[d] ** 2
        v_hat = out_v[d] / (1 - beta1 ** t)
        s_hat = out_s[d] / (1 - beta2 ** t)
        out_p[name] = parameters[name] - lr * v_hat / np.sqrt(s_hat + epsilon)
    return out_p, out_v, out_s


def adam_problem():
    rng = np.random.default_rng(7)
    shapes = {"W1": (5, 3), "b1": (5, 1), "W2": (2, 5), "b2": (2, 1)}
    parameters = {k: rng.standard_normal(s) for k, s in shapes.items()}
    # gradients of very different sizes, some near √ε = 1e-4, where the place of ε matters
    scale = {"W1": 1.0, "b1": 1e-4, "W2": 3e-5, "b2": 10.0}
    grads = [{"d" + k: scale[k] * rng.standard_normal(s) for k, s in shapes.items()} for _ in range(3)]
    return parameters, grads


def test_initialize_adam():
    parameters, _ = adam_problem()
    v, s = sbs.initialize_adam(parameters)
    assert set(v) == set(s) == {"dW1", "db1", "dW2", "db2"}
    for k in ("W1", "b1", "W2", "b2"):
        assert v["d" + k].shape == s["d" + k].shape == parameters[k].shape
        assert not v["d" + k].any() and not s["d" + k].any()
    assert v["dW1"] is not s["dW1"]


def test_update_parameters_with_adam_matches_course_formula():
    parameters, grads = adam_problem()
    ref_p = {k: a.copy() for k, a in parameters.items()}
    v, s = sbs.initialize_adam(parameters)
    ref_v, ref_s = {k: a.copy() for k, a in v.items()}, {k: a.copy() for k, a in s.items()}
    p = {k: a.copy() for k, a in parameters.items()}
    for t, g in enumerate(grads, start=1):
        p, v, s = sbs.update_parameters_with_adam(p, g, v, s, t, learning_rate=0.01)
        ref_p, ref_v, ref_s = course_adam_reference(ref_p, g, ref_v, ref_s, t, lr=0.01)
        for k in parameters:
            close(p[k], ref_p[k], 1e-12)
            close(v["d" + k], ref_v["d" + k], 1e-12)
            close(s["d" + k], ref_s["d" + k], 1e-14)


def test_update_parameters_with_adam_defaults():
    parameters, grads = adam_problem()
    v, s = sbs.initialize_adam(parameters)
    p, v, s = sbs.update_parameters_with_adam({k: a.copy() for k, a in parameters.items()}, grads[0], v, s, 1)
    ref_p, _, _ = course_adam_reference(parameters, grads[0], *sbs.initialize_adam(parameters), 1)
    for k in parameters:  # learning_rate=0.01, beta1=0.9, beta2=0.999, epsilon=1e-8
        close(p[k], ref_p[k], 1e-12)
