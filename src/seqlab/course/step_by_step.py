"""The course's "Building your Recurrent Neural Network - Step by Step", as thin adapters over the engine.

Same function names, argument orders, layouts and return values as the course: inputs are (n_x, m, T_x),
states (n_a, m), weights act on column vectors (W·[a; x]), biases are (n, 1) columns, caches are the course's
tuples and gradients the course's dict keys. Underneath, every forward and backward pass is the engine's
(time-major (T, B, features), weights acting on rows); this module only moves axes and splits weight blocks.

A backward function gets everything it needs from the course's cache and re-runs the engine's forward pass
for that span before its backward pass, so the math lives in one place.
"""

from __future__ import annotations

import numpy as np

from seqlab.engine import GRU, LSTM, RNN, activations
from seqlab.engine.optim import adam_update

F64 = np.float64


# --- helpers (the course's rnn_utils) ----------------------------------------------------------------
def softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over axis 0 (the course's column convention): x (n_y, m) or (n_y,)."""
    return activations.softmax(np.asarray(x, F64), axis=0)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return activations.sigmoid(np.asarray(x, F64))


def _time_major(x: np.ndarray) -> np.ndarray:
    """(n, m, T) -> (T, m, n), contiguous."""
    return np.ascontiguousarray(np.transpose(x, (2, 1, 0)), F64)


def _course_major(x: np.ndarray) -> np.ndarray:
    """(T, m, n) -> (n, m, T)."""
    return np.transpose(x, (2, 1, 0)).copy()


def _predict(Wy: np.ndarray, by: np.ndarray, a: np.ndarray) -> np.ndarray:
    """ŷ = softmax(Wy·a + by) for a (n_a, m) or (n_a, m, T)."""
    return softmax(np.tensordot(Wy, a, axes=(1, 0)) + (by if a.ndim == 2 else by[:, :, None]))


# --- RNN ---------------------------------------------------------------------------------------------------
def _rnn_layer(parameters: dict) -> RNN:
    n_a, n_x = parameters["Wax"].shape
    layer = RNN(n_x, n_a, dtype=F64)
    layer.set_params(W_x=parameters["Wax"].T, W_h=parameters["Waa"].T, b=parameters["ba"][:, 0])
    return layer


def rnn_cell_forward(xt, a_prev, parameters):
    """One step: xt (n_x, m), a_prev (n_a, m) -> (a_next (n_a, m), yt_pred (n_y, m), cache).

    a⟨t⟩ = tanh(Waa·a⟨t−1⟩ + Wax·x⟨t⟩ + ba), ŷ⟨t⟩ = softmax(Wya·a⟨t⟩ + by);
    cache = (a_next, a_prev, xt, parameters).
    """
    layer = _rnn_layer(parameters)
    out, _ = layer.forward(np.asarray(xt, F64).T[None].copy(), np.asarray(a_prev, F64).T.copy(), cache=False)
    a_next = out[0].T.copy()
    yt_pred = _predict(parameters["Wya"], parameters["by"], a_next)
    return a_next, yt_pred, (a_next, a_prev, xt, parameters)


def rnn_forward(x, a0, parameters):
    """x (n_x, m, T_x), a0 (n_a, m) -> (a (n_a, m, T_x), y_pred (n_y, m, T_x), caches).

    caches = ([cache of each step], x), each cache as rnn_cell_forward's.
    """
    layer = _rnn_layer(parameters)
    out, _ = layer.forward(_time_major(x), np.asarray(a0, F64).T.copy(), cache=False)
    a = _course_major(out)
    y_pred = _predict(parameters["Wya"], parameters["by"], a)
    caches = []
    for t in range(x.shape[2]):
        a_prev = a0 if t == 0 else a[:, :, t - 1]
        caches.append((a[:, :, t], a_prev, x[:, :, t], parameters))
    return a, y_pred, (caches, x)


def _rnn_backward(x_tm, a0, parameters, da_tm):
    layer = _rnn_layer(parameters)
    layer.forward(x_tm, np.asarray(a0, F64).T.copy())
    dx, da0 = layer.backward(da_tm)
    g = layer.grads
    return dx, da0.T.copy(), g["W_x"].T.copy(), g["W_h"].T.copy(), g["b"][:, None].copy()


def rnn_cell_backward(da_next, cache):
    """da_next (n_a, m), cache from rnn_cell_forward -> dict dxt, da_prev, dWax, dWaa, dba."""
    a_next, a_prev, xt, parameters = cache
    dx, da_prev, dWax, dWaa, dba = _rnn_backward(np.asarray(xt, F64).T[None].copy(), a_prev, parameters,
                                                 np.asarray(da_next, F64).T[None].copy())
    return {"dxt": dx[0].T.copy(), "da_prev": da_prev, "dWax": dWax, "dWaa": dWaa, "dba": dba}


def rnn_backward(da, caches):
    """da (n_a, m, T_x): dL/da⟨t⟩ from above at every step; caches from rnn_forward ->
    dict dx (n_x, m, T_x), da0 (n_a, m), dWax, dWaa, dba. Gradients flow through time (BPTT)."""
    steps, x = caches
    T_x = da.shape[2]
    _, a0, _, parameters = steps[0]
    dx, da0, dWax, dWaa, dba = _rnn_backward(_time_major(x[:, :, :T_x]), a0, parameters, _time_major(da))
    return {"dx": _course_major(dx), "da0": da0, "dWax": dWax, "dWaa": dWaa, "dba": dba}


# --- LSTM --------------------------------------------------------------------------------------------------
_LSTM_BLOCKS = ("i", "f", "c", "o")  # engine column blocks i, f, g, o  <->  course Wi, Wf, Wc, Wo


def _lstm_layer(parameters: dict) -> LSTM:
    n_a = parameters["Wf"].shape[0]
    n_x = parameters["Wf"].shape[1] - n_a
    layer = LSTM(n_x, n_a, dtype=F64)
    W = [parameters["W" + k] for k in _LSTM_BLOCKS]
    layer.set_params(W_x=np.concatenate([w[:, n_a:].T for w in W], axis=1),
                     W_h=np.concatenate([w[:, :n_a].T for w in W], axis=1),
                     b=np.concatenate([parameters["b" + k][:, 0] for k in _LSTM_BLOCKS]))
    return layer


def _lstm_grads(layer: LSTM) -> dict:
    """Engine grads -> the course's dW* (n_a, n_a + n_x) on [a; x] and db* (n_a, 1)."""
    H = layer.hidden_size
    g = layer.grads
    out = {}
    for k, name in enumerate(_LSTM_BLOCKS):
        cols = slice(k * H, (k + 1) * H)
        out["dW" + name] = np.concatenate([g["W_h"][:, cols].T, g["W_x"][:, cols].T], axis=1)
        out["db" + name] = g["b"][cols][:, None].copy()
    return out


def lstm_cell_forward(xt, a_prev, c_prev, parameters):
    """One step: xt (n_x, m), a_prev, c_prev (n_a, m) -> (a_next, c_next, yt_pred (n_y, m), cache).

    Γf = σ(Wf[a, x] + bf), Γi = σ(Wi[a, x] + bi), c̃ = tanh(Wc[a, x] + bc), Γo = σ(Wo[a, x] + bo),
    c⟨t⟩ = Γf ∗ c⟨t−1⟩ + Γi ∗ c̃, a⟨t⟩ = Γo ∗ tanh(c⟨t⟩);
    cache = (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters).
    """
    layer = _lstm_layer(parameters)
    state = (np.asarray(a_prev, F64).T.copy(), np.asarray(c_prev, F64).T.copy())
    out, (_, c) = layer.forward(np.asarray(xt, F64).T[None].copy(), state)
    gates = {k: v[0].T.copy() for k, v in layer.gate_values().items()}
    a_next, c_next = out[0].T.copy(), c.T.copy()
    yt_pred = _predict(parameters["Wy"], parameters["by"], a_next)
    cache = (a_next, c_next, a_prev, c_prev, gates["f"], gates["i"], gates["g"], gates["o"], xt, parameters)
    return a_next, c_next, yt_pred, cache


def lstm_forward(x, a0, parameters):
    """x (n_x, m, T_x), a0 (n_a, m); c⟨0⟩ = 0 -> (a, y, c, caches): a, c (n_a, m, T_x), y (n_y, m, T_x).

    caches = ([cache of each step], x), each cache as lstm_cell_forward's.
    """
    layer = _lstm_layer(parameters)
    n_a, m = a0.shape
    c0 = np.zeros((n_a, m))
    out, _ = layer.forward(_time_major(x), (np.asarray(a0, F64).T.copy(), c0.T.copy()))
    gates = {k: _course_major(v) for k, v in layer.gate_values().items()}
    cs = _course_major(layer.cell_states())
    a = _course_major(out)
    y = _predict(parameters["Wy"], parameters["by"], a)
    caches = []
    for t in range(x.shape[2]):
        a_prev = a0 if t == 0 else a[:, :, t - 1]
        c_prev = c0 if t == 0 else cs[:, :, t - 1]
        caches.append((a[:, :, t], cs[:, :, t], a_prev, c_prev, gates["f"][:, :, t], gates["i"][:, :, t],
                       gates["g"][:, :, t], gates["o"][:, :, t], x[:, :, t], parameters))
    return a, y, cs, (caches, x)


def lstm_cell_backward(da_next, dc_next, cache):
    """da_next, dc_next (n_a, m), cache from lstm_cell_forward -> dict dxt, da_prev, dc_prev, dWf, dbf, dWi,
    dbi, dWc, dbc, dWo, dbo (dW* (n_a, n_a + n_x), db* (n_a, 1))."""
    _, _, a_prev, c_prev, _, _, _, _, xt, parameters = cache
    layer = _lstm_layer(parameters)
    layer.forward(np.asarray(xt, F64).T[None].copy(),
                  (np.asarray(a_prev, F64).T.copy(), np.asarray(c_prev, F64).T.copy()))
    dx, (da_prev, dc_prev) = layer.backward(np.asarray(da_next, F64).T[None].copy(),
                                            (None, np.asarray(dc_next, F64).T.copy()))
    return {"dxt": dx[0].T.copy(), "da_prev": da_prev.T.copy(), "dc_prev": dc_prev.T.copy(), **_lstm_grads(layer)}


def lstm_backward(da, caches):
    """da (n_a, m, T_x): dL/da⟨t⟩ from above at every step; caches from lstm_forward ->
    dict dx (n_x, m, T_x), da0 (n_a, m), dWf, dbf, dWi, dbi, dWc, dbc, dWo, dbo.

    The true gradient through time: each step also receives dL/da⟨t⟩ and dL/dc⟨t⟩ from step t + 1. (The
    course's printed reference drops both, da_prevt and dc_prevt; see tests/test_course_step_by_step.py.)
    When da covers fewer steps than the forward pass, the loss is taken over those first T_x steps.
    """
    steps, x = caches
    T_x = da.shape[2]
    a0, c0, parameters = steps[0][2], steps[0][3], steps[0][9]
    layer = _lstm_layer(parameters)
    layer.forward(_time_major(x[:, :, :T_x]), (np.asarray(a0, F64).T.copy(), np.asarray(c0, F64).T.copy()))
    dx, (da0, _) = layer.backward(_time_major(da))
    return {"dx": _course_major(dx), "da0": da0.T.copy(), **_lstm_grads(layer)}


# --- GRU (the lecture's form) ----------------------------------------------------------------------------
def _gru_layer(parameters: dict) -> GRU:
    """The lecture's GRU as an engine GRU with reset_after=False; the engine's keep gate z = 1 − Γu, so the
    z block holds −Wu, −bu (σ(−s) = 1 − σ(s))."""
    n_a = parameters["Wu"].shape[0]
    n_x = parameters["Wu"].shape[1] - n_a
    layer = GRU(n_x, n_a, dtype=F64, reset_after=False)
    W = [parameters["Wr"], -parameters["Wu"], parameters["Wc"]]
    b = [parameters["br"], -parameters["bu"], parameters["bc"]]
    layer.set_params(W_x=np.concatenate([w[:, n_a:].T for w in W], axis=1),
                     W_h=np.concatenate([w[:, :n_a].T for w in W], axis=1),
                     b=np.concatenate([v[:, 0] for v in b]))
    return layer


def _gru_grads(layer: GRU) -> dict:
    H = layer.hidden_size
    g = layer.grads
    out = {}
    for k, (name, sign) in enumerate((("r", 1.0), ("u", -1.0), ("c", 1.0))):
        cols = slice(k * H, (k + 1) * H)
        out["dW" + name] = sign * np.concatenate([g["W_h"][:, cols].T, g["W_x"][:, cols].T], axis=1)
        out["db" + name] = sign * g["b"][cols][:, None]
    return {k: out[k] for k in ("dWu", "dbu", "dWr", "dbr", "dWc", "dbc")}


def gru_cell_forward(xt, a_prev, parameters):
    """One step of the lecture's GRU: xt (n_x, m), a_prev (n_a, m) -> (a_next, yt_pred (n_y, m), cache).

    Γu = σ(Wu[a⟨t−1⟩, x⟨t⟩] + bu), Γr = σ(Wr[a⟨t−1⟩, x⟨t⟩] + br), c̃ = tanh(Wc[Γr ∗ a⟨t−1⟩, x⟨t⟩] + bc),
    a⟨t⟩ = Γu ∗ c̃ + (1 − Γu) ∗ a⟨t−1⟩, ŷ = softmax(Wy·a⟨t⟩ + by);
    cache = (a_next, a_prev, xt, gu, gr, cct, parameters).
    """
    layer = _gru_layer(parameters)
    out, _ = layer.forward(np.asarray(xt, F64).T[None].copy(), np.asarray(a_prev, F64).T.copy())
    gates = {k: v[0].T.copy() for k, v in layer.gate_values().items()}
    a_next = out[0].T.copy()
    yt_pred = _predict(parameters["Wy"], parameters["by"], a_next)
    return a_next, yt_pred, (a_next, a_prev, xt, 1.0 - gates["z"], gates["r"], gates["n"], parameters)


def gru_forward(x, a0, parameters):
    """x (n_x, m, T_x), a0 (n_a, m) -> (a (n_a, m, T_x), y_pred (n_y, m, T_x), caches = ([cache…], x))."""
    layer = _gru_layer(parameters)
    out, _ = layer.forward(_time_major(x), np.asarray(a0, F64).T.copy())
    gates = {k: _course_major(v) for k, v in layer.gate_values().items()}
    a = _course_major(out)
    y_pred = _predict(parameters["Wy"], parameters["by"], a)
    caches = []
    for t in range(x.shape[2]):
        a_prev = a0 if t == 0 else a[:, :, t - 1]
        caches.append((a[:, :, t], a_prev, x[:, :, t], 1.0 - gates["z"][:, :, t], gates["r"][:, :, t],
                       gates["n"][:, :, t], parameters))
    return a, y_pred, (caches, x)


def gru_cell_backward(da_next, cache):
    """da_next (n_a, m), cache from gru_cell_forward -> dict dxt, da_prev, dWu, dbu, dWr, dbr, dWc, dbc."""
    _, a_prev, xt, _, _, _, parameters = cache
    layer = _gru_layer(parameters)
    layer.forward(np.asarray(xt, F64).T[None].copy(), np.asarray(a_prev, F64).T.copy())
    dx, da_prev = layer.backward(np.asarray(da_next, F64).T[None].copy())
    return {"dxt": dx[0].T.copy(), "da_prev": da_prev.T.copy(), **_gru_grads(layer)}


def gru_backward(da, caches):
    """da (n_a, m, T_x), caches from gru_forward -> dict dx, da0, dWu, dbu, dWr, dbr, dWc, dbc (through time)."""
    steps, x = caches
    T_x = da.shape[2]
    a0, parameters = steps[0][1], steps[0][6]
    layer = _gru_layer(parameters)
    layer.forward(_time_major(x[:, :, :T_x]), np.asarray(a0, F64).T.copy())
    dx, da0 = layer.backward(_time_major(da))
    return {"dx": _course_major(dx), "da0": da0.T.copy(), **_gru_grads(layer)}


# --- Adam (the course's rnn_utils) ------------------------------------------------------------------------
def initialize_adam(parameters):
    """v, s: dicts of zeros with keys dW1, db1, …, dWL, dbL shaped like parameters W1, b1, … ."""
    L = len(parameters) // 2
    v, s = {}, {}
    for layer in range(1, L + 1):
        for kind in ("W", "b"):
            v[f"d{kind}{layer}"] = np.zeros_like(parameters[f"{kind}{layer}"], dtype=F64)
            s[f"d{kind}{layer}"] = np.zeros_like(parameters[f"{kind}{layer}"], dtype=F64)
    return v, s


def update_parameters_with_adam(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999,
                                epsilon=1e-8):
    """One Adam step (bias-corrected) on W1, b1, …: returns (parameters, v, s), updated in place.

    As the course's rnn_utils, ε sits inside the square root: W ← W − lr·v̂ / √(ŝ + ε).
    """
    L = len(parameters) // 2
    for layer in range(1, L + 1):
        for kind in ("W", "b"):
            key = f"d{kind}{layer}"
            p = parameters[f"{kind}{layer}"]
            if p.dtype != F64:
                parameters[f"{kind}{layer}"] = p = p.astype(F64)
            adam_update(p, np.asarray(grads[key], F64), v[key], s[key], t, learning_rate, beta1, beta2, epsilon,
                        eps_inside_sqrt=True)
    return parameters, v, s
