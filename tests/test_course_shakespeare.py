"""seqlab.course.shakespeare: the course's data helpers, sampling, the poem writer's network on the engine
(gradient check, training), completing a prompt, and the course's pretrained Keras model read from its .h5."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest

from conftest import dataset_path
from seqlab.course import shakespeare as sh
from seqlab.engine import softmax_cross_entropy
from seqlab.engine.gradcheck import check
from seqlab.errors import UserError

TINY = ("shall i compare thee to a summer's day?\nthou art more lovely and more temperate:\n"
        "rough winds do shake the darling buds of may,\nand summer's lease hath all too short a date;\n")


def sonnets_windows():
    text = sh.load_text(dataset_path("shakespeare"))
    chars, char_indices, _ = sh.char_maps(text)
    X, Y = sh.build_data(text, Tx=40, stride=3)
    return text, chars, char_indices, X, Y


# --- build_data and vectorization -------------------------------------------------------------------------------
def test_build_data_windows_on_a_tiny_text():
    X, Y = sh.build_data("abcdefgh", Tx=3, stride=2)
    assert X == ["abc", "cde", "efg"]
    assert Y == ["d", "f", "h"]
    with pytest.raises(ValueError, match="stride"):
        sh.build_data("abc", Tx=2, stride=0)


@pytest.mark.data
def test_build_data_gives_the_courses_31412_windows():
    text, chars, _, X, Y = sonnets_windows()
    assert len(chars) == 38
    assert len(X) == len(Y) == 31412
    assert X[1] == text[3:43] and Y[1] == text[43]
    assert X[-1] == text[3 * 31411:3 * 31411 + 40] and Y[-1] == text[3 * 31411 + 40]


def test_vectorization_one_hots():
    chars, char_indices, _ = sh.char_maps(TINY)
    X, Y = sh.build_data(TINY, Tx=5, stride=7)
    x, y = sh.vectorization(X, Y, n_x=len(chars), char_indices=char_indices, Tx=5)
    assert x.shape == (len(X), 5, len(chars)) and x.dtype == bool
    assert y.shape == (len(X), len(chars)) and y.dtype == bool
    assert (x.sum(axis=2) == 1).all() and (y.sum(axis=1) == 1).all()
    assert "".join(chars[i] for i in x[2].argmax(axis=1)) == X[2] == TINY[14:19]
    assert chars[y[2].argmax()] == Y[2] == TINY[19]


def test_vectorization_rejects_an_unknown_character():
    with pytest.raises(ValueError, match="'z'"):
        sh.vectorization(["abz"], ["a"], n_x=2, char_indices={"a": 0, "b": 1}, Tx=3)


# --- sample ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("temperature", [1.0, 0.5, 2.0])
def test_sample_follows_the_tempered_distribution(temperature):
    preds = np.array([0.1, 0.2, 0.0, 0.7])
    rng = np.random.default_rng(0)
    draws = np.array([sh.sample(preds, temperature, rng) for _ in range(20000)])
    expected = preds ** (1 / temperature)
    expected /= expected.sum()
    freq = np.bincount(draws, minlength=4) / draws.size
    np.testing.assert_allclose(freq, expected, atol=0.012)
    assert freq[2] == 0.0


def test_sample_with_numpys_global_seed_repeats():
    preds = np.full(38, 1 / 38)
    np.random.seed(3)
    first = [sh.sample(preds) for _ in range(50)]
    np.random.seed(3)
    assert [sh.sample(preds) for _ in range(50)] == first
    assert len(set(first)) > 10
    with pytest.raises(ValueError, match="temperature"):
        sh.sample(preds, temperature=0.0)


# --- the network ----------------------------------------------------------------------------------------------
def tiny_batch(n_x=6, m=3, Tx=4, seed=0):
    rng = np.random.default_rng(seed)
    x = np.zeros((m, Tx, n_x), dtype=bool)
    np.put_along_axis(x, rng.integers(0, n_x, (m, Tx, 1)), True, axis=2)
    return x, rng.integers(0, n_x, m)


@pytest.mark.parametrize("recurrent_activation", ["hard_sigmoid", "sigmoid"])
def test_course_model_gradient_check(recurrent_activation):
    model = sh.CourseModel(n_x=6, n_a=3, dropout=0.5, recurrent_activation=recurrent_activation,
                           dtype=np.float64, seed=1)
    x, y = tiny_batch()

    def same_dropout_masks():
        model.drop1.rng = np.random.default_rng(5)
        model.drop2.rng = np.random.default_rng(6)

    def loss():
        same_dropout_masks()
        z = model.logits(np.ascontiguousarray(x.transpose(1, 0, 2), dtype=np.float64), training=True)
        return softmax_cross_entropy(z, y)[0] / len(y)

    same_dropout_masks()
    value = model.loss_and_grads(x, y)
    assert value == pytest.approx(loss(), rel=1e-12)
    for name, layer in (("lstm1", model.lstm1), ("lstm2", model.lstm2), ("dense", model.dense)):
        errors = check(loss, layer.params, layer.grads)
        assert max(errors.values()) < 1e-6, (name, errors)


def test_course_model_training_reduces_the_loss():
    chars, char_indices, _ = sh.char_maps(TINY)
    X, Y = sh.build_data(TINY, Tx=8, stride=1)
    x, y = sh.vectorization(X, Y, len(chars), char_indices, Tx=8)
    model = sh.CourseModel(n_x=len(chars), n_a=32, dropout=0.1, learning_rate=0.01, seed=0)
    before = model.evaluate(x, y)
    history = model.fit(x, y, batch_size=32, epochs=10, verbose=0)
    after = model.evaluate(x, y)
    assert before == pytest.approx(np.log(len(chars)), abs=0.1)
    assert after < before - 0.5
    assert len(history["loss"]) == 10 and history["loss"][-1] < history["loss"][0]
    probs = model.predict(x[:5])
    assert probs.shape == (5, len(chars))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_course_model_takes_one_hot_rows_as_ids_and_other_rows_as_vectors():
    # One-hot windows (bool or float) go to the first LSTM as ids (a row lookup); anything else as vectors.
    # Both paths give the same numbers for the same windows.
    model = sh.CourseModel(n_x=6, n_a=4, seed=3)
    x, y = tiny_batch()
    assert model._time_major(x).shape == (x.shape[1], x.shape[0])
    assert model._time_major(x.astype(np.float32)).ndim == 2
    np.testing.assert_array_equal(model.predict(x), model.predict(x.astype(np.float64)))
    z_ids = model.logits(model._time_major(x))
    z_vec = model.logits(np.ascontiguousarray(x.transpose(1, 0, 2), dtype=np.float32))
    np.testing.assert_array_equal(z_ids, z_vec)
    soft = x * 0.5
    assert model._time_major(soft).ndim == 3
    assert model.predict(soft).shape == (len(y), 6)


def test_course_model_rejects_wrong_shapes():
    model = sh.CourseModel(n_x=6, n_a=4)
    with pytest.raises(ValueError, match=r"\(m, Tx, 6\)"):
        model.predict(np.zeros((2, 5, 7)))
    with pytest.raises(ValueError, match="one-hot"):
        model.fit(np.zeros((2, 5, 6), bool), np.zeros((3, 6), bool), verbose=0)


# --- generate_output ------------------------------------------------------------------------------------------
def test_generate_output_completes_a_prompt_repeatably():
    chars, _, _ = sh.char_maps(TINY)
    model = sh.CourseModel(n_x=len(chars), n_a=8, seed=0)
    runs = []
    for _ in range(2):
        shown = io.StringIO()
        runs.append(sh.generate_output(model, chars, Tx=10, prompt="Shall I", rng=np.random.default_rng(7),
                                       file=shown))
    poem = runs[0]
    assert runs[1] == poem
    assert poem.startswith("Shall I") and len(poem) == len("Shall I") + 400
    assert set(poem[7:]) <= set(chars) and len(set(poem[7:])) > 5
    assert shown.getvalue() == "\n\nHere is your poem: \n\n" + poem + "\n"
    other = sh.generate_output(model, chars, Tx=10, prompt="Shall I", rng=np.random.default_rng(8), file=io.StringIO())
    assert other != poem


def test_generate_output_asks_when_no_prompt(monkeypatch):
    chars, _, _ = sh.char_maps(TINY)
    model = sh.CourseModel(n_x=len(chars), n_a=8, seed=0)
    asked = []
    monkeypatch.setattr("builtins.input", lambda question: asked.append(question) or "thou")
    poem = sh.generate_output(model, chars, Tx=10, length=20, rng=np.random.default_rng(0), file=io.StringIO())
    assert asked == [sh.PROMPT_QUESTION]
    assert poem.startswith("thou") and len(poem) == 24


def test_generate_output_names_an_unknown_character():
    chars, _, _ = sh.char_maps(TINY)
    model = sh.CourseModel(n_x=len(chars), n_a=8, seed=0)
    with pytest.raises(UserError, match="'#'"):
        sh.generate_output(model, chars, prompt="thee #1", file=io.StringIO())


# --- the course's pretrained Keras model ----------------------------------------------------------------------
def test_load_keras_model_errors(tmp_path, monkeypatch):
    with pytest.raises(UserError, match="no such file"):
        sh.load_keras_model(tmp_path / "missing.h5")
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(UserError, match="h5py"):
        sh.load_keras_model(tmp_path / "missing.h5")


@pytest.mark.data
def test_keras_model_scores_its_training_windows():
    model = sh.load_keras_model(dataset_path("shakespeare-keras"))
    _, chars, char_indices, X, Y = sonnets_windows()
    assert (model.n_x, model.n_a, model.n_y) == (38, 128, 38)
    assert model.lstm1.recurrent_activation == "hard_sigmoid"
    x, y = sh.vectorization(X, Y, len(chars), char_indices)
    assert model.evaluate(x, y) == pytest.approx(3.2223, abs=5e-4)


@pytest.mark.data
def test_keras_model_forward_matches_torch():
    """One forward of the loaded weights against the Keras 2 equations written out in PyTorch (float64)."""
    torch = pytest.importorskip("torch")
    model = sh.load_keras_model(dataset_path("shakespeare-keras"))
    _, chars, char_indices, X, Y = sonnets_windows()
    x, _ = sh.vectorization(X[:6], Y[:6], len(chars), char_indices)

    def lstm(inputs, layer, last_only):
        W_x, W_h, b = (torch.tensor(layer.params[k], dtype=torch.float64) for k in ("W_x", "W_h", "b"))
        H = W_h.shape[0]
        h = torch.zeros(inputs.shape[0], H, dtype=torch.float64)
        c = torch.zeros_like(h)
        outs = []
        for t in range(inputs.shape[1]):
            z = inputs[:, t] @ W_x + h @ W_h + b
            i, f, g, o = z[:, :H], z[:, H:2 * H], z[:, 2 * H:3 * H], z[:, 3 * H:]
            hard = lambda v: torch.clamp(0.2 * v + 0.5, 0.0, 1.0)  # noqa: E731 - Keras 2's hard_sigmoid
            c = hard(f) * c + hard(i) * torch.tanh(g)
            h = hard(o) * torch.tanh(c)
            outs.append(h)
        return h if last_only else torch.stack(outs, dim=1)

    a = lstm(torch.tensor(x, dtype=torch.float64), model.lstm1, last_only=False)
    a = lstm(a, model.lstm2, last_only=True)
    W, b = (torch.tensor(model.dense.params[k], dtype=torch.float64) for k in ("W", "b"))
    expected = torch.softmax(a @ W + b, dim=1).numpy()
    np.testing.assert_allclose(model.predict(x), expected, atol=2e-5)
