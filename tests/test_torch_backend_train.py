"""`seqlab train --backend torch`: the same steps as the NumPy engine, checkpoints that switch engines, DDP.

Tiny models throughout: the point is the numbers agreeing, not the speed.
"""

from __future__ import annotations

import math
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
from seqlab.torch_backend.train_step import TorchStep
from seqlab.training import engine_for

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
    engine = engine_for(run.cfg).make_step(run, trainer._check_finite)
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
    ("stream", "lstm", {"embed": 5, "layers": 2, "seq_len": 7, "variational": True}, True),
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


@pytest.mark.parametrize("own_memory", [False, True])
def test_a_step_with_a_non_finite_gradient_changes_nothing(corpus, monkeypatch, own_memory):
    """The check comes before the update: the parameters and Adam's state stay those of the last good step
    (own_memory: the engine's own copies, as on a GPU)."""
    monkeypatch.setattr(TorchStep, "share_cpu_memory", not own_memory)
    cfg = TrainConfig(hidden=8, batch_size=4, clip=1.0, backend="torch")
    run = Run(cfg, prepare_data(corpus, cfg))
    batches = run.data.batches(cfg, run.lm.start_id)
    engine = engine_for(run.cfg).make_step(run, trainer._check_finite)
    for _ in range(3):
        trainer._train_step(run, batches, engine)
    engine.sync()
    params, opt = run.lm.model.arrays(), {k: np.copy(v) for k, v in run.opt.state_dict().items()}
    engine.params[0].register_hook(lambda g: g * math.nan)
    with pytest.raises(trainer._NonFinite, match="the gradient norm is nan"):
        trainer._train_step(run, batches, engine)
    engine.sync()
    assert run.step == 3 and int(run.opt.t) == 3
    after = run.lm.model.arrays()
    assert all(after[k].tobytes() == params[k].tobytes() for k in params)
    assert all(np.asarray(v).tobytes() == opt[k].tobytes() for k, v in run.opt.state_dict().items())


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


def test_on_its_own_memory_the_engine_copies_back_only_what_is_read(corpus, tmp_path, monkeypatch, capsys):
    """The torch engine as it runs on a GPU, tried on the CPU: the parameters and Adam's moments in its own
    tensors (share_cpu_memory off), copied into the NumPy model only before an evaluation, a sample, a
    checkpoint and the end; the run the same, bit for bit, as on shared memory, where nothing is copied."""
    copies, real = [], TorchStep._copy_back
    monkeypatch.setattr(TorchStep, "_copy_back", lambda self: (copies.append(self.opt.t), real(self)))
    args = ["--backend", "torch", "--steps", "23", "--sample-every", "6", "--checkpoint-every", "8"]
    shared, own = tmp_path / "shared.npz", tmp_path / "own.npz"
    assert _train(corpus, shared, *args) == 0
    assert copies == []
    printed = capsys.readouterr().out
    monkeypatch.setattr(TorchStep, "share_cpu_memory", False)
    assert _train(corpus, own, *args) == 0
    # evaluations every 5 steps, samples every 6, checkpoints every 8, the end (23): one copy for each step
    assert copies == [5, 6, 8, 10, 12, 15, 16, 18, 20, 23]
    assert capsys.readouterr().out == printed.replace("shared.", "own.")   # the same scores and samples
    (a, am), (b, bm) = load_checkpoint(shared), load_checkpoint(own)
    assert a.keys() == b.keys() and all(a[k].tobytes() == b[k].tobytes() for k in a)
    assert am["train"] == bm["train"]


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
