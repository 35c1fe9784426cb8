"""The jazz network, its training and improvising, the course's API, the bundled model and `seqlab jazz`."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import dataset_path
from seqlab.cli import main
from seqlab.course import jazz as course
from seqlab.music import quality
from seqlab.music.bundle import default_path, load_bundle
from seqlab.music.corpus import build_corpus
from seqlab.music.improvise import improvise
from seqlab.music.midi import load_section
from seqlab.music.model import JazzModel
from seqlab.music.render import read_solo_midi
from seqlab.music.train import train_model
from seqlab.text.model import CharModel
from test_music import _smf, _track


@pytest.fixture(scope="module")
def metheny_corpus():
    return build_corpus(load_section(dataset_path("metheny")))


@pytest.fixture(scope="module")
def bundle():
    return load_bundle()


def _long_tune(tmp_path):
    """Eight measures of eighth notes walking up and down over C, F, G7, C: enough values to train on."""
    scale = [60, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62]
    melody = [(i * 0.5, 0.5 if i % 5 else 0.25, scale[i % len(scale)]) for i in range(64)]
    chords = [(4 * k, 4, p) for k, ps in enumerate([(48, 52, 55), (53, 57, 60), (43, 47, 50, 53), (48, 52, 55)] * 2)
              for p in ps]
    path = tmp_path / "tune.mid"
    path.write_bytes(_smf(_track(chords, 0, "Keys"), _track(melody, 1, "Lead")))
    return path


# ----------------------------------------------------------------------------------- the network


def test_parameter_count_as_the_course():
    assert JazzModel(90, 64).num_params == 45_530
    assert course.djmodel(Tx=30, n_a=64, n_values=78).count_params() == 4 * 64 * (78 + 64 + 1) + 64 * 78 + 78


def test_loss_gradients_match_finite_differences():
    rng = np.random.default_rng(3)
    model = JazzModel(5, 3, rng=rng, dtype=np.float64)
    x = np.array([[-1, -1], [0, 4], [2, 2], [1, 3]])
    y = np.array([[0, 4], [2, 2], [1, 3], [4, 0]])
    loss = model.loss_and_grads(x, y)
    assert loss == pytest.approx(model.loss_and_grads(x, y))  # forward does not change the weights
    for layer in model.layers:
        for name, p in layer.params.items():
            g = layer.grads[name].copy()
            for idx in list(np.ndindex(p.shape))[::3]:
                old = p[idx]
                p[idx] = old + 1e-6
                up = model.loss_and_grads(x, y)
                p[idx] = old - 1e-6
                down = model.loss_and_grads(x, y)
                p[idx] = old
                assert (up - down) / 2e-6 == pytest.approx(g[idx], abs=1e-7), (name, idx)


# ----------------------------------------------------------------------------------- the course's functions


@pytest.mark.data
def test_load_music_utils_shapes_and_shift(metheny_path):
    X, Y, n_values, indices_values = course.load_music_utils(metheny_path)
    assert X.shape == (60, 30, n_values) and Y.shape == (30, 60, n_values) and n_values == 91
    assert not X[:, 0].any() and (X[:, 1:].sum(-1) == 1).all() and (Y.sum(-1) == 1).all()
    assert (X[:, 1:] == Y[:-1].transpose(1, 0, 2)).all()  # the input at t is the target at t - 1
    assert indices_values[0] == "A,0.250" and len(indices_values) == n_values


@pytest.mark.data
def test_course_training_loss_falls_as_in_the_course(metheny_corpus):
    model, history = train_model(metheny_corpus, epochs=100, seed=0)
    assert 125 < history[0] < 140          # about 30 · ln(91) = 135 before learning
    assert history[-1] < 10                 # "single digits" after 100 epochs
    assert all(b < a for a, b in zip(history[::10], history[10::10]))


def test_predict_and_sample_feeds_back_the_argmax():
    rng = np.random.default_rng(0)
    dj = course.djmodel(Tx=30, n_a=8, n_values=12, rng=rng)
    inf = course.music_inference_model(dj.LSTM_cell, dj.densor, n_values=12, n_a=8, Ty=20)
    results, indices = course.predict_and_sample(inf, np.zeros((1, 1, 12)), np.zeros((1, 8)), np.zeros((1, 8)))
    assert results.shape == (20, 12) and indices.shape == (20, 1)
    assert (results.argmax(1) == indices[:, 0]).all() and (results.sum(1) == 1).all()
    # the same steps by hand
    x, state = np.zeros((1, 12), np.float32), None
    for t in range(20):
        logp, state = dj.net.step(x, state)
        assert int(logp.argmax()) == indices[t, 0]
        x = np.eye(12, dtype=np.float32)[indices[t]]


def test_fit_checks_its_inputs():
    dj = course.djmodel(Tx=4, n_a=3, n_values=5)
    X, Y = np.zeros((2, 4, 5), bool), np.zeros((4, 2, 5), bool)
    with pytest.raises(ValueError, match="a0 and c0"):
        dj.fit([X, np.ones((2, 3)), np.zeros((2, 3))], Y, epochs=1, verbose=False)
    with pytest.raises(ValueError, match="Tx = 4"):
        dj.fit([X[:, :3], np.zeros((2, 3)), np.zeros((2, 3))], Y, epochs=1, verbose=False)


@pytest.mark.data
def test_generate_music_writes_the_midi(tmp_path, bundle, metheny_corpus, capsys):
    corpus = metheny_corpus
    inf = course.music_inference_model(bundle.model.lstm, bundle.model.dense, corpus.n_values, 64, Ty=50)
    score = course.generate_music(inf, corpus, path=tmp_path / "output" / "my_music.midi", measures=3)
    out = capsys.readouterr().out
    assert out.count("Generated ") == 3 and f"saved in {tmp_path / 'output' / 'my_music.midi'}" in out
    notes, chords = read_solo_midi(tmp_path / "output" / "my_music.midi")
    assert [p.partName for p in score.parts] == ["Solo", "Chords"]
    assert notes and max(n.end for n in notes) <= 12


# ----------------------------------------------------------------------------------- the bundled model


def test_bundled_model_meets_the_quality_targets(bundle):
    assert default_path().name == "jazz.npz"
    assert bundle.model.n_a == 64 and len(bundle.vocab) == bundle.model.n_values
    assert len(bundle.progression) == 18 and bundle.info["source"]["solo_part"] == 5
    solo = improvise(bundle, measures=16, seed=0)
    r = quality.report(solo.notes, solo.chords, bundle.training)
    assert r["chord_tone_fraction"] >= 0.45
    assert r["key_correlation"] >= 0.75
    assert r["longest_copied_run"] <= 8
    assert max(n.end for n in solo.notes) <= 64
    line = sorted(solo.notes, key=lambda n: n.offset)
    assert all(a.end <= b.offset for a, b in zip(line, line[1:]))  # one note at a time


def test_improvise_is_seeded(bundle):
    a, b = improvise(bundle, 4, seed=1, temperature=1.0), improvise(bundle, 4, seed=1, temperature=1.0)
    c = improvise(bundle, 4, seed=2, temperature=1.0)
    assert a.notes == b.notes and a.notes != c.notes


# ----------------------------------------------------------------------------------- seqlab jazz


def test_cli_writes_midi_wav_and_png(tmp_path, capsys):
    out = tmp_path / "take.mid"
    assert main(["jazz", "-o", str(out), "--measures", "4", "--seed", "3", "--wav", "--png"]) == 0
    text = capsys.readouterr().out
    assert f"wrote {out}" in text and "chord tones" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["take.mid", "take.png", "take.wav"]
    notes, chords = read_solo_midi(out)
    assert notes and chords and max(n.end for n in notes) <= 16


def test_cli_default_is_sixteen_measures_to_solo_mid(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["jazz"]) == 0
    assert "wrote solo.mid (16 measures" in capsys.readouterr().out
    notes, _ = read_solo_midi(tmp_path / "solo.mid")
    assert 48 < max(n.end for n in notes) <= 64


def test_cli_trains_on_another_file(tmp_path, capsys):
    tune = _long_tune(tmp_path)
    model = tmp_path / "tune.npz"
    assert main(["jazz", "--train", str(tune), "--epochs", "3", "--save-model", str(model), "--measures", "2",
                 "-o", str(tmp_path / "a.mid")]) == 0
    assert "part 1 over the chords of part 0" in capsys.readouterr().out
    assert main(["jazz", "--model", str(model), "--measures", "2", "-o", str(tmp_path / "b.mid")]) == 0
    assert load_bundle(model).progression[1][0].pitches == (53, 57, 60)


def test_cli_trains_on_the_dataset_by_name(tmp_path, metheny_path, capsys):
    out = tmp_path / "a.mid"
    assert main(["jazz", "--train", "metheny", "--epochs", "1", "--measures", "2", "--temperature", "1",
                 "-o", str(out)]) == 0   # sampled: after one epoch the argmax solo is all rests
    printed = capsys.readouterr().out
    # the course's section of the course's file: the same as --train with its path
    assert f"training on {metheny_path.name}: part 5 over the chords of part 0, offsets 476-548" in printed
    assert "wrote " + str(out) in printed and all(read_solo_midi(out))


@pytest.mark.parametrize("make, args, message", [
    (lambda d: None, ["--train", "{d}/missing.mid"],
     "no such file (it does not exist); expected a file or a dataset name (metheny)"),
    (lambda d: None, ["--train", "dinos"], "dinos.txt, is not a .mid file"),
    (lambda d: (d / "empty.mid").write_bytes(b""), ["--train", "{d}/empty.mid"], "is empty"),
    (lambda d: (d / "t.mid").write_text("not music"), ["--train", "{d}/t.mid"], "not a MIDI file"),
    (lambda d: (d / "s.mid").write_bytes(_smf()), ["--train", "{d}/s.mid"], "has no notes"),
    (lambda d: (d / "dr.mid").write_bytes(_smf(_track([(i, 0.5, 36) for i in range(8)], 9))),
     ["--train", "{d}/dr.mid"], "only drum tracks"),
    (lambda d: (d / "m.mid").write_bytes(_smf(_track([(i, 1, 60 + i) for i in range(8)], 0))),
     ["--train", "{d}/m.mid"], "no chords"),
    (lambda d: None, ["--measures", "0"], "--measures"),
    (lambda d: None, ["--changes", "blues", "--measures", "4"], "--measures is the length over the model's own"),
    (lambda d: None, ["--choruses", "2", "--measures", "4"], "give --measures N or --choruses N"),   # was ignored
    (lambda d: (d / "x.png").write_text("my notes"), ["--png"], "x.png, written beside -o"),
    (lambda d: None, ["--temperature", "-1"], "--temperature"),
    (lambda d: None, ["--start", "4"], "only applies with --train"),
    (lambda d: None, ["--epochs", "5"], "--epochs only applies with --train"),   # was ignored, silently
    (lambda d: None, ["-o", "{d}/no/such/dir/x.mid"], "does not exist"),
    (lambda d: (d / "t.npz").write_text("x"), ["--model", "{d}/t.npz"], "not a seqlab checkpoint"),
])
def test_cli_bad_input_is_one_line_and_status_2(tmp_path, capsys, make, args, message):
    make(tmp_path)
    argv = ["jazz", "-o", str(tmp_path / "x.mid")] + [a.format(d=tmp_path) for a in args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert not (tmp_path / "x.mid").exists()


def test_step_gives_log_probabilities_as_the_text_models_does_and_arrays_load_by_name():
    jazz_lp, _ = JazzModel(12, 8, rng=np.random.default_rng(0)).step(np.eye(12, dtype=np.float32)[[0, 3]])
    text_lp, _ = CharModel(12, hidden=8, rng=np.random.default_rng(0)).step(np.array([0, 3]))
    for lp in (jazz_lp, text_lp):
        assert lp.shape == (2, 12) and lp.dtype == np.float64 and (lp < 0).all()
        np.testing.assert_allclose(np.exp(lp).sum(axis=1), 1.0, rtol=1e-12)
    a, b = JazzModel(12, 8, rng=np.random.default_rng(1)), JazzModel(12, 8, rng=np.random.default_rng(2))
    b.load_arrays(a.arrays())
    assert all(np.array_equal(v, b.arrays()[k]) for k, v in a.arrays().items())
    with pytest.raises(ValueError, match="missing parameter 'lstm.b'"):
        b.load_arrays({k: v for k, v in a.arrays().items() if k != "lstm.b"})


@pytest.mark.data("metheny")
def test_the_seed_chooses_the_training_too(tmp_path, capsys):
    # --train used SETTINGS' seed 0 whatever --seed said: two seeds trained the same model
    from seqlab.checkpoint import load_checkpoint

    weights = []
    for seed in ("0", "1"):
        out = tmp_path / f"s{seed}.npz"
        assert main(["jazz", "--train", "metheny", "--epochs", "1", "--seed", seed, "--save-model", str(out),
                     "--measures", "1", "-o", str(tmp_path / f"s{seed}.mid")]) == 0
        arrays, meta = load_checkpoint(out)
        assert meta["info"]["settings"]["seed"] == int(seed)
        weights.append(arrays["lstm.W_x"])
    assert not np.array_equal(*weights)
