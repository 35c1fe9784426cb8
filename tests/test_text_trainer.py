"""The trainer: exact resumption, checkpoint contents, the loss plot, and early stopping."""

from __future__ import annotations

import numpy as np
import pytest

from seqlab.checkpoint import load_checkpoint
from seqlab.errors import UserError
from seqlab.text.schedule import learning_rate
from seqlab.text.trainer import TrainConfig, train

WORDS = ["tyrannosaurus", "stegosaurus", "triceratops", "velociraptor", "brachiosaurus", "allosaurus",
         "diplodocus", "iguanodon", "spinosaurus", "ankylosaurus", "pachycephalosaurus", "parasaurolophus"]


@pytest.fixture
def names(tmp_path):
    p = tmp_path / "names.txt"
    p.write_text("\n".join(WORDS * 2) + "\n", encoding="utf-8")
    return p


@pytest.fixture
def prose(tmp_path):
    p = tmp_path / "prose.txt"
    p.write_text(" ".join(WORDS * 8) + "\n", encoding="utf-8")
    return p


def _cfg(**kw) -> TrainConfig:
    base = dict(hidden=12, batch_size=4, eval_every=5, checkpoint_every=5, sample_every=10, lr=0.01, holdout=0.2,
                seed=3)
    if kw.get("mode") == "stream":
        base["seq_len"] = 9       # lines mode refuses a --seq-len: it trains on whole lines
    base.update(kw)
    return TrainConfig(**base)


@pytest.mark.parametrize("corpus,kw", [
    ("names", dict(mode="lines", cell="lstm", layers=2, dropout=0.3, weight_drop=0.3, embed=4, warmup=3,
                   decay_steps=12, weight_decay=0.1)),
    ("prose", dict(mode="stream", cell="gru", dropout=0.2, decay_steps=8)),
])
def test_resume_gives_exactly_the_uninterrupted_run(tmp_path, request, corpus, kw):
    path = request.getfixturevalue(corpus)
    whole, part = tmp_path / "whole.npz", tmp_path / "part.npz"
    train(path, whole, _cfg(steps=20, **kw), progress=False, log=lambda *a: None, plot=False)
    train(path, part, _cfg(steps=13, **kw), progress=False, log=lambda *a: None, plot=False)
    r = train(path, part, resume=part, steps=20, progress=False, log=lambda *a: None, plot=False)
    assert r["step"] == 20 and r["steps_run"] == 7
    a, ma = load_checkpoint(whole)
    b, mb = load_checkpoint(part)
    assert sorted(a) == sorted(b)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert ma["train"]["rng"] == mb["train"]["rng"]
    assert ma["train"]["history"] == mb["train"]["history"]


def test_checkpoint_holds_what_the_issue_lists_and_the_plot_is_written(tmp_path, names):
    out = tmp_path / "m.npz"
    train(names, out, _cfg(steps=10), progress=False, log=lambda *a: None)
    arrays, meta = load_checkpoint(out)
    for key in ("format_version", "config", "vocab", "normalize", "mode", "step"):
        assert key in meta
    t = meta["train"]
    assert {"rng", "data_sha256", "config", "best"} <= set(t)
    assert "resume.opt.t" in arrays and int(arrays["resume.opt.t"]) == 10
    assert (tmp_path / "m.loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_early_stopping_keeps_the_best_model(tmp_path, names):
    out = tmp_path / "m.npz"
    r = train(names, out, _cfg(steps=400, lr=0.05, hidden=32, patience=2, holdout=0.3, eval_every=5),
              progress=False, log=lambda *a: None, plot=False)
    assert r["stopped_early"] and r["step"] < 400
    _, meta = load_checkpoint(out)
    hist = meta["train"]["history"]
    best = min(h for h in hist["heldout"])
    assert meta["train"]["best"]["nats_per_char"] == best
    assert hist["heldout"][-1] > best and hist["step"][-1] == r["step"]
    with pytest.raises(UserError, match="stopped early"):
        train(names, out, resume=out, steps=500, progress=False, log=lambda *a: None)


def test_resume_refuses_another_corpus_and_too_few_steps(tmp_path, names, prose):
    out = tmp_path / "m.npz"
    train(names, out, _cfg(steps=5), progress=False, log=lambda *a: None, plot=False)
    with pytest.raises(UserError, match="different corpus"):
        train(prose, tmp_path / "n.npz", resume=out, steps=10, progress=False)
    with pytest.raises(UserError, match="already at step 5"):
        train(names, tmp_path / "n.npz", resume=out, steps=5, progress=False)


def test_learning_rate_schedule():
    cfg = TrainConfig(lr=1.0, warmup=4, decay_steps=10, min_lr_ratio=0.1)
    assert [learning_rate(cfg, s) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert learning_rate(cfg, 4) == 1.0
    assert learning_rate(cfg, 9) == pytest.approx(0.55)
    assert learning_rate(cfg, 14) == pytest.approx(0.1) == learning_rate(cfg, 1000)
    assert learning_rate(TrainConfig(lr=0.3), 999) == 0.3


def test_callback_sees_every_evaluation_and_sample_as_recorded(tmp_path, names):
    events = []
    out = tmp_path / "m.npz"
    train(names, out, _cfg(steps=20, checkpoint_every=0), progress=False, log=lambda *a: None, plot=False,
          callback=events.append)
    _, meta = load_checkpoint(out)
    hist = meta["train"]["history"]
    evals = [e for e in events if e["event"] == "eval"]
    assert [e["step"] for e in evals] == hist["step"] == [5, 10, 15, 20]
    assert [e["train"] for e in evals] == hist["train"]
    assert [e["heldout"] for e in evals] == hist["heldout"]
    samples = [e for e in events if e["event"] == "sample"]
    assert [e["step"] for e in samples] == [10, 20]
    assert all(len(e["samples"]) == 3 and all(isinstance(s, str) for s in e["samples"]) for e in samples)


def test_an_exception_from_the_callback_ends_the_run_and_writes_nothing(tmp_path, names):
    class Stop(Exception):
        pass

    seen = []

    def stop_at_10(event):
        seen.append(event["step"])
        if event["step"] >= 10:
            raise Stop

    with pytest.raises(Stop):
        train(names, tmp_path / "m.npz", _cfg(steps=100, checkpoint_every=0), progress=False,
              log=lambda *a: None, callback=stop_at_10)
    assert max(seen) == 10
    assert list(tmp_path.iterdir()) == [names]
