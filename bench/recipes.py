"""Training steps per second of each bundled recipe, seqlab against a PyTorch replica, side by side.

The replica is the same model (seqlab.torch_backend.TorchCharModel, or nn.LSTM + nn.Linear for the jazz
model), started from the same weights, fed the same batches (the recipe's own batching), with the same
dropout rates (its masks drawn by torch), DropConnect, clipping, loss and Adam with the same learning rates.
Both run on one thread (the recipes train with --threads 1). The two take turns, `--block` steps each, and a
rate is the median over the rounds; one line per recipe:

    PYTHONPATH=src python bench/recipes.py [--rounds 9] [--block 10] [--recipes dinos,shakespeare,jazz]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from threadpoolctl import threadpool_limits

from seqlab import data as datasets
from seqlab.engine import Adam, clip_by_global_norm
from seqlab.engine.base import one_hot
from seqlab.music.corpus import build_corpus, training_windows
from seqlab.music.midi import load_section
from seqlab.music.model import JazzModel
from seqlab.music.train import SETTINGS
from seqlab.pretrained.build import DINOS_CONFIG, dinos_split
from seqlab.pretrained.shakespeare_recipe import SHAKESPEARE_CONFIG, shakespeare_split
from seqlab.text.corpus import read_text
from seqlab.text.data import prepare_data
from seqlab.text.model import CharModel
from seqlab.text.schedule import learning_rate
from seqlab.torch_backend.module import Masks, TorchCharModel, state_dict_from_leaves, to_leaves


def _text_recipe(name: str):
    """(seqlab step(s), torch step(s)) for the char-model recipe `name`, from the same start."""
    cfg = DINOS_CONFIG if name == "dinos" else SHAKESPEARE_CONFIG
    text = read_text(datasets.path("dinos" if name == "dinos" else "shakespeare"))
    train = "\n".join(dinos_split(text)[0]) + "\n" if name == "dinos" else shakespeare_split(text)[0]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.txt"
        path.write_text(train, encoding="utf-8")
        prepared = prepare_data(path, cfg)
    V = prepared.vocab.size
    start_id = prepared.vocab.char_to_ix["\n"]
    batches = prepared.batches(cfg, start_id)
    model = CharModel(V, dtype=np.float32, rng=np.random.default_rng(cfg.seed), **cfg.model_config())
    model.set_dropout_rng(np.random.default_rng([cfg.seed, 1]))
    opt = Adam(model.layers, lr=cfg.lr)
    config = model.config()
    leaves = {k: t.requires_grad_() for k, t in to_leaves(model.arrays()).items()}
    module = TorchCharModel(config)
    topt = torch.optim.Adam(list(leaves.values()), lr=cfg.lr)
    H, L, p, wd = cfg.hidden, cfg.layers, cfg.dropout, cfg.weight_drop
    state = {"seqlab": None, "torch": None}

    def ours(s: int) -> None:
        opt.lr = learning_rate(cfg, s)
        if batches.resets_state(s):
            state["seqlab"] = None
        ids_in, target, mask = batches.batch(s)
        _, _, st = model.loss_and_grads(ids_in, target, mask, state["seqlab"])
        state["seqlab"] = st if prepared.carries_state else None
        clip_by_global_norm(model.layers, cfg.clip)
        opt.step()

    def drop(shape):
        return (torch.rand(shape) < 1 - p).float() / (1 - p) if p else None

    def theirs(s: int) -> None:
        for group in topt.param_groups:
            group["lr"] = learning_rate(cfg, s)
        if batches.resets_state(s):
            state["torch"] = None
        ids_in, target, mask = batches.batch(s)
        T, B = ids_in.shape
        masks = None
        if p:
            masks = Masks(input=drop((T, B, cfg.embed)) if cfg.embed else None,
                          between=[drop((T, B, H)) for _ in range(L - 1)], output=drop((T, B, H)))
        wmasks = [(torch.rand(leaves[f"rnn.{k}.W_h"].shape) < 1 - wd).float() / (1 - wd)
                  for k in range(L)] if wd else None
        sd = state_dict_from_leaves(config, leaves, wmasks)
        logits, st = torch.func.functional_call(module, sd, (torch.from_numpy(ids_in), state["torch"], masks))
        nll = F.cross_entropy(logits.reshape(T * B, V), torch.from_numpy(target).reshape(T * B), reduction="none")
        m = torch.ones(T * B) if mask is None else torch.from_numpy(mask.reshape(T * B)).float()
        loss = (nll * m).sum() / m.sum().clamp(min=1)
        topt.zero_grad(set_to_none=True)
        loss.backward()
        if prepared.carries_state:
            state["torch"] = tuple(x.detach() for x in st) if isinstance(st, tuple) else st.detach()
        torch.nn.utils.clip_grad_norm_(list(leaves.values()), cfg.clip)
        topt.step()

    return ours, theirs


def _jazz_recipe():
    corpus = build_corpus(load_section(datasets.path("metheny")))
    rng = np.random.default_rng(SETTINGS["seed"])
    x, y = training_windows(corpus.indices(), m=SETTINGS["m"], Tx=SETTINGS["Tx"], rng=rng)
    n = corpus.n_values
    model = JazzModel(n, SETTINGS["n_a"], rng=rng)
    opt = Adam(model.layers, lr=SETTINGS["lr"])
    lstm, dense = torch.nn.LSTM(n, SETTINGS["n_a"]), torch.nn.Linear(SETTINGS["n_a"], n)
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.from_numpy(model.lstm.params["W_x"].T.copy()))
        lstm.weight_hh_l0.copy_(torch.from_numpy(model.lstm.params["W_h"].T.copy()))
        lstm.bias_ih_l0.copy_(torch.from_numpy(model.lstm.params["b"]))
        lstm.bias_hh_l0.zero_()
        dense.weight.copy_(torch.from_numpy(model.dense.params["W"].T.copy()))
        dense.bias.copy_(torch.from_numpy(model.dense.params["b"]))
    topt = torch.optim.Adam([*lstm.parameters(), *dense.parameters()], lr=SETTINGS["lr"])
    m, bs = SETTINGS["m"], SETTINGS["batch_size"]
    starts = list(range(0, m, bs))
    order = np.random.default_rng(1).permutation(m)
    lr = lambda s: SETTINGS["lr"] / (1.0 + SETTINGS["decay"] * s)   # noqa: E731 - Keras' decay

    def batch(s: int):
        b = order[starts[s % len(starts)]:][:bs]
        return x[:, b], y[:, b]

    def ours(s: int) -> None:
        xb, yb = batch(s)
        opt.lr = lr(s)
        model.loss_and_grads(xb, yb)
        opt.step()

    def theirs(s: int) -> None:
        xb, yb = batch(s)
        for group in topt.param_groups:
            group["lr"] = lr(s)
        xt = torch.from_numpy(one_hot(xb, n))
        a, _ = lstm(xt)
        logits = dense(a)
        Tx, B = yb.shape
        loss = F.cross_entropy(logits.reshape(Tx * B, n), torch.from_numpy(yb).reshape(-1), reduction="sum") / B
        topt.zero_grad(set_to_none=True)
        loss.backward()
        topt.step()

    return ours, theirs


def measure(ours, theirs, rounds: int, block: int) -> tuple[float, float]:
    """Median steps/s of each over `rounds` rounds of `block` steps, taking turns; both see steps 0, 1, …"""
    step = {"ours": 0, "theirs": 0}

    def run(fn, key) -> float:
        t0 = time.perf_counter()
        for _ in range(block):
            fn(step[key])
            step[key] += 1
        return block / (time.perf_counter() - t0)

    run(ours, "ours"), run(theirs, "theirs")   # warm-up: allocations, lazy initialisation
    a, b = [], []
    for _ in range(rounds):
        a.append(run(ours, "ours"))
        b.append(run(theirs, "theirs"))
    return statistics.median(a), statistics.median(b)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    ap.add_argument("--recipes", default="dinos,shakespeare,jazz")
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--block", type=int, default=10)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    print(f"{'recipe':<12}{'seqlab steps/s':>16}{'torch steps/s':>15}{'ratio (seqlab/torch)':>22}")
    with threadpool_limits(limits=1, user_api="blas"):
        for name in args.recipes.split(","):
            ours, theirs = _jazz_recipe() if name == "jazz" else _text_recipe(name)
            a, b = measure(ours, theirs, args.rounds, args.block)
            print(f"{name:<12}{a:>16.1f}{b:>15.1f}{a / b:>22.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
