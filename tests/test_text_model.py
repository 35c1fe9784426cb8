"""CharModel, batching and the model file: masks, gradients, learning, round trips."""

from __future__ import annotations

import numpy as np
import pytest

from seqlab.checkpoint import save_checkpoint
from seqlab.engine import Adam
from seqlab.errors import UserError
from seqlab.text.batching import LinesBatches, StreamBatches, pad_lines
from seqlab.text.model import CharModel, LanguageModel, bundled_models, load_model, resolve_model
from seqlab.text.vocab import Vocabulary


def test_pad_lines_inputs_targets_and_mask():
    ids_in, target, mask = pad_lines([np.array([3, 4, 5]), np.array([7])], start_id=0)
    assert ids_in.shape == target.shape == mask.shape == (4, 2)
    np.testing.assert_array_equal(ids_in[:, 0], [0, 3, 4, 5])
    np.testing.assert_array_equal(target[:, 0], [3, 4, 5, 0])      # end of line predicted as '\n'
    np.testing.assert_array_equal(ids_in[:2, 1], [0, 7])
    np.testing.assert_array_equal(target[:2, 1], [7, 0])
    np.testing.assert_array_equal(mask, [[1, 1], [1, 1], [1, 0], [1, 0]])


def test_lines_batches_are_a_function_of_seed_and_step_and_cover_each_epoch():
    lines = [np.array([i % 5 + 1]) for i in range(10)]
    a, b = LinesBatches(lines, 4, 0, seed=3), LinesBatches(lines, 4, 0, seed=3)
    for step in (7, 0, 2, 7):   # any order: no hidden iterator state
        np.testing.assert_array_equal(a.indices(step), b.indices(step))
    first_epoch = np.concatenate([a.indices(0), a.indices(1), a.indices(2)[:2]])
    assert sorted(first_epoch.tolist()) == list(range(10))
    assert not np.array_equal(LinesBatches(lines, 4, 0, seed=4).indices(0), a.indices(0))


def test_stream_batches_continue_each_stream():
    ids = np.arange(41)
    sb = StreamBatches(ids, batch_size=4, seq_len=3)   # 4 streams of 10 predictions, 3 batches an epoch
    assert sb.chunks == 3
    x0, y0, m = sb.batch(0)
    x1, _, _ = sb.batch(1)
    assert m is None and x0.shape == (3, 4)
    np.testing.assert_array_equal(y0, x0 + 1)                      # each target is the next character
    np.testing.assert_array_equal(x1[0], x0[-1] + 1)               # batch 1 continues where batch 0 ended
    np.testing.assert_array_equal(x0[0], [0, 10, 20, 30])
    assert sb.resets_state(0) and not sb.resets_state(1) and sb.resets_state(3)
    np.testing.assert_array_equal(sb.batch(3)[0], x0)


def _loss(model, x, y, mask, seed=None):
    if seed is not None:
        model.set_dropout_rng(np.random.default_rng(seed))
    return model.loss_and_grads(x, y, mask)[0] / mask.sum()


@pytest.mark.parametrize("cell,embed,weight_drop", [("lstm", 0, 0.0), ("gru", 5, 0.0), ("rnn", 0, 0.4),
                                                    ("lstm", 4, 0.5)])
def test_loss_gradients_match_central_differences(cell, embed, weight_drop):
    rng = np.random.default_rng(0)
    model = CharModel(6, cell, hidden=5, layers=2, embed=embed, weight_drop=weight_drop,
                      dtype=np.float64, rng=rng)
    x, y, mask = pad_lines([np.array([1, 2, 3]), np.array([4, 5]), np.array([2])], start_id=0)
    seed = 11 if weight_drop else None    # the same DropConnect mask on every evaluation
    _loss(model, x, y, mask, seed)
    grads = {(k, n): g.copy() for k, layer in model.named_layers() for n, g in layer.grads.items()}
    eps = 1e-6
    for (k, n), g in grads.items():
        p = dict(model.named_layers())[k].params[n]
        for idx in [tuple(rng.integers(0, s) for s in p.shape) for _ in range(3)]:
            old = p[idx]
            p[idx] = old + eps
            up = _loss(model, x, y, mask, seed)
            p[idx] = old - eps
            down = _loss(model, x, y, mask, seed)
            p[idx] = old
            assert g[idx] == pytest.approx((up - down) / (2 * eps), rel=1e-5, abs=1e-8), (k, n, idx)


def test_a_tiny_corpus_is_learned():
    lines = ["abcab", "bcabc", "cabca"]
    vocab = Vocabulary.from_text("".join(lines) + "\n")
    model = CharModel(vocab.size, "lstm", hidden=16, rng=np.random.default_rng(0))
    x, y, mask = pad_lines([vocab.encode(s) for s in lines], vocab.char_to_ix["\n"])
    opt = Adam(model.layers, lr=0.02)
    first = model.loss_and_grads(x, y, mask)[0] / mask.sum()
    for _ in range(150):
        loss = model.loss_and_grads(x, y, mask)[0] / mask.sum()
        opt.step()
    assert first > 1.2 and loss < 0.3 * first


def test_step_agrees_with_log_probs_over_a_sequence():
    model = CharModel(5, "lstm", hidden=7, layers=2, rng=np.random.default_rng(1))
    ids = np.array([[1, 2], [3, 0], [4, 4]])
    lp, _ = model.log_probs(ids)
    states = None
    for t in range(3):
        lp_t, states = model.step(ids[t], states)
        np.testing.assert_allclose(lp_t, lp[t], atol=1e-6)
    np.testing.assert_allclose(np.exp(lp).sum(-1), 1.0, atol=1e-6)


def test_checkpoint_round_trip_keeps_everything(tmp_path):
    vocab = Vocabulary.from_text("abc\n")
    model = CharModel(vocab.size, "gru", hidden=6, layers=2, embed=3, rng=np.random.default_rng(2))
    lm = LanguageModel(model, vocab, lower=False, mode="stream", training_lines=frozenset({"ab", "c"}))
    lm.save(tmp_path / "m.npz")
    back = load_model(tmp_path / "m.npz")
    assert back.model.config() == model.config() and back.vocab == vocab
    assert (back.lower, back.mode, back.training_lines) == (False, "stream", frozenset({"ab", "c"}))
    for k, v in model.arrays().items():
        np.testing.assert_array_equal(back.model.arrays()[k], v)
    assert "rnn.1.W_h" in model.arrays() and "dense.W" in model.arrays() and "embed.W" in model.arrays()


def test_foreign_checkpoint_and_unknown_names_are_user_errors(tmp_path):
    save_checkpoint(tmp_path / "other.npz", {"x": np.zeros(3)}, {"kind": "something-else"})
    with pytest.raises(UserError, match="not a character-level text model"):
        load_model(tmp_path / "other.npz")
    with pytest.raises(UserError, match="no such model file"):
        load_model("no-such-model")
    with pytest.raises(UserError, match="no such model file"):
        resolve_model(str(tmp_path / "missing.npz"))


def test_bundled_dinos_model_resolves_by_name():
    assert "dinos" in bundled_models()
    lm = load_model("dinos")
    assert lm.mode == "lines" and lm.lower and lm.vocab.chars == ["\n"] + [chr(c) for c in range(97, 123)]
    assert resolve_model("dinos").name == "dinos.npz"


def test_bundled_models_by_name_text_and_jazz(monkeypatch, tmp_path):
    from seqlab.music.bundle import default_path, load_bundle

    assert bundled_models("char-model") == ["dinos", "shakespeare"]     # what `sample`'s error may suggest
    assert "jazz" in bundled_models()
    with pytest.raises(UserError, match=r"\(dinos, shakespeare\)$"):
        load_model("no-such-model")
    monkeypatch.chdir(tmp_path)
    named, default = load_bundle("jazz"), load_bundle()                  # `seqlab jazz --model jazz`
    assert named.vocab == default.vocab and named.info == default.info and default_path().name == "jazz.npz"
    with pytest.raises(UserError, match="jazz2"):
        load_bundle("jazz2")


@pytest.mark.parametrize("make, error, says", [
    (lambda: CharModel(5, hidden=2.7), TypeError, "hidden must be a whole number, got 2.7"),   # was 2 units
    (lambda: CharModel(5, layers=True), TypeError, "layers must be a whole number, got True"),
    (lambda: CharModel("5"), TypeError, "vocab_size must be a whole number, got '5'"),
    (lambda: CharModel(5, embed=-1), ValueError, "embed must be at least 1, got -1"),
    (lambda: CharModel(5, forget_bias=float("nan")), ValueError, "forget_bias must be a finite number"),
    (lambda: LanguageModel(CharModel(5, hidden=4), Vocabulary.from_text("abc\n")), ValueError,
     "the model reads 5 characters but the vocabulary has 4"),                # sampled through the wrong table
    (lambda: LanguageModel(CharModel(3, hidden=4), Vocabulary.from_text("abc")), ValueError,
     "the vocabulary has no '\\\\n'"),
    (lambda: LanguageModel(CharModel(4, hidden=4), Vocabulary.from_text("abc\n"), mode="bogus"), ValueError,
     "mode must be one of lines, stream, got 'bogus'"),
])
def test_a_model_that_cannot_work_is_refused_when_built(make, error, says):
    with pytest.raises(error, match=says):
        make()


def test_a_checkpoint_whose_vocabulary_lacks_the_line_end_is_refused_on_load(tmp_path):
    lm = LanguageModel(CharModel(3, hidden=4, rng=np.random.default_rng(0)), Vocabulary.from_text("ab\n"))
    arrays, meta = lm.to_checkpoint()
    meta["vocab"] = Vocabulary.from_text("abc").to_json()           # the right size, but no '\n'
    save_checkpoint(tmp_path / "m.npz", arrays, meta)
    with pytest.raises(UserError, match=r"m.npz has an inconsistent text model \(the vocabulary has no"):
        load_model(tmp_path / "m.npz")


@pytest.mark.parametrize("make, says", [
    (lambda: LinesBatches([np.array([1, 2])], 0, 0), "batch_size must be at least 1, got 0"),
    (lambda: StreamBatches(np.arange(100) % 5, 4, 0), "seq_len must be at least 1, got 0"),   # was 1, silently
    (lambda: StreamBatches(np.arange(100) % 5, 2.5, 10), "batch_size must be a whole number, got 2.5"),
])
def test_batching_refuses_sizes_below_one(make, says):
    with pytest.raises((ValueError, TypeError), match=says):
        make()


def test_scoring_refuses_batch_and_chunk_sizes_below_one():
    from seqlab.text.evaluate import lines_nll, stream_losses

    lm = load_model("dinos")
    assert lines_nll(lm, ["abc"], batch_size=1)[1] == 4
    with pytest.raises(ValueError, match="batch_size must be at least 1, got -1"):   # gave (0.0, 0), silently
        lines_nll(lm, ["abc"], batch_size=-1)
    with pytest.raises(ValueError, match="chunk must be at least 1, got -1"):
        stream_losses(lm, lm.encode("abc"), chunk=-1)


@pytest.mark.parametrize("field, value, says", [
    ("hidden", 2.5, "--hidden must be a whole number, got 2.5"),         # built a model of 2 units
    ("steps", 2.5, "--steps must be a whole number, got 2.5"),           # ran 3 steps
    ("seed", 1.5, "--seed must be a whole number, got 1.5"),             # passed check(), then NumPy's error
    ("lr", "0.1", "--lr must be a number, got '0.1'"),
    ("lower", 1, "--keep-case must be true or false, got 1"),
])
def test_train_config_values_have_their_types(field, value, says):
    from seqlab.text.train_config import TrainConfig

    with pytest.raises(UserError, match=says):
        TrainConfig(**{field: value}).check()
    TrainConfig(hidden=np.int64(8), lr=1, dropout=np.float32(0.1)).check()   # NumPy numbers and ints for floats


@pytest.mark.parametrize("settings, says", [
    ({"patience": 2, "holdout": 0.0}, "--patience watches the held-out score, but --holdout 0"),
    ({"patience": 2, "eval_every": 500, "steps": 100}, "--eval-every 500 is more than the run's 100 steps"),
])
def test_early_stopping_that_could_never_act_is_refused(settings, says):
    from seqlab.text.train_config import TrainConfig

    with pytest.raises(UserError, match=says):
        TrainConfig(**settings).check()
