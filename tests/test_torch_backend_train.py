"""`seqlab train --backend torch`: the same steps as the NumPy engine, checkpoints that switch engines, DDP.

Tiny models throughout: the point is the numbers agreeing, not the speed.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from seqlab.checkpoint import load_checkpoint
from seqlab.cli import main
from seqlab.engine import Adam
from seqlab.text import trainer
from seqlab.text.data import prepare_data
from seqlab.text.model import CharModel
from seqlab.text.train_config import TrainConfig
from seqlab.text.train_state import Run

WORDS = ["alba", "brio", "coda", "dolce", "forte", "largo", "lento", "mezzo", "piano", "presto", "rubato",
         "segno", "tacet", "tempo", "tutti", "vivace", "allegro", "adagio", "grave", "molto"]


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("\n".join(WORDS) + "\n")
    return path


def _run64(cfg: TrainConfig, data) -> Run:
    """A fresh Run whose model and Adam are float64 (the trainer's own are float32)."""
    run = Run(cfg, data)
    model = CharModel(data.vocab.size, dtype=np.float64, rng=np.random.default_rng(cfg.seed), **cfg.model_config())
    model.set_dropout_rng(run.rng)
    run.lm.model, run.opt = model, Adam(model.layers, lr=cfg.lr)
    return run


def _steps(run: Run, n: int) -> list[float]:
    """n steps of the trainer's own step with the engine cfg.backend picks; the loss of each."""
    batches = run.data.batches(run.cfg, run.lm.start_id)
    engine = trainer._engine(run)
    losses = []
    for _ in range(n):
        loss, count = trainer._train_step(run, batches, engine)
        losses.append(loss / count)
    return losses


@pytest.mark.parametrize("mode, cell, extra, dropout", [
    ("lines", "lstm", {}, False),
    ("lines", "lstm", {}, True),
    ("lines", "gru", {"embed": 6, "layers": 2}, True),
    ("stream", "lstm", {"embed": 5, "layers": 2, "seq_len": 7}, True),
])
def test_twenty_float64_steps_give_the_numpy_engines_parameters(corpus, mode, cell, extra, dropout):
    """Same initial weights, batches and (dropout on) masks: parameters within 1e-9, same held-out score."""
    drops = {"dropout": 0.3, "weight_drop": 0.4} if dropout else {}
    cfg = TrainConfig(mode=mode, cell=cell, hidden=8, batch_size=4, lr=0.01, decay_steps=20, warmup=3,
                      weight_decay=0.1, clip=1.0, holdout=0.2, **extra, **drops)
    data = prepare_data(corpus, cfg)
    runs = {}
    for backend in ("numpy", "torch"):
        cfg.backend = backend
        runs[backend] = run = _run64(cfg, data)
        run.losses = _steps(run, 20)
    a, b = runs["numpy"].lm.model.arrays(), runs["torch"].lm.model.arrays()
    assert max(float(np.max(np.abs(a[k] - b[k]))) for k in a) < 1e-9
    assert any(float(np.max(np.abs(a[k] - _run64(cfg, data).lm.model.arrays()[k]))) > 1e-3 for k in a)  # it moved
    assert np.allclose(runs["numpy"].losses, runs["torch"].losses, rtol=1e-12, atol=0)
    held = [data.heldout_nll(r.lm) for r in runs.values()]
    assert abs(held[0] - held[1]) < 1e-9
    m, t = runs["numpy"].opt.state_dict(), runs["torch"].opt.state_dict()
    assert int(m["t"]) == int(t["t"]) == 20 and max(float(np.max(np.abs(m[k] - t[k]))) for k in m if k != "t") < 1e-9
    assert runs["numpy"].rng.bit_generator.state == runs["torch"].rng.bit_generator.state   # same draws


def _train(corpus, out, *args):
    return main(["train", str(corpus), "-o", str(out), "--quiet", "--hidden", "8", "--batch-size", "4",
                 "--eval-every", "5", "--checkpoint-every", "0", "--sample-every", "0", "--dropout", "0.2",
                 "--weight-drop", "0.3", "--embed", "4", *args])


@pytest.mark.parametrize("first, second", [("numpy", "torch"), ("torch", "numpy")])
def test_a_checkpoint_resumed_with_the_other_backend_continues_the_same_curve(corpus, tmp_path, capsys,
                                                                              first, second):
    whole, half = tmp_path / "whole.npz", tmp_path / "half.npz"
    assert _train(corpus, whole, "--steps", "30", "--backend", first) == 0
    assert _train(corpus, half, "--steps", "15", "--backend", first) == 0
    assert _train(corpus, half, "--steps", "30", "--backend", second, "--resume", str(half)) == 0
    capsys.readouterr()
    (wa, wm), (ha, hm) = load_checkpoint(whole), load_checkpoint(half)
    w, h = wm["train"]["history"], hm["train"]["history"]
    assert w["step"] == h["step"] == [5, 10, 15, 20, 25, 30]
    assert w["train"][:3] == h["train"][:3]                     # the first backend's part, bit for bit
    assert np.allclose(w["train"], h["train"], rtol=1e-4) and np.allclose(w["heldout"], h["heldout"], rtol=1e-4)
    assert w["train"][3:] != h["train"][3:]                     # the second engine rounds differently
    for k in wa:
        if k.startswith("model."):
            assert np.allclose(wa[k], ha[k], atol=1e-4), k
    assert main(["sample", str(half), "-n", "2", "--seed", "0"]) == 0   # an ordinary checkpoint


def test_two_processes_give_the_parameters_of_one_with_the_whole_batch(corpus, tmp_path, capsys):
    """--devices 2 on the CPU (gloo): each process takes half of every batch of 8; one process takes all 8."""
    one, two = tmp_path / "one.npz", tmp_path / "two.npz"
    common = ["--steps", "12", "--batch-size", "8", "--backend", "torch", "--threads", "1"]
    assert _train(corpus, one, *common) == 0
    assert _train(corpus, two, *common, "--devices", "2") == 0
    out = capsys.readouterr().out
    assert out.count(f"wrote {two}") == 1                        # process 0 alone reports and writes
    (a, am), (b, bm) = load_checkpoint(one), load_checkpoint(two)
    assert am["step"] == bm["step"] == 12
    for k in a:
        if k.startswith(("resume.param.", "resume.opt.")):
            assert np.allclose(a[k], b[k], rtol=1e-5, atol=1e-6), k
    assert np.allclose(am["train"]["history"]["train"], bm["train"]["history"]["train"], rtol=1e-5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.loss.png", "one.npz", "two.loss.png", "two.npz",
                                                          "words.txt"]


def test_backend_and_device_errors_are_one_line(corpus, tmp_path, monkeypatch, capsys):
    out = tmp_path / "m.npz"
    assert _train(corpus, out, "--steps", "2", "--device", "cuda") == 2
    assert "--device cuda needs --backend torch" in capsys.readouterr().err
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert _train(corpus, out, "--steps", "2", "--backend", "torch", "--device", "cuda:1") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "CUDA is not available" in err
    assert _train(corpus, out, "--steps", "2", "--devices", "2") == 2
    assert "--devices 2 needs --backend torch" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "torch", None)
    assert _train(corpus, out, "--steps", "2", "--backend", "torch") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'seqlab[torch]'" in err
    assert not out.exists()
