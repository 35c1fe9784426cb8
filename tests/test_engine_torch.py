"""seqlab's recurrent layers agree with torch.nn.RNN / LSTM / GRU: outputs, final states and every gradient."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from seqlab.engine import GRU, LSTM, RNN, Bidirectional, Stack
from torch_ref import copy_to_torch, grads_from_torch

TOL = 1e-10
CELLS = {"rnn": (RNN, torch.nn.RNN), "lstm": (LSTM, torch.nn.LSTM), "gru": (GRU, torch.nn.GRU)}
SHAPES = [(1, 1, 1, 1), (7, 3, 5, 4), (4, 6, 2, 9), (12, 2, 8, 3)]  # T, B, D, H


def make(cls, D, H, rng):
    layer = cls(D, H, dtype=np.float64, rng=rng)
    for k, p in layer.params.items():  # random biases too, so every term is exercised
        p[...] = rng.uniform(-0.8, 0.8, p.shape)
    return layer


def random_state(kind, B, H, rng):
    h0 = rng.standard_normal((B, H))
    if kind == "lstm":
        return (h0, rng.standard_normal((B, H)))
    return h0


def to_torch_state(kind, state, num=1):
    if kind == "lstm":
        return tuple(torch.tensor(np.stack([s] if num == 1 else s), requires_grad=True) for s in state)
    return torch.tensor(np.stack([state] if num == 1 else state), requires_grad=True)


def state_list(kind, s):
    return list(s) if kind == "lstm" else [s]


@pytest.mark.parametrize("kind", sorted(CELLS))
@pytest.mark.parametrize("shape", SHAPES)
def test_single_layer_matches_torch(kind, shape):
    T, B, D, H = shape
    rng = np.random.default_rng([sorted(CELLS).index(kind), *shape])
    cls, tcls = CELLS[kind]
    layer = make(cls, D, H, rng)
    module = tcls(D, H).double()
    copy_to_torch(layer, module, 0)

    x = rng.standard_normal((T, B, D))
    state = random_state(kind, B, H, rng)
    dout = rng.standard_normal((T, B, H))
    dfinal = random_state(kind, B, H, rng)

    out, final = layer.forward(x, state)
    dx, dstate0 = layer.backward(dout, dfinal)

    xt = torch.tensor(x, requires_grad=True)
    st = to_torch_state(kind, state)
    tout, tfinal = module(xt, st)
    loss = (tout * torch.tensor(dout)).sum()
    for f, d in zip(state_list(kind, tfinal), state_list(kind, dfinal)):
        loss = loss + (f[0] * torch.tensor(d)).sum()
    loss.backward()

    np.testing.assert_allclose(out, tout.detach().numpy(), atol=TOL, rtol=0)
    for mine, theirs in zip(state_list(kind, final), state_list(kind, tfinal)):
        np.testing.assert_allclose(mine, theirs.detach().numpy()[0], atol=TOL, rtol=0)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=TOL, rtol=0)
    for mine, theirs in zip(state_list(kind, dstate0), state_list(kind, st)):
        np.testing.assert_allclose(mine, theirs.grad.numpy()[0], atol=TOL, rtol=0)
    for name, g in grads_from_torch(layer, module, 0).items():
        np.testing.assert_allclose(layer.grads[name], g, atol=TOL, rtol=0, err_msg=name)


@pytest.mark.parametrize("kind", sorted(CELLS))
def test_two_layer_stack_matches_torch(kind):
    T, B, D, H = 6, 3, 4, 5
    rng = np.random.default_rng(7)
    cls, tcls = CELLS[kind]
    stack = Stack([make(cls, D, H, rng), make(cls, H, H, rng)])
    module = tcls(D, H, num_layers=2).double()
    for k, layer in enumerate(stack.layers):
        copy_to_torch(layer, module, k)
    x = rng.standard_normal((T, B, D))
    dout = rng.standard_normal((T, B, H))
    out, finals = stack.forward(x)
    dx, _ = stack.backward(dout)
    xt = torch.tensor(x, requires_grad=True)
    tout, _ = module(xt)
    (tout * torch.tensor(dout)).sum().backward()
    np.testing.assert_allclose(out, tout.detach().numpy(), atol=TOL, rtol=0)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=TOL, rtol=0)
    for k, layer in enumerate(stack.layers):
        for name, g in grads_from_torch(layer, module, k).items():
            np.testing.assert_allclose(layer.grads[name], g, atol=TOL, rtol=0, err_msg=f"layer {k} {name}")


@pytest.mark.parametrize("kind", sorted(CELLS))
def test_bidirectional_matches_torch(kind):
    T, B, D, H = 5, 2, 3, 4
    rng = np.random.default_rng(11)
    cls, tcls = CELLS[kind]
    bi = Bidirectional(make(cls, D, H, rng), make(cls, D, H, rng))
    module = tcls(D, H, bidirectional=True).double()
    copy_to_torch(bi.layers[0], module, 0)
    copy_to_torch(bi.layers[1], module, 0, "_reverse")
    x = rng.standard_normal((T, B, D))
    dout = rng.standard_normal((T, B, 2 * H))
    out, _ = bi.forward(x)
    dx, _ = bi.backward(dout)
    xt = torch.tensor(x, requires_grad=True)
    tout, _ = module(xt)
    (tout * torch.tensor(dout)).sum().backward()
    np.testing.assert_allclose(out, tout.detach().numpy(), atol=TOL, rtol=0)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=TOL, rtol=0)
    for layer, suffix in zip(bi.layers, ["", "_reverse"]):
        for name, g in grads_from_torch(layer, module, 0, suffix).items():
            np.testing.assert_allclose(layer.grads[name], g, atol=TOL, rtol=0, err_msg=f"{suffix} {name}")


def test_float32_agrees_with_float64():
    rng = np.random.default_rng(3)
    l64 = make(LSTM, 8, 16, rng)
    l32 = LSTM(8, 16, dtype=np.float32)
    l32.set_params(**l64.params)
    x = rng.standard_normal((20, 4, 8))
    out64, _ = l64.forward(x)
    out32, _ = l32.forward(x.astype(np.float32))
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, out64, atol=1e-5)
