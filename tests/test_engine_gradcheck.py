"""Central-difference gradient checks (float64) of every parameter, input and initial state."""

from __future__ import annotations

import numpy as np
import pytest

from seqlab.engine import GRU, LSTM, RNN, Bidirectional, Dense, Embedding, Stack, softmax_cross_entropy
from seqlab.engine.gradcheck import check, numerical_grad

T, B, D, H = 4, 3, 3, 5
MAX_REL_ERR = 1e-6


def randomize(layer, rng, scale=0.6):
    for p in layer.params.values():
        p[...] = rng.uniform(-scale, scale, p.shape)
    return layer


def leaves(obj):
    if hasattr(obj, "layers"):
        return [leaf for layer in obj.layers for leaf in leaves(layer)]
    return [obj]


def run_check(model, x, state, make_state_list):
    """Loss = Σ out·R + Σ final·S; checks d/dx, d/dstate0 and d/dparams of every leaf layer."""
    rng = np.random.default_rng(99)
    out, final = model.forward(x, state)
    R = rng.standard_normal(out.shape)
    finals = make_state_list(final)
    S = [rng.standard_normal(f.shape) for f in finals]

    def loss():
        o, f = model.forward(x, state, cache=False)
        return float((o * R).sum() + sum((a * s).sum() for a, s in zip(make_state_list(f), S)))

    model.forward(x, state)
    dfinal = S
    dx, dstate0 = model.backward(R, rebuild(final, dfinal))
    arrays = {"x": x}
    analytic = {"x": dx}
    for k, (s, ds) in enumerate(zip(make_state_list(state), make_state_list(dstate0))):
        arrays[f"state{k}"] = s
        analytic[f"state{k}"] = ds
    for j, leaf in enumerate(leaves(model)):
        for name, p in leaf.params.items():
            arrays[f"{j}.{name}"] = p
            analytic[f"{j}.{name}"] = leaf.grads[name].copy()
    errors = check(loss, arrays, analytic)
    assert max(errors.values()) < MAX_REL_ERR, errors
    return errors


def rebuild(template, flat):
    """Puts the flat list of arrays back in the nesting of `template` (tuples, lists)."""
    it = iter(flat)

    def build(t):
        if isinstance(t, tuple):
            return tuple(build(a) for a in t)
        if isinstance(t, list):
            return [build(a) for a in t]
        return next(it)

    return build(template)


def flatten(s):
    if isinstance(s, (tuple, list)):
        return [a for item in s for a in flatten(item)]
    return [s]


def state_for(layer, rng):
    if isinstance(layer, LSTM):
        return (rng.standard_normal((B, layer.hidden_size)), rng.standard_normal((B, layer.hidden_size)))
    return rng.standard_normal((B, layer.hidden_size))


LAYERS = {
    "rnn": lambda rng: RNN(D, H, dtype=np.float64, rng=rng),
    "lstm-sigmoid": lambda rng: LSTM(D, H, dtype=np.float64, rng=rng),
    "lstm-hard_sigmoid": lambda rng: LSTM(D, H, dtype=np.float64, rng=rng, recurrent_activation="hard_sigmoid"),
    "gru-reset_after": lambda rng: GRU(D, H, dtype=np.float64, rng=rng),
    "gru-reset_before": lambda rng: GRU(D, H, dtype=np.float64, rng=rng, reset_after=False),
    "gru-reset_before-hard_sigmoid": lambda rng: GRU(D, H, dtype=np.float64, rng=rng, reset_after=False,
                                                     recurrent_activation="hard_sigmoid"),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_gradients(name):
    rng = np.random.default_rng(sorted(LAYERS).index(name))
    layer = randomize(LAYERS[name](rng), rng)
    x = rng.standard_normal((T, B, D))
    run_check(layer, x, state_for(layer, rng), flatten)


@pytest.mark.parametrize("kind", ["rnn", "lstm-sigmoid", "gru-reset_after"])
def test_two_layer_stack_gradients(kind):
    rng = np.random.default_rng(5)
    first = randomize(LAYERS[kind](rng), rng)
    second = randomize(type(first)(H, 4, dtype=np.float64, rng=rng), rng)
    stack = Stack([first, second])
    x = rng.standard_normal((T, B, D))
    run_check(stack, x, [state_for(first, rng), state_for(second, rng)], flatten)


@pytest.mark.parametrize("kind", ["lstm-sigmoid", "gru-reset_before"])
def test_bidirectional_gradients(kind):
    rng = np.random.default_rng(6)
    bi = Bidirectional(randomize(LAYERS[kind](rng), rng), randomize(LAYERS[kind](rng), rng))
    x = rng.standard_normal((T, B, D))
    run_check(bi, x, (state_for(bi.layers[0], rng), state_for(bi.layers[1], rng)), flatten)


def test_dense_embedding_and_masked_cross_entropy_gradients():
    rng = np.random.default_rng(8)
    V, E, K = 6, 4, 5
    emb = randomize(Embedding(V, E, dtype=np.float64, rng=rng), rng)
    dense = randomize(Dense(E, K, dtype=np.float64, rng=rng), rng)
    ids = rng.integers(0, V, (T, B))
    ids[0, 0] = ids[1, 1]  # a repeated id: its embedding gradients must add up
    targets = rng.integers(0, K, T * B)
    mask = rng.random(T * B) < 0.7

    def loss():
        logits = dense.forward(emb.forward(ids, cache=False), cache=False).reshape(-1, K)
        return softmax_cross_entropy(logits, targets, mask)[0]

    logits = dense.forward(emb.forward(ids)).reshape(-1, K)
    _, count, dlogits = softmax_cross_entropy(logits, targets, mask)
    assert count == mask.sum()
    emb.backward(dense.backward(dlogits.reshape(T, B, K)))
    arrays = {"emb.W": emb.params["W"], "dense.W": dense.params["W"], "dense.b": dense.params["b"]}
    analytic = {"emb.W": emb.grads["W"].copy(), "dense.W": dense.grads["W"].copy(), "dense.b": dense.grads["b"].copy()}
    errors = check(loss, arrays, analytic)
    assert max(errors.values()) < MAX_REL_ERR, errors


def test_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[1000.0, 0.0, -1000.0], [0.0, 0.0, 0.0]])
    loss, count, d = softmax_cross_entropy(logits, np.array([0, 2]))
    assert np.isfinite(loss) and count == 2
    np.testing.assert_allclose(loss, np.log(3.0))
    np.testing.assert_allclose(d.sum(axis=1), 0.0, atol=1e-12)


def test_numerical_grad_changes_a_view_where_it_is():
    # a transposed view used to be nudged in a copy: the gradient came out all zeros
    rng = np.random.default_rng(0)
    W = rng.standard_normal((3, 2))
    g = numerical_grad(lambda: float((W ** 2 * np.arange(1, 7).reshape(3, 2)).sum()), W.T)
    np.testing.assert_allclose(g, (2 * W * np.arange(1, 7).reshape(3, 2)).T, rtol=1e-6)
    with pytest.raises(TypeError, match="x must be a float array"):
        numerical_grad(lambda: 0.0, np.zeros(3, np.int64))      # nudges of 1e-6 vanish in an int


def test_mask_entries_are_bool_or_0_1():
    logits, targets = np.zeros((4, 3)), np.array([0, 1, 2, 0])
    loss, count, _ = softmax_cross_entropy(logits, targets, np.array([1, 0, 1, 1]))
    assert count == 3 and loss == pytest.approx(3 * np.log(3))
    for bad in (np.full(4, -1), np.full(4, 2), np.array([1, 0, np.nan, 1])):   # a -1 gave a negative loss
        with pytest.raises(ValueError, match="mask must be bool or 0/1"):
            softmax_cross_entropy(logits, targets, bad)
