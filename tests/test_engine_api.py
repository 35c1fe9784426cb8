"""Argument checks, optimizers and clipping of the engine."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from seqlab.engine import (
    GRU,
    LSTM,
    RNN,
    SGD,
    Adam,
    Dense,
    Dropout,
    Embedding,
    Stack,
    activations,
    clip_by_global_norm,
    clip_by_value,
)
from seqlab.engine.optim import adam_update, parameters
from seqlab.text.model import CharModel


def test_wrong_input_width_names_the_expected_shape():
    layer = LSTM(64, 8)
    with pytest.raises(ValueError, match=r"x must have shape \(T, B, 64\), got \(32, 100, 65\)"):
        layer.forward(np.zeros((32, 100, 65), np.float32))


def test_batch_major_2d_input_is_refused():
    with pytest.raises(ValueError, match=r"x must have shape \(T, B, 3\), got \(4, 3\)"):
        RNN(3, 2).forward(np.zeros((4, 3), np.float32))


def test_wrong_dtype_is_a_type_error():
    with pytest.raises(TypeError, match="x must have dtype float32, got float64"):
        GRU(3, 2).forward(np.zeros((2, 1, 3)))
    with pytest.raises(TypeError, match="must be a numpy array"):
        GRU(3, 2).forward([[[0.0, 0.0, 0.0]]])


def test_wrong_state_shape_and_form():
    layer = LSTM(3, 4)
    x = np.zeros((2, 5, 3), np.float32)
    with pytest.raises(ValueError, match=r"c0 must have shape \(5, 4\), got \(5, 3\)"):
        layer.forward(x, (np.zeros((5, 4), np.float32), np.zeros((5, 3), np.float32)))
    with pytest.raises(TypeError, match=r"tuple \(h0, c0\)"):
        layer.forward(x, np.zeros((5, 4), np.float32))
    with pytest.raises(ValueError, match=r"h0 must have shape \(5, 4\)"):
        RNN(3, 4).forward(x, np.zeros((4, 4), np.float32))


def test_backward_checks_upstream_shape_and_needs_forward():
    layer = RNN(3, 4)
    with pytest.raises(RuntimeError, match="forward"):
        layer.backward(np.zeros((2, 5, 4), np.float32))
    layer.forward(np.zeros((2, 5, 3), np.float32))
    with pytest.raises(ValueError, match=r"dout must have shape \(2, 5, 4\), got \(2, 5, 3\)"):
        layer.backward(np.zeros((2, 5, 3), np.float32))


def test_constructor_checks():
    with pytest.raises(ValueError, match="recurrent_activation"):
        LSTM(3, 4, recurrent_activation="relu")
    with pytest.raises(TypeError, match="float32 or float64"):
        GRU(3, 4, dtype=np.int32)
    with pytest.raises(ValueError, match="do not chain"):
        Stack([LSTM(3, 4), LSTM(5, 4)])


@pytest.mark.parametrize("make, error, says", [
    (lambda: LSTM(0, 4), ValueError, "input_size must be at least 1, got 0"),
    (lambda: GRU(3, -2), ValueError, "hidden_size must be at least 1, got -2"),
    (lambda: RNN(3.5, 4), TypeError, "input_size must be a whole number, got 3.5"),
    (lambda: LSTM(3, True), TypeError, "hidden_size must be a whole number, got True"),
    (lambda: Dense(4, 0), ValueError, "out_features must be at least 1, got 0"),
    (lambda: Embedding(27, 2.0), TypeError, "dim must be a whole number, got 2.0"),
    (lambda: LSTM(4, 2, rng=0), TypeError, "rng must be a numpy Generator, e.g. np.random.default_rng"),  # was an
    (lambda: Dropout(0.5, rng=1), TypeError, "rng must be a numpy Generator"),                 # AttributeError
])
def test_layer_sizes_are_whole_numbers_of_at_least_1(make, error, says):
    with pytest.raises(error, match=says):
        make()
    assert LSTM(np.int64(3), np.int32(4)).params["W_h"].shape == (4, 16)   # NumPy integers are sizes too


@pytest.mark.parametrize("make, error, says", [
    (lambda layers: clip_by_global_norm(layers, -1.0), ValueError, "max_norm must be a positive number, got -1.0"),
    (lambda layers: clip_by_value(layers, float("nan")), ValueError, "max_value must be a positive number, got nan"),
    (lambda layers: clip_by_value(layers, "5"), ValueError, "max_value must be a positive number, got '5'"),
    (lambda layers: Adam(layers, beta2=1.0), ValueError, r"beta2 must be in \[0, 1\), got 1.0"),
    (lambda layers: Adam(layers, beta1=-0.1), ValueError, r"beta1 must be in \[0, 1\), got -0.1"),
    (lambda layers: Adam(layers, lr=float("inf")), ValueError, "lr must be a positive number, got inf"),
    (lambda layers: Adam(layers, eps=-1), ValueError, "eps must be a positive number, got -1"),
    (lambda layers: SGD(layers, lr=None), TypeError, "lr must be a number, got None"),
    (lambda layers: LSTM(2, 3, forget_bias=float("nan")), ValueError, "forget_bias must be a finite number"),
])
def test_settings_that_would_silently_corrupt_training_are_refused(make, error, says):
    # a negative clip limit reversed every gradient; a beta of 1 made every parameter NaN after one step
    layer = LSTM(2, 3, rng=np.random.default_rng(0))
    layer.grads["W_h"][...] = 1.0
    before = {k: g.copy() for k, g in layer.grads.items()}
    with pytest.raises(error, match=says):
        make([layer])
    assert all(np.array_equal(layer.grads[k], before[k]) for k in before)


def test_optimizer_state_of_another_model_is_refused():
    opt = Adam([LSTM(2, 3)])
    state = Adam([LSTM(2, 4)]).state_dict()
    with pytest.raises(ValueError, match=r"does not match the model's parameters: expected t and m.k, v.k of shapes"):
        opt.load_state_dict(state)
    with pytest.raises(ValueError, match="does not match"):
        opt.load_state_dict({k: v for k, v in opt.state_dict().items() if k != "t"})
    opt.load_state_dict(Adam([LSTM(2, 3)]).state_dict())


def test_hard_sigmoid_is_keras_2():
    x = np.array([-3.0, -2.5, 0.0, 1.0, 2.5, 3.0])
    np.testing.assert_allclose(activations.hard_sigmoid(x), [0.0, 0.0, 0.5, 0.7, 1.0, 1.0])
    np.testing.assert_allclose(activations.sigmoid(np.array([-800.0, 0.0, 800.0])), [0.0, 0.5, 1.0])


def test_forget_bias_option():
    layer = LSTM(2, 3, forget_bias=1.0)
    np.testing.assert_array_equal(layer.params["b"], [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])


def test_adam_matches_torch_adam():
    rng = np.random.default_rng(0)
    dense = Dense(4, 3, dtype=np.float64, rng=rng)
    w = torch.tensor(dense.params["W"].copy(), requires_grad=True)
    b = torch.tensor(dense.params["b"].copy(), requires_grad=True)
    opt = Adam([dense], lr=0.01)
    topt = torch.optim.Adam([w, b], lr=0.01)
    for _ in range(5):
        gw, gb = rng.standard_normal((4, 3)), rng.standard_normal(3)
        dense.grads["W"][...] = gw
        dense.grads["b"][...] = gb
        opt.step()
        w.grad, b.grad = torch.tensor(gw), torch.tensor(gb)
        topt.step()
    np.testing.assert_allclose(dense.params["W"], w.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(dense.params["b"], b.detach().numpy(), atol=1e-12)


def test_adam_state_round_trip_continues_identically():
    rng = np.random.default_rng(1)
    a, b = Dense(3, 2, dtype=np.float64, rng=rng), Dense(3, 2, dtype=np.float64)
    b.set_params(**a.params)
    oa = Adam([a], lr=0.1)
    for _ in range(3):
        a.grads["W"][...] = 1.0
        oa.step()
    b.set_params(**a.params)
    ob = Adam([b], lr=0.1)
    ob.load_state_dict({k: v.copy() for k, v in oa.state_dict().items()})
    for layer, opt in ((a, oa), (b, ob)):
        layer.grads["W"][...] = -2.0
        opt.step()
    np.testing.assert_array_equal(a.params["W"], b.params["W"])


def test_sgd_and_clipping():
    d = Dense(2, 2, dtype=np.float64)
    d.grads["W"][...] = [[3.0, 4.0], [0.0, 0.0]]
    d.grads["b"][...] = [0.0, 0.0]
    norm = clip_by_global_norm([d], 1.0)
    assert norm == pytest.approx(5.0)
    np.testing.assert_allclose(d.grads["W"], [[0.6, 0.8], [0, 0]])
    d.grads["W"][...] = [[30.0, -40.0], [0.5, 0.0]]
    clip_by_value([d], 10)
    np.testing.assert_array_equal(d.grads["W"], [[10.0, -10.0], [0.5, 0.0]])
    before = d.params["W"].copy()
    SGD([d], lr=0.1).step()
    np.testing.assert_allclose(d.params["W"], before - 0.1 * d.grads["W"])


def test_dropout_is_inverted_and_off_at_inference():
    rng = np.random.default_rng(0)
    drop = Dropout(0.5, rng)
    x = np.ones((200, 50), np.float32)
    y = drop.forward(x)
    assert set(np.unique(y)) == {0.0, 2.0}
    assert abs(y.mean() - 1.0) < 0.05
    np.testing.assert_array_equal(drop.backward(x), y)
    np.testing.assert_array_equal(drop.forward(x, training=False), x)


def test_need_dx_false_skips_only_the_input_gradient():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 3, 4)).astype(np.float32)
    for make in (lambda: Stack([LSTM(4, 6, rng=np.random.default_rng(1)), GRU(6, 5, rng=np.random.default_rng(2))]),
                 lambda: RNN(4, 5, rng=np.random.default_rng(3))):
        full, lean = make(), make()
        out, _ = full.forward(x)
        lean.forward(x)
        dout = rng.standard_normal(out.shape).astype(np.float32)
        dx, _ = full.backward(dout)
        none, _ = lean.backward(dout, need_dx=False)
        assert dx is not None and dx.shape == x.shape and none is None
        for a, b in zip(getattr(full, "layers", [full]), getattr(lean, "layers", [lean])):
            for k in a.grads:
                np.testing.assert_array_equal(a.grads[k], b.grads[k])



@pytest.mark.parametrize("make", [lambda r: LSTM(4, 6, rng=r),
                                  lambda r: LSTM(4, 6, rng=r, recurrent_activation="hard_sigmoid"),
                                  lambda r: GRU(4, 6, rng=r), lambda r: GRU(4, 6, rng=r, reset_after=False),
                                  lambda r: RNN(4, 6, rng=r)])
@pytest.mark.parametrize("with_state", [False, True])
def test_need_dstate_false_skips_only_the_initial_state_gradient(make, with_state, monkeypatch):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((5, 3, 4)).astype(np.float32)
    full, lean = make(np.random.default_rng(1)), make(np.random.default_rng(1))
    state = None
    if with_state:
        state = tuple(rng.standard_normal((3, 6)).astype(np.float32) for _ in range(1 + full.has_cell))
        state = state if full.has_cell else state[0]
    out, _ = full.forward(x, state)
    lean.forward(x, state)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    products = []
    real_matmul = np.matmul

    def counted(*args, **kwargs):
        products.append(args[0].shape)
        return real_matmul(*args, **kwargs)
    monkeypatch.setattr(np, "matmul", counted)
    dx, d0 = full.backward(dout)
    n_full = len(products)
    dx_lean, none = lean.backward(dout, need_dstate=False)
    assert none is None and d0 is not None
    assert len(products) - n_full < n_full       # the last step's product(s) for dh0 are not made
    np.testing.assert_array_equal(dx, dx_lean)
    for k in full.grads:
        np.testing.assert_array_equal(full.grads[k], lean.grads[k])


@pytest.mark.parametrize("make", [lambda r: LSTM(4, 6, rng=r),
                                  lambda r: LSTM(4, 6, rng=r, recurrent_activation="hard_sigmoid"),
                                  lambda r: GRU(4, 6, rng=r), lambda r: RNN(4, 6, rng=r)])
def test_kept_buffers_never_change_what_a_caller_holds(make):
    # Training calls reuse the layer's internal arrays between calls of one shape (see Recurrent._buffer).
    # Outputs and input gradients already returned must stay as they were.
    rng = np.random.default_rng(5)
    x1, x2 = (rng.standard_normal((7, 3, 4)).astype(np.float32) for _ in range(2))
    dout = rng.standard_normal((7, 3, 6)).astype(np.float32)
    layer, fresh = make(np.random.default_rng(1)), make(np.random.default_rng(1))

    out1, _ = layer.forward(x1)
    kept = out1.copy()
    dx1, _ = layer.backward(dout)
    np.testing.assert_array_equal(out1, kept)
    ref_out, _ = fresh.forward(x1)
    ref_dx, _ = fresh.backward(dout)
    np.testing.assert_array_equal(ref_out, kept)
    np.testing.assert_array_equal(dx1, ref_dx)
    grads1 = {k: g.copy() for k, g in layer.grads.items()}
    for k in grads1:
        np.testing.assert_array_equal(grads1[k], fresh.grads[k])

    out2, _ = layer.forward(x2)                 # same shape again: the kept arrays are reused
    dx2, _ = layer.backward(dout)
    np.testing.assert_array_equal(out1, kept)   # the first call's results are untouched
    np.testing.assert_array_equal(dx1, ref_dx)
    ref_out2, _ = fresh.forward(x2)
    ref_dx2, _ = fresh.backward(dout)
    np.testing.assert_array_equal(out2, ref_out2)
    np.testing.assert_array_equal(dx2, ref_dx2)


def test_dropout_reuses_its_draws_but_not_its_outputs():
    x = np.ones((40, 8), np.float32)
    a, b = Dropout(0.3, np.random.default_rng(9)), np.random.default_rng(9)
    y1 = a.forward(x)
    kept = y1.copy()
    y2 = a.forward(x)
    np.testing.assert_array_equal(y1, kept)
    keep = np.float32(0.7)
    for y in (y1, y2):   # the same stream as drawing fresh arrays: rng.random(shape) < keep, scaled by 1/keep
        np.testing.assert_array_equal(y, (b.random(x.shape) < 0.7).astype(np.float32) / keep)
    np.testing.assert_array_equal(a.backward(x), y2)


@pytest.mark.parametrize("make", [lambda r: LSTM(5, 4, rng=r),
                                  lambda r: LSTM(5, 4, rng=r, recurrent_activation="hard_sigmoid"),
                                  lambda r: GRU(5, 4, rng=r), lambda r: GRU(5, 4, rng=r, reset_after=False),
                                  lambda r: RNN(5, 4, rng=r)])
def test_ids_input_is_the_one_hot_input(make):
    # Integer ids (T, B) stand for one-hot rows of width input_size: the projection is a row lookup that gives
    # exactly the numbers of the matrix product, and the weight gradients are the same to the last bit.
    rng = np.random.default_rng(6)
    ids = rng.integers(0, 5, size=(6, 3))
    one_hot = np.eye(5, dtype=np.float32)[ids]
    dout = rng.standard_normal((6, 3, 4)).astype(np.float32)
    a, b = make(np.random.default_rng(2)), make(np.random.default_rng(2))
    for layer in (a, b):   # non-zero biases, so that the lookup's bias matters
        layer.set_params(b=rng.standard_normal(layer.params["b"].shape))
    b.set_params(**a.params)
    out_ids, state_ids = a.forward(ids)
    out_hot, state_hot = b.forward(one_hot)
    np.testing.assert_array_equal(out_ids, out_hot)
    dx_ids, _ = a.backward(dout)
    dx_hot, _ = b.backward(dout)
    assert dx_ids is None and dx_hot.shape == one_hot.shape
    for k in a.grads:
        np.testing.assert_array_equal(a.grads[k], b.grads[k])


def test_ids_out_of_range_are_named():
    layer = LSTM(5, 4, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 5\).*got values in \[0, 5\]"):
        layer.forward(np.array([[0, 5]]))
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 5\).*\[-1, 2\]"):
        layer.forward(np.array([[-1, 2]]))


def test_gate_values_and_cell_states_follow_the_equations():
    """The public accessors of the last forward (what the course adapters read) against the cell equations."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 3, 2))
    lstm = LSTM(2, 5, dtype=np.float64, rng=rng)
    with pytest.raises(RuntimeError, match="forward"):
        lstm.gate_values()
    out, (h, c) = lstm.forward(x)
    g = lstm.gate_values()
    assert sorted(g) == ["f", "g", "i", "o"] and lstm._cache.gates.shape == (4, 3, 20)
    cs = lstm.cell_states()
    c_prev = np.concatenate([np.zeros((1, 3, 5)), cs[:-1]])
    np.testing.assert_allclose(cs, g["f"] * c_prev + g["i"] * g["g"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(out, g["o"] * np.tanh(cs), rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(cs[-1], c)
    lstm.backward(np.ones_like(out))
    with pytest.raises(RuntimeError, match="forward"):
        lstm.cell_states()

    gru = GRU(2, 5, dtype=np.float64, rng=rng)
    out, _ = gru.forward(x)
    g = gru.gate_values()
    assert sorted(g) == ["n", "r", "z"]
    h_prev = np.concatenate([np.zeros((1, 3, 5)), out[:-1]])
    np.testing.assert_allclose(out, (1 - g["z"]) * g["n"] + g["z"] * h_prev, rtol=1e-12, atol=1e-15)
    rnn = RNN(2, 5, dtype=np.float64, rng=rng)
    rnn.forward(x)
    with pytest.raises(RuntimeError, match="gates"):
        rnn.gate_values()


def test_flat_adam_is_the_per_array_update_bit_for_bit():
    """Adam gathers the parameters into one buffer; its steps are exactly adam_update on each array."""

    def model():
        return CharModel(11, "lstm", hidden=6, layers=2, embed=4, rng=np.random.default_rng(2))

    ids = np.random.default_rng(3).integers(0, 11, (5, 3))
    a, b = model(), model()
    held = a.layers[0].params["W"]
    opt = Adam(a.layers, lr=0.05)
    flat = opt.flat[0]
    assert all(p.base is flat for p, _ in parameters(a.layers)) and held is not a.layers[0].params["W"]
    assert Adam(a.layers).flat[0] is flat                   # a second optimizer shares the buffer
    ref = parameters(b.layers)
    moments = [(np.zeros_like(p), np.zeros_like(p)) for p, _ in ref]
    for t in range(1, 4):
        a.loss_and_grads(ids[:-1], ids[1:])
        b.loss_and_grads(ids[:-1], ids[1:])
        clip_by_global_norm(a.layers, 0.5)
        clip_by_global_norm(b.layers, 0.5)
        opt.step()
        for (p, g), (m, v) in zip(ref, moments):
            adam_update(p, g, m, v, t, 0.05)
    for (p, g), (q, h) in zip(parameters(a.layers), ref):
        np.testing.assert_array_equal(p, q)
        np.testing.assert_array_equal(g, h)
    for k, (m, v) in enumerate(moments):
        np.testing.assert_array_equal(opt.state_dict()[f"m.{k}"], m)
        np.testing.assert_array_equal(opt.state_dict()[f"v.{k}"], v)


@pytest.mark.parametrize("make,x", [
    (lambda: Dense(3, 2), np.ones((2, 3), np.float32)),
    (lambda: Embedding(5, 2), np.array([[1, 4]])),
    (lambda: LSTM(3, 2), np.ones((2, 1, 3), np.float32)),
    (lambda: GRU(3, 2), np.ones((2, 1, 3), np.float32)),
    (lambda: RNN(3, 2), np.ones((2, 1, 3), np.float32)),
])
def test_backward_without_a_forward_names_the_problem(make, x):
    layer = make()
    name = type(layer).__name__
    out = layer.forward(x, cache=False)
    with pytest.raises(RuntimeError, match=rf"^{name}\.backward\(\) needs a forward\(\.\.\., cache=True\) first"):
        layer.backward(np.ones_like(out[0] if isinstance(out, tuple) else out))
    out = layer.forward(x)
    layer.backward(np.ones_like(out[0] if isinstance(out, tuple) else out))
    with pytest.raises(RuntimeError, match=rf"^{name}\.backward\(\) needs a forward"):   # once per forward
        layer.backward(np.ones_like(out[0] if isinstance(out, tuple) else out))


def test_aligned_empty_starts_on_a_cache_line_and_is_an_ordinary_array():
    from seqlab.engine.base import ALIGN, aligned_empty

    for shape, dtype in [((21, 32, 128), np.float32), ((3, 5), np.float64), ((0, 7), np.float32), ((1,), np.float32)]:
        for _ in range(5):      # NumPy's own allocations land on 16 bytes now and then; these never do
            a = aligned_empty(shape, dtype)
            assert a.shape == shape and a.dtype == dtype and a.flags.c_contiguous and a.flags.writeable
            assert a.size == 0 or a.ctypes.data % ALIGN == 0
    a = aligned_empty((4, 6), np.float32)
    a[...] = np.arange(24).reshape(4, 6)
    assert a.sum() == 276 and a[3, 5] == 23


def test_lstm_buffers_and_outputs_are_aligned():
    from seqlab.engine.base import ALIGN

    rng = np.random.default_rng(0)
    layer = LSTM(8, 16, rng=rng)
    out, (h, c) = layer.forward(rng.standard_normal((5, 4, 8)).astype(np.float32))
    assert all(a.ctypes.data % ALIGN == 0 for a in (out, *layer._buffers.values()))


@pytest.mark.parametrize("cell", [RNN, LSTM, GRU])
def test_id_inputs_of_a_large_vocabulary_never_build_the_one_hot_array(cell, monkeypatch):
    import tracemalloc

    from seqlab.engine import recurrent

    rng = np.random.default_rng(0)
    layer = cell(20_000, 2, rng=rng)
    ids = rng.integers(0, 20_000, size=(30, 30))       # one-hot rows: 1.8 * 10^7 entries, 72 MB of float32
    out, _ = layer.forward(ids)
    tracemalloc.start()
    layer.backward(np.ones_like(out))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2 * layer.params["W_x"].nbytes          # the gradient itself, and no (T·B, V) array
    sparse = {k: g.copy() for k, g in layer.grads.items()}
    monkeypatch.setattr(recurrent, "ONE_HOT_LIMIT", 1 << 40)   # the one-hot product, as for small vocabularies
    layer.forward(ids)
    layer.backward(np.ones_like(out))
    for k, g in layer.grads.items():                    # the same sums in another order: float32 rounding
        np.testing.assert_allclose(sparse[k], g, rtol=1e-5, atol=1e-5, err_msg=k)


def test_bidirectional_takes_ids_and_names_its_own_shapes():
    from seqlab.engine import Bidirectional

    rng = np.random.default_rng(0)
    bi = Bidirectional(LSTM(3, 2, rng=rng), GRU(3, 2, rng=rng))
    ids = rng.integers(0, 3, size=(5, 4))
    out, _ = bi.forward(ids)
    dx, (d0f, d0b) = bi.backward(np.ones_like(out))        # a TypeError before: ids have no dx
    assert dx is None and d0f[0].shape == (4, 2) and d0b.shape == (4, 2)
    hot = np.eye(3, dtype=np.float32)[ids]
    from_ids = [{k: g.copy() for k, g in layer.grads.items()} for layer in bi.layers]
    bi.forward(hot)
    dx_hot, _ = bi.backward(np.ones_like(out))
    assert dx_hot.shape == (5, 4, 3)
    for layer, before in zip(bi.layers, from_ids):          # the ids are the one-hot rows they stand for
        for k, g in layer.grads.items():
            np.testing.assert_allclose(before[k], g, rtol=1e-6, atol=1e-7, err_msg=k)
    with pytest.raises(ValueError, match=r"dout must have shape \(T, B, 4\), got \(5, 4, 5\)"):
        bi.backward(np.ones((5, 4, 5), np.float32))
    with pytest.raises(ValueError, match="state must be a pair"):
        bi.forward(hot, state=np.zeros((4, 2), np.float32))
