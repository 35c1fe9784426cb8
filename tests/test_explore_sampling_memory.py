"""`seqlab explore sampling` and `seqlab explore memory`: the numbers, their JSON shapes, failure paths."""

from __future__ import annotations

import json

import numpy as np
import pytest

from explore_cli import fails
from seqlab.cli import main
from seqlab.explore import memory as M
from seqlab.explore.models import load_text_model
from seqlab.explore.sampling import temperature_report


def test_sampling_numbers_from_the_models_own_distribution():
    lm = load_text_model("dinos")
    r = temperature_report(lm, "Tyr", [0.5, 1.0, 2.0], top=4, length=30, seed=3)
    ids = np.concatenate([[lm.start_id], lm.encode("Tyr")])
    lp, _ = lm.model.log_probs(ids[:, None])
    for t, h, top in zip(r["temperatures"], r["entropy"], r["top"]):
        z = lp[-1, 0] / t
        p = np.exp(z - z.max())
        p /= p.sum()
        assert h == pytest.approx(-(p * np.log(p)).sum(), rel=1e-9)
        order = np.argsort(-p)[:4]
        assert [c for c, _ in top] == [lm.vocab.chars[i] for i in order]
        np.testing.assert_allclose([q for _, q in top], p[order], rtol=1e-9)
    assert r["entropy"] == sorted(r["entropy"])            # hotter: flatter
    assert np.all(np.diff(r["curve"]["entropy"]) >= -1e-12) and r["curve"]["entropy"][-1] < r["max_entropy"]
    again = temperature_report(lm, "Tyr", [0.5, 1.0, 2.0], top=4, length=30, seed=3)
    assert again["samples"] == r["samples"] and all(len(s) <= 30 for s in r["samples"])


def test_sampling_cli_json_shape(tmp_path, capsys):
    out = tmp_path / "s.png"
    assert main(["explore", "sampling", "dinos", "--prefix", "ab", "--temperatures", "0.7,1.3", "--json",
                 "-o", str(out), "--top", "3"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert set(r) == {"temperatures", "entropy", "top", "samples"}
    assert r["temperatures"] == [0.7, 1.3] and len(r["entropy"]) == 2 and len(r["samples"]) == 2
    assert all(len(top) == 3 and all(isinstance(c, str) and 0 <= p <= 1 for c, p in top) for top in r["top"])
    assert out.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("argv,words", [
    (["--temperatures", ""], ["comma-separated list"]),
    (["--temperatures", "1,hot"], ["'hot' is not a number"]),
    (["--temperatures", "0"], ["not a positive number"]),
    (["--prefix", "T-rex"], ["not in the model's vocabulary", "'-'"]),
])
def test_sampling_bad_input(capsys, argv, words):
    fails(capsys, ["explore", "sampling", "dinos", *argv], *words)


def test_sampling_not_a_text_model(tmp_path, capsys):
    bad = tmp_path / "m.npz"
    bad.write_text("hello", encoding="utf-8")
    fails(capsys, ["explore", "sampling", str(bad)], str(bad))
    fails(capsys, ["explore", "sampling", "nosuchmodel"], "no such model", "dinos")


def test_recall_batches():
    ids, target = M.recall_batch(np.random.default_rng(0), 5, 64)
    assert ids.shape == (7, 64) and target.shape == (64,)
    assert np.array_equal(ids[0], target) and np.all(target < M.K)
    assert np.all((ids[1:-1] >= M.K) & (ids[1:-1] < M.MARKER)) and np.all(ids[-1] == M.MARKER)


def test_a_short_lag_is_learned():
    r = M.train_recall("gru", 2, hidden=16, steps=150, seed=0)
    assert r["accuracy"] > 0.9 and r["loss"] < 0.3


def test_memory_cli_json_shape(tmp_path, capsys):
    out = tmp_path / "m.png"
    assert main(["explore", "memory", "--cells", "rnn,lstm", "--lags", "1,3", "--steps", "3", "--hidden", "4",
                 "--json", "-o", str(out)]) == 0
    r = json.loads(capsys.readouterr().out)
    assert set(r) == {"lags", "chance", "accuracy"} and r["lags"] == [1, 3] and r["chance"] == 0.125
    assert list(r["accuracy"]) == ["rnn", "lstm"] and all(len(v) == 2 for v in r["accuracy"].values())
    assert out.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("argv,words", [
    (["--lags", "0,5"], ["0 is below 1"]),
    (["--lags", ""], ["comma-separated list"]),
    (["--lags", "2,five"], ["'five' is not a whole number"]),
    (["--cells", "lstm,rnm"], ["unknown name 'rnm'"]),
    (["--steps", "0"], ["steps must be"]),
])
def test_memory_bad_input(capsys, argv, words):
    fails(capsys, ["explore", "memory", *argv], *words)    # refused before any training
