"""The training levers of issue 33 against PyTorch, step by step: variational dropout (one mask per sequence),
AdamW's decoupled weight decay, an exponential moving average of the weights; and their `seqlab train` flags.

Each PyTorch side is an own replica (torch.nn.LSTM per layer, torch.optim.AdamW, torch.optim.swa_utils'
EMA) given seqlab's initial weights, batches and masks: the same numbers to float32 rounding.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from seqlab.checkpoint import load_checkpoint
from seqlab.cli import main
from seqlab.engine import Adam, clip_by_global_norm, layers
from seqlab.text import trainer
from seqlab.text.batching import StreamBatches
from seqlab.text.data import prepare_data
from seqlab.text.model import CharModel
from seqlab.text.train_config import TrainConfig
from seqlab.text.train_state import Run

V, H, T, B = 11, 8, 7, 3
TEXT = "to be or not to be that is the question whether tis nobler in the mind to suffer\n" * 6


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "hamlet.txt"
    path.write_text(TEXT)
    return path


class Replica(torch.nn.Module):
    """seqlab's CharModel (one-hot -> LSTM layers -> Dense) in torch, one nn.LSTM per layer so that seqlab's
    masks can go between them; masks: [between layer 1, ..., before the Dense layer] (broadcast)."""

    def __init__(self, model: CharModel):
        super().__init__()
        self.lstms = torch.nn.ModuleList(torch.nn.LSTM(layer.input_size, layer.hidden_size)
                                         for layer in model.rnn.layers)
        self.dense = torch.nn.Linear(model.hidden, model.vocab_size)
        with torch.no_grad():
            for lstm, layer in zip(self.lstms, model.rnn.layers):
                lstm.weight_ih_l0.copy_(torch.from_numpy(layer.params["W_x"].T.copy()))
                lstm.weight_hh_l0.copy_(torch.from_numpy(layer.params["W_h"].T.copy()))
                lstm.bias_ih_l0.copy_(torch.from_numpy(layer.params["b"].copy()))
                lstm.bias_hh_l0.zero_()
                lstm.bias_hh_l0.requires_grad_(False)   # seqlab has one bias
            self.dense.weight.copy_(torch.from_numpy(model.dense.params["W"].T.copy()))
            self.dense.bias.copy_(torch.from_numpy(model.dense.params["b"].copy()))
        self.V = model.vocab_size

    def loss(self, ids, target, states, masks):
        h = torch.nn.functional.one_hot(torch.from_numpy(ids), self.V).float()
        new = []
        for k, lstm in enumerate(self.lstms):
            if k and masks:
                h = h * torch.from_numpy(masks[k - 1])
            h, s = lstm(h, states[k] if states else None)
            new.append(tuple(t.detach() for t in s))
        if masks:
            h = h * torch.from_numpy(masks[-1])
        logits = self.dense(h)
        return torch.nn.functional.cross_entropy(logits.reshape(-1, self.V), torch.from_numpy(target).reshape(-1)), new

    def arrays(self) -> dict[str, np.ndarray]:
        out = {"dense.W": self.dense.weight.detach().numpy().T, "dense.b": self.dense.bias.detach().numpy()}
        for k, lstm in enumerate(self.lstms):
            out[f"rnn.{k}.W_x"] = lstm.weight_ih_l0.detach().numpy().T
            out[f"rnn.{k}.W_h"] = lstm.weight_hh_l0.detach().numpy().T
            out[f"rnn.{k}.b"] = lstm.bias_ih_l0.detach().numpy()
        return out


def _recording(monkeypatch) -> list[np.ndarray]:
    """Every dropout mask seqlab draws from now on, in order."""
    drawn = []
    forward = layers.Dropout.forward

    def record(self, x, training=True):
        y = forward(self, x, training)
        if self._mask is not None:
            drawn.append(self._mask.copy())
        return y
    monkeypatch.setattr(layers.Dropout, "forward", record)
    return drawn


def _batches():
    ids = np.random.default_rng(5).integers(0, V, 400)
    return StreamBatches(ids, B, T)


def _max_diff(a: dict, b: dict) -> float:
    return max(float(np.max(np.abs(a[k] - b[k]))) for k in a)


@pytest.mark.parametrize("variational", [False, True])
def test_dropout_matches_torch_step_by_step_given_the_same_masks(monkeypatch, variational):
    """The benchmark's gap (issue 33): with seqlab's masks in torch's network the two runs are one, step by
    step, to float32 rounding; plain dropout draws a mask per step, --variational one per sequence."""
    drawn = _recording(monkeypatch)
    model = CharModel(V, "lstm", hidden=H, layers=2, dropout=0.4, forget_bias=0.0, variational=variational,
                      rng=np.random.default_rng(0))
    shape = (1, B, H) if variational else (T, B, H)
    ours, opt = model, Adam(model.layers, lr=0.01)
    theirs = Replica(model)
    params = [p for p in theirs.parameters() if p.requires_grad]
    topt = torch.optim.Adam(params, lr=0.01)
    batches, s_ours, s_theirs = _batches(), None, None
    for step in range(12):
        ids, target, _ = batches.batch(step)
        drawn.clear()
        loss, count, s_ours = ours.loss_and_grads(ids, target, None, s_ours)
        assert [m.shape for m in drawn] == [shape, shape]        # between the layers, before Dense
        assert all(set(np.unique(m)) <= {0.0, np.float32(1 / 0.6)} for m in drawn)
        clip_by_global_norm(ours.layers, 1.0)
        opt.step()
        tloss, s_theirs = theirs.loss(ids, target, s_theirs, drawn)
        topt.zero_grad()
        tloss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        topt.step()
        assert loss / count == pytest.approx(float(tloss.detach()), abs=1e-5)
    assert _max_diff(ours.arrays(), theirs.arrays()) < 2e-5
    start = CharModel(V, "lstm", hidden=H, layers=2, rng=np.random.default_rng(0)).arrays()
    assert _max_diff(ours.arrays(), start) > 1e-2   # it trained


def test_weight_decay_is_adamw_step_by_step(corpus):
    """The trainer's NumPy step with --weight-decay against torch.optim.AdamW (weights decayed, biases not)."""
    cfg = TrainConfig(mode="stream", hidden=H, layers=2, seq_len=T, batch_size=B, lr=0.02, weight_decay=0.5,
                      clip=1.0, forget_bias=0.0, holdout=0.0)
    run = Run(cfg, prepare_data(corpus, cfg))
    theirs = Replica(run.lm.model)
    decay = [p for p in theirs.parameters() if p.requires_grad and p.ndim == 2]
    rest = [p for p in theirs.parameters() if p.requires_grad and p.ndim != 2]
    topt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.5}, {"params": rest, "weight_decay": 0.0}],
                             lr=0.02)
    step = trainer.numpy_step(run)
    batches = run.data.batches(cfg, run.lm.start_id)
    states, tstates = None, None
    for s in range(10):
        ids, target, _ = batches.batch(s)
        loss, count, states = step(ids, target, None, states, 0.02)
        tloss, tstates = theirs.loss(ids, target, tstates, None)
        topt.zero_grad()
        tloss.backward()
        torch.nn.utils.clip_grad_norm_(decay + rest, 1.0)
        topt.step()
        assert loss / count == pytest.approx(float(tloss.detach()), abs=1e-5)
    assert _max_diff(run.lm.model.arrays(), theirs.arrays()) < 2e-5
    plain = Run(cfg, prepare_data(corpus, cfg)).lm.model.arrays()   # the decay mattered
    assert _max_diff(run.lm.model.arrays(), plain) > 1e-2


def _train(corpus, out, **kw):
    cfg = TrainConfig(mode="stream", hidden=H, seq_len=T, batch_size=B, lr=0.02, holdout=0.0, eval_every=100,
                      checkpoint_every=0, sample_every=0, **kw)
    return trainer.train(corpus, out, cfg, progress=False, log=lambda *a: None, plot=False)


def test_ema_is_torchs_average_of_the_steps_and_resumes_exactly(corpus, tmp_path):
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    # the parameters after each of 6 steps (the run without --ema trains the same: the average only watches)
    after = []
    for n in range(1, 7):
        _train(corpus, tmp_path / f"s{n}.npz", steps=n)
        arrays, _ = load_checkpoint(tmp_path / f"s{n}.npz")
        after.append({k[len("resume.param."):]: v for k, v in arrays.items() if k.startswith("resume.param.")})
    names = sorted(after[0])
    holder = torch.nn.ParameterList(torch.nn.Parameter(torch.from_numpy(after[0][k].copy())) for k in names)
    ema = AveragedModel(holder, multi_avg_fn=get_ema_multi_avg_fn(0.7))
    for params in after:
        with torch.no_grad():
            for p, k in zip(holder, names):
                p.copy_(torch.from_numpy(params[k]))
        ema.update_parameters(holder)
    want = {k: p.detach().numpy() for k, p in zip(names, ema.module)}

    _train(corpus, tmp_path / "ema.npz", steps=6, ema=0.7)
    got, meta = load_checkpoint(tmp_path / "ema.npz")
    model = {k[len("model."):]: v for k, v in got.items() if k.startswith("model.")}
    assert _max_diff(model, want) < 1e-6                                   # the file holds the average
    assert _max_diff({k: got["resume.param." + k] for k in names}, after[-1]) == 0   # training unchanged
    assert _max_diff(model, after[-1]) > 1e-3
    # resumed at step 3 to 6: the same arrays, bit for bit
    _train(corpus, tmp_path / "part.npz", steps=3, ema=0.7)
    cfg = TrainConfig.from_json(meta["train"]["config"])
    trainer.train(corpus, tmp_path / "part.npz", cfg, resume=tmp_path / "part.npz", steps=6, progress=False,
                  log=lambda *a: None, plot=False)
    part, _ = load_checkpoint(tmp_path / "part.npz")
    assert sorted(part) == sorted(got)
    for k in got:
        np.testing.assert_array_equal(part[k], got[k], err_msg=k)


def test_the_ema_is_what_is_evaluated_and_kept(corpus, tmp_path):
    cfg = dict(mode="stream", hidden=H, seq_len=T, batch_size=B, lr=0.05, holdout=0.2, eval_every=4,
               checkpoint_every=0, sample_every=0, steps=8)
    plain = trainer.train(corpus, tmp_path / "a.npz", TrainConfig(**cfg), progress=False, log=lambda *a: None,
                          plot=False)
    avg = trainer.train(corpus, tmp_path / "b.npz", TrainConfig(**cfg, ema=0.5), progress=False,
                        log=lambda *a: None, plot=False)
    assert plain["best"]["nats_per_char"] != avg["best"]["nats_per_char"]
    from seqlab.text.model import load_model

    lm = load_model(tmp_path / "b.npz")
    data = prepare_data(corpus, TrainConfig(**cfg))
    assert data.heldout_nll(lm) == pytest.approx(avg["model"]["nats_per_char"], abs=1e-12)


def test_the_flags(corpus, tmp_path, capsys):
    out = tmp_path / "m.npz"
    argv = ["train", str(corpus), "-o", str(out), "--mode", "stream", "--hidden", "6", "--seq-len", "7",
            "--steps", "3", "--eval-every", "3", "--sample-every", "0", "--quiet"]
    assert main([*argv, "--dropout", "0.2", "--variational", "--ema", "0.9", "--weight-decay", "0.1"]) == 0
    config = load_checkpoint(out)[1]["train"]["config"]
    assert (config["variational"], config["ema"], config["weight_decay"]) == (True, 0.9, 0.1)
    assert load_checkpoint(out)[1]["config"]["variational"] is True
    capsys.readouterr()
    for bad, says in ((["--variational"], "--variational says how --dropout's masks are drawn; give --dropout P"),
                      (["--ema", "1"], "--ema must be in [0, 1), got 1.0")):
        assert main([*argv, "-o", str(tmp_path / "x.npz"), *bad]) == 2
        err = capsys.readouterr().err.strip()
        assert says in err and len(err.splitlines()) == 1, err
