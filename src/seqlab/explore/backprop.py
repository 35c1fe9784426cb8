"""The gradient of a loss on the last hidden state, followed back one step at a time with the engine's own
forward and backward passes.

A recurrent layer's backward pass over a one-step chunk takes ∂L/∂(state after the step) and returns
∂L/∂(state before it), so running the chunks of a sequence backwards from the last one gives the gradient
reaching every step: the same numbers as one backward pass over the whole sequence, but visible at each t.
"""

from __future__ import annotations

import numpy as np


def _split(state, has_cell: bool):
    """A layer's state -> (h, c or None)."""
    return state if has_cell else (state, None)


def _join(h, c, has_cell: bool):
    return (h, c) if has_cell else h


def state_gradients(layers: list, x: np.ndarray, g: np.ndarray) -> dict:
    """Gradients of L = Σ_b g_b · a_top⟨T⟩_b with respect to every layer's state at every step.

    layers: recurrent layers applied in turn (the bottom one reads x), no dropout; x (T, B, D) or ids
    (T, B); g (B, H_top), the loss gradient on the top layer's last hidden state.

    Returns {"a": [(T + 1, B, H) per layer], "c": [(T + 1, B, H) or None per layer]} where index t is the
    total derivative ∂L/∂a⟨t⟩ (t = 0 is the initial state): the recurrent path and, for a lower layer, the
    path up through the layers above. For an LSTM, "c" is the total ∂L/∂c⟨t⟩, which includes the path
    through a⟨t⟩ = o⟨t⟩ ∗ tanh(c⟨t⟩) — what autograd reports for c⟨t⟩.
    """
    T, B = x.shape[:2]
    cells = [layer.has_cell for layer in layers]
    dtype = layers[0].dtype
    # Forward one step at a time, keeping the state of every layer after every step.
    zeros = [np.zeros((B, layer.hidden_size), dtype) for layer in layers]
    states = [_join(z, z, cell) for z, cell in zip(zeros, cells)]
    history = [states]
    for t in range(T):
        h, new = x[t:t + 1], []
        for layer, state in zip(layers, states):
            h, s = layer.forward(h, state, cache=False)
            new.append(s)
        states = new
        history.append(states)

    da = [np.zeros((T + 1, B, layer.hidden_size), dtype) for layer in layers]
    dc = [np.zeros((T + 1, B, layer.hidden_size), dtype) if cell else None for layer, cell in zip(layers, cells)]
    # ∂L/∂(state after step t) through the later steps only; the top layer's h at T gets g.
    carried = [(np.zeros_like(z), np.zeros_like(z) if cell else None) for z, cell in zip(zeros, cells)]
    carried[-1] = (g.astype(dtype, copy=True), carried[-1][1])
    for t in range(T - 1, -1, -1):                    # the step that reads x[t] and gives state t + 1
        inputs = [x[t:t + 1]]
        for layer, state in zip(layers, history[t]):
            out, _ = layer.forward(inputs[-1], state, cache=True)
            inputs.append(out)
        up = None                                     # ∂L/∂(this layer's output at t + 1) from above
        for k in range(len(layers) - 1, -1, -1):
            layer = layers[k]
            dh, dcell = carried[k]
            da[k][t + 1] = dh if up is None else dh + up[0]
            if cells[k]:
                o = layer.gate_values()["o"][0]
                tc = np.tanh(history[t + 1][k][1])
                dc[k][t + 1] = dcell + da[k][t + 1] * o * (1.0 - tc * tc)   # ∂a/∂c of a = o ∗ tanh(c)
            dx, d0 = layer.backward(up, _join(dh, dcell, cells[k]), need_dx=k > 0)
            carried[k] = _split(d0, cells[k])
            up = dx
    for k, cell in enumerate(cells):
        da[k][0] = carried[k][0]
        if cell:
            dc[k][0] = carried[k][1]   # a⟨0⟩ is given, not computed from c⟨0⟩: only the cell path
    return {"a": da, "c": dc}
