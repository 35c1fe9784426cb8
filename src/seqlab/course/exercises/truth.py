"""What each exercise should return: seqlab's engine, through the course adapters (seqlab.course.*).

TRUTH[name](*args) returns what the exercise returns, in the course's structure.
"""

from __future__ import annotations

import numpy as np

from seqlab.course import dinosaurus as dino
from seqlab.course import jazz
from seqlab.course import step_by_step as sbs
from seqlab.engine import RNN
from seqlab.engine.base import one_hot as _one_hot


def _one_hot_rows(x):
    x = np.asarray(x, np.float64)
    return _one_hot(np.argmax(x, axis=1), x.shape[1], np.float64)[:, None, :]


def _inference_loop(step, x0, a0, c0, Ty):
    net = step.__self__   # the JazzModel whose step the case passes
    return jazz.InferenceModel(net.lstm, net.dense, net.n_values, net.n_a, Ty).predict([x0, a0, c0])


def _rows_rnn(weight_ih, weight_hh, bias_ih, bias_hh) -> RNN:
    """torch.nn.RNN's layout as an engine RNN: W_x = W_ihᵀ, W_h = W_hhᵀ, b = b_ih + b_hh."""
    n_h, n_x = weight_ih.shape
    layer = RNN(n_x, n_h, dtype=np.float64)
    layer.set_params(W_x=weight_ih.T, W_h=weight_hh.T, b=bias_ih + bias_hh)
    return layer


def _bptt(x, h0, weight_ih, weight_hh, bias_ih, bias_hh, dh):
    layer = _rows_rnn(weight_ih, weight_hh, bias_ih, bias_hh)
    layer.forward(np.ascontiguousarray(x, np.float64), np.asarray(h0, np.float64))
    dx, dh0 = layer.backward(np.asarray(dh, np.float64))
    g = layer.grads
    return {"dx": dx, "dh0": dh0, "dweight_ih": g["W_x"].T.copy(), "dweight_hh": g["W_h"].T.copy(),
            "dbias_ih": g["b"].copy(), "dbias_hh": g["b"].copy()}


def _residual_jacobian(h_prev, xt, U, W, b):
    """I + ∂g/∂h⟨t−1⟩, the second term from the engine's backward pass, one unit vector per batch row."""
    n_h = h_prev.shape[0]
    layer = _rows_rnn(W, U, b[:, 0], np.zeros(n_h))
    layer.forward(np.repeat(xt.T[None], n_h, axis=1), np.repeat(h_prev.T, n_h, axis=0))
    _, dh_prev = layer.backward(np.eye(n_h)[None])   # row i: ∂g_i/∂h⟨t−1⟩
    return np.eye(n_h) + dh_prev


def _jacobian_growth(x, h0, U, W, b):
    h, P, sigma = h0, np.eye(h0.shape[0]), []
    for t in range(x.shape[1]):
        xt = x[:, t:t + 1]
        P = _residual_jacobian(h, xt, U, W, b) @ P
        h = h + np.tanh(U @ h + W @ xt + b)
        sigma.append(np.linalg.svd(P, compute_uv=False)[0])
    return np.array(sigma)


TRUTH = {
    "rnn_cell_forward": sbs.rnn_cell_forward, "rnn_forward": sbs.rnn_forward,
    "lstm_cell_forward": sbs.lstm_cell_forward, "lstm_forward": sbs.lstm_forward,
    "rnn_cell_backward": sbs.rnn_cell_backward, "rnn_backward": sbs.rnn_backward,
    "lstm_cell_backward": sbs.lstm_cell_backward, "lstm_backward": sbs.lstm_backward,
    "clip": dino.clip, "sample": dino.sample, "optimize": dino.optimize, "model": dino.model,
    "one_hot": _one_hot_rows, "inference_loop": _inference_loop, "predict_and_sample": jazz.predict_and_sample,
    "bptt": _bptt, "torch_gradients": _bptt, "residual_jacobian": _residual_jacobian,
    "jacobian_growth": _jacobian_growth,
}
