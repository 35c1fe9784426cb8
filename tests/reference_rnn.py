"""The textbook LSTM and GRU, one step and one gate at a time: the maths of seqlab.engine without its memory tricks
(fused gate rows, one product for all steps' inputs, buffers reused and overwritten in place). Slow and plain on
purpose; tests/test_reference_rnn.py checks the engine against it in float64.

Parameters are the engine's, W_x (D, G·H), W_h (H, G·H), b (G·H,) (and the GRU's b_hn (H,)); gate k owns
columns k·H … (k+1)·H − 1, in PyTorch's order i, f, g, o (LSTM) and r, z, n (GRU). x (T, B, D); states (B, H);
dout (T, B, H) and the final state's gradients are what arrives from above.
"""

from __future__ import annotations

import numpy as np


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def per_gate(p, names):
    """{"W_x", "W_h", "b"} -> {gate: (W_x, W_h, b) of that gate}."""
    H = p["W_h"].shape[0]
    return {k: tuple(p[w][..., j * H:(j + 1) * H] for w in ("W_x", "W_h", "b")) for j, k in enumerate(names)}


def joined(grads, names):
    """{gate: [dW_x, dW_h, db]} -> {"W_x", "W_h", "b"} with the gates side by side, as the engine keeps them."""
    return {w: np.concatenate([grads[k][n] for k in names], axis=-1) for n, w in enumerate(("W_x", "W_h", "b"))}


def lstm(p, x, h, c, dout, dh, dc):
    """-> (out (T, B, H), (h_T, c_T), dx (T, B, D), (dh_0, dc_0), grads {"W_x", "W_h", "b"})."""
    W = per_gate(p, "ifgo")
    steps = []
    for xt in x:
        pre = {k: xt @ Wx + h @ Wh + b for k, (Wx, Wh, b) in W.items()}
        i, f, g, o = sigmoid(pre["i"]), sigmoid(pre["f"]), np.tanh(pre["g"]), sigmoid(pre["o"])
        h_prev, c_prev = h, c
        c = f * c_prev + i * g                            # c⟨t⟩ = f ∗ c⟨t−1⟩ + i ∗ g
        h = o * np.tanh(c)                                # h⟨t⟩ = o ∗ tanh c⟨t⟩
        steps.append((xt, h_prev, c_prev, i, f, g, o, c, h))
    out, final = np.stack([s[-1] for s in steps]), (h, c)
    grads = {k: [np.zeros_like(a) for a in W[k]] for k in W}
    dx = np.zeros_like(x)
    for t in reversed(range(len(x))):
        xt, h_prev, c_prev, i, f, g, o, c, _ = steps[t]
        dh = dh + dout[t]                                 # from the output and from step t+1
        do = dh * np.tanh(c)
        dc = dc + dh * o * (1 - np.tanh(c) ** 2)          # from h⟨t⟩ and from c⟨t+1⟩
        di, df, dg = dc * g, dc * c_prev, dc * i
        dc = dc * f                                       # to c⟨t−1⟩
        # through the activations (σ' = σ(1 − σ), tanh' = 1 − tanh²): gradients of the pre-activations
        dpre = {"i": di * i * (1 - i), "f": df * f * (1 - f), "g": dg * (1 - g ** 2), "o": do * o * (1 - o)}
        dh = np.zeros_like(h_prev)                        # to h⟨t−1⟩
        for k, d in dpre.items():
            Wx, Wh, _ = W[k]
            grads[k][0] += xt.T @ d
            grads[k][1] += h_prev.T @ d
            grads[k][2] += d.sum(axis=0)
            dx[t] += d @ Wx.T
            dh += d @ Wh.T
    return out, final, dx, (dh, dc), joined(grads, "ifgo")


def gru(p, x, h, dout, dh):
    """PyTorch's GRU (reset_after) -> (out (T, B, H), h_T, dx (T, B, D), dh_0, grads {"W_x", "W_h", "b", "b_hn"})."""
    W = per_gate(p, "rzn")
    b_hn = p["b_hn"]
    steps, outs = [], []
    for xt in x:
        (Wxr, Whr, br), (Wxz, Whz, bz), (Wxn, Whn, bn) = W.values()
        r = sigmoid(xt @ Wxr + h @ Whr + br)              # reset gate
        z = sigmoid(xt @ Wxz + h @ Whz + bz)              # keep gate
        hn = h @ Whn + b_hn                               # the recurrent part of n, before the reset
        n = np.tanh(xt @ Wxn + bn + r * hn)               # candidate
        steps.append((xt, h, r, z, hn, n))
        h = (1 - z) * n + z * h                           # h⟨t⟩
        outs.append(h)
    out = np.stack(outs)
    grads = {k: [np.zeros_like(a) for a in W[k]] for k in W}
    db_hn = np.zeros_like(b_hn)
    dx = np.zeros_like(x)
    for t in reversed(range(len(x))):
        xt, h_prev, r, z, hn, n = steps[t]
        dh = dh + dout[t]
        dn, dz = dh * (1 - z), dh * (h_prev - n)
        dpre_n = dn * (1 - n ** 2)                        # the n gate's pre-activation
        dr, dhn = dpre_n * hn, dpre_n * r                 # through r ∗ (h·W_hn + b_hn)
        dpre_r, dpre_z = dr * r * (1 - r), dz * z * (1 - z)
        dh = dh * z                                       # to h⟨t−1⟩, directly ...
        for k, d, d_rec in (("r", dpre_r, dpre_r), ("z", dpre_z, dpre_z), ("n", dpre_n, dhn)):
            Wx, Wh, _ = W[k]
            grads[k][0] += xt.T @ d
            grads[k][1] += h_prev.T @ d_rec
            grads[k][2] += d.sum(axis=0)
            dx[t] += d @ Wx.T
            dh = dh + d_rec @ Wh.T                        # ... and through each gate
        db_hn += dhn.sum(axis=0)
    return out, h, dx, dh, {**joined(grads, "rzn"), "b_hn": db_hn}
