"""Initializers: the default Glorot/orthogonal scheme and the course's randn · 0.01."""

from __future__ import annotations

import numpy as np
import pytest

from seqlab.checkpoint import load_checkpoint
from seqlab.engine import GRU, LSTM, Dense, Embedding, Stack, init
from seqlab.music.bundle import load_bundle
from seqlab.text.model import load_model, resolve_model


def test_default_init_glorot_inputs_orthogonal_recurrent_zero_bias():
    layer = LSTM(10, 6, rng=np.random.default_rng(0), dtype=np.float64)
    limit = np.sqrt(6.0 / (10 + 24))
    assert np.abs(layer.params["W_x"]).max() <= limit
    assert np.abs(layer.params["W_x"]).max() > 0.8 * limit
    for k in range(4):  # each gate's (H, H) block is orthogonal
        block = layer.params["W_h"][:, k * 6:(k + 1) * 6]
        np.testing.assert_allclose(block.T @ block, np.eye(6), atol=1e-12)
    assert not layer.params["b"].any()


def test_initialisation_is_reproducible_from_the_generator():
    a = GRU(4, 5, rng=np.random.default_rng(42))
    b = GRU(4, 5, rng=np.random.default_rng(42))
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])


def test_orthogonal_rectangular():
    q = init.orthogonal(np.random.default_rng(1), (3, 7), np.float64)
    np.testing.assert_allclose(q @ q.T, np.eye(3), atol=1e-12)


def test_course_init_matches_randn_times_0_01():
    stack = Stack([LSTM(3, 4, forget_bias=1.0), LSTM(4, 4)])
    dense = Dense(4, 2)
    init.course_init([stack, dense], np.random.default_rng(7))
    expected = np.random.default_rng(7)
    for layer in [*stack.layers, dense]:
        for name, p in layer.params.items():
            if name.startswith("b"):
                assert not p.any()
            else:
                np.testing.assert_allclose(p, (expected.standard_normal(p.shape) * 0.01).astype(p.dtype))


def test_skipped_initialisation_draws_nothing_and_ends_with_its_block():
    rng = np.random.default_rng(3)
    with pytest.raises(RuntimeError), init.skipped():
        with init.skipped():
            layer = LSTM(5, 4, rng=rng, forget_bias=1.0)
        assert not init.orthogonal(rng, (4, 4)).any()     # still skipped after the inner block
        raise RuntimeError
    assert not layer.params["W_x"].any() and not layer.params["W_h"].any()
    assert (layer.params["b"][4:8] == 1.0).all()            # what is not drawn is set as always
    assert rng.bit_generator.state == np.random.default_rng(3).bit_generator.state
    fresh = LSTM(5, 4, rng=np.random.default_rng(0))        # after the exception: drawn again
    assert np.array_equal(fresh.params["W_h"], LSTM(5, 4, rng=np.random.default_rng(0)).params["W_h"])
    assert fresh.params["W_h"].any()


def test_embedding_rows_are_normal_with_scale_0_1_and_skipped_when_loading():
    table = Embedding(30, 8, rng=np.random.default_rng(5)).params["W"]
    np.testing.assert_array_equal(table, (np.random.default_rng(5).standard_normal((30, 8)) * 0.1).astype(np.float32))
    rng = np.random.default_rng(5)
    with init.skipped():
        assert not Embedding(30, 8, rng=rng).params["W"].any()
    assert rng.bit_generator.state == np.random.default_rng(5).bit_generator.state


def test_loading_models_builds_them_without_drawing_weights(monkeypatch):
    def no_qr(*a, **k):
        raise AssertionError("a model being loaded ran an orthogonal initialisation")

    saved = {k[len("model."):]: v for k, v in load_checkpoint(resolve_model("dinos"))[0].items()
             if k.startswith("model.")}
    monkeypatch.setattr(np.linalg, "qr", no_qr)
    for name in ("dinos", "shakespeare"):
        assert load_model(name).model.arrays()["rnn.0.W_h"].any()
    assert load_bundle().model.arrays()["lstm.W_h"].any()
    loaded = load_model("dinos").model.arrays()
    assert loaded.keys() == saved.keys() and all(np.array_equal(v, saved[k]) for k, v in loaded.items())
    with pytest.raises(AssertionError, match="orthogonal"):
        LSTM(3, 2)                                          # outside loading the initialiser runs
