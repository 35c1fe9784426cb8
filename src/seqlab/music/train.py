"""Training the jazz model as the course does, and building the bundled model (`make models`).

The course: 60 random windows of 30 values, LSTM 64, Adam(lr=0.01, β1=0.9, β2=0.999, decay=0.01), Keras' default
batches of 32, 100 epochs; the loss (summed over the 30 steps) falls from about 130 to single digits.
Keras' `decay` shrinks the learning rate after every batch: lr / (1 + decay · iterations).
"""

from __future__ import annotations

import time

import numpy as np
from threadpoolctl import threadpool_limits

from seqlab import data
from seqlab.engine import Adam
from seqlab.errors import UserError
from seqlab.music import quality
from seqlab.music.bundle import JazzBundle, default_path, save_bundle
from seqlab.music.corpus import MusicCorpus, build_corpus, training_windows
from seqlab.music.improvise import improvise
from seqlab.music.midi import load_section
from seqlab.music.model import JazzModel
from seqlab.stopping import Interrupted

COMMAND = "seqlab jazz --train original_metheny.mid --save-model jazz.npz"  # the same training, by hand
SETTINGS = {"m": 60, "Tx": 30, "n_a": 64, "lr": 0.01, "decay": 0.01, "batch_size": 32, "epochs": 100,
            "seed": 0}


def fit(model: JazzModel, x_ids: np.ndarray, y_ids: np.ndarray, *, lr: float = 0.01, decay: float = 0.01,
        batch_size: int = 32, epochs: int = 100, rng: np.random.Generator | None = None,
        log=None, should_stop=None) -> list[float]:
    """Adam on x_ids, y_ids int (Tx, m) (-1 in x_ids: the zero vector), shuffled into batches every epoch as
    Keras does. Returns the loss of every epoch (mean over its batches); `log(epoch, loss)` after each.
    should_stop (a seqlab.stopping.StopFlag or any callable) is polled after each epoch: when True, training
    ends there and the history is shorter than `epochs`."""
    rng = np.random.default_rng(0) if rng is None else rng
    with threadpool_limits(limits=1, user_api="blas"):  # matrices this small only lose time to threads
        return _fit(model, x_ids, y_ids, lr, decay, batch_size, epochs, rng, log, should_stop)


def _fit(model, x_ids, y_ids, lr, decay, batch_size, epochs, rng, log, should_stop=None) -> list[float]:
    m = y_ids.shape[1]
    opt = Adam(model.layers, lr=lr)
    history, iterations = [], 0
    for epoch in range(epochs):
        order = rng.permutation(m)
        losses = []
        for b0 in range(0, m, batch_size):
            batch = order[b0:b0 + batch_size]
            opt.lr = lr / (1.0 + decay * iterations)
            losses.append(model.loss_and_grads(x_ids[:, batch], y_ids[:, batch]))
            opt.step()
            iterations += 1
        history.append(float(np.mean(losses)))
        if log is not None:
            log(epoch, history[-1])
        if should_stop is not None and should_stop():
            break
    return history


def train_model(corpus: MusicCorpus, *, m: int = 60, Tx: int = 30, n_a: int = 64, lr: float = 0.01,
                decay: float = 0.01, batch_size: int = 32, epochs: int = 100, seed: int = 0,
                log=None, should_stop=None) -> tuple[JazzModel, list[float]]:
    """Train a JazzModel on `m` random windows of `Tx` values of `corpus`; returns it and the epoch losses."""
    rng = np.random.default_rng(seed)
    x, y = training_windows(corpus.indices(), m=m, Tx=Tx, rng=rng)   # (Tx, m) each
    model = JazzModel(corpus.n_values, n_a, rng=rng)
    history = fit(model, x, y, lr=lr, decay=decay, batch_size=batch_size, epochs=epochs, rng=rng, log=log,
                  should_stop=should_stop)
    return model, history


def train_bundle(section, log=None, should_stop=None, **settings) -> JazzBundle:
    """Corpus of `section`, a model trained on it, and everything generation needs, in one bundle.

    Stopped early by `should_stop` (see `fit`), the bundle's info has "epochs_trained" < settings' epochs."""
    opts = {**SETTINGS, **settings}
    corpus = build_corpus(section)
    if len(corpus.values) <= opts["Tx"]:
        raise UserError(f"the solo in {section.source.get('file', 'the file')} has only {len(corpus.values)} "
                        f"values; training needs more than Tx={opts['Tx']} (choose a longer section)")
    model, history = train_model(corpus, log=log, should_stop=should_stop, **opts)
    info = {"source": section.source, "settings": opts, "loss": [round(v, 4) for v in history],
            "epochs_trained": len(history)}
    return JazzBundle(model, corpus.vocab, corpus.chords, corpus.beats, corpus.training, info)


def build_jazz_model(path=None, midi=None, log=None, should_stop=None) -> dict:
    """Train on the course's Metheny solo and write the bundled model (src/seqlab/pretrained/jazz.npz by default).

    `midi` defaults to the Metheny file in the seqlab data cache. The quality figures of the solo that
    `seqlab jazz --seed 0` plays are measured and stored in the model's metadata. Returns a summary:
    path, bytes, train_seconds, loss (first and last epoch), quality, command.
    """

    midi = data.path("metheny") if midi is None else midi
    t0 = time.perf_counter()
    bundle = train_bundle(load_section(midi), log=log, should_stop=should_stop)
    if bundle.info["epochs_trained"] < bundle.info["settings"]["epochs"]:
        raise Interrupted(f"at epoch {bundle.info['epochs_trained']} of {bundle.info['settings']['epochs']}")
    seconds = round(time.perf_counter() - t0, 1)
    solo = improvise(bundle, measures=16, seed=0)
    figures = quality.report(solo.notes, solo.chords, bundle.training)
    bundle.info.update(quality_seed0=figures, train_seconds=seconds, command=COMMAND)
    out = save_bundle(default_path() if path is None else path, bundle)
    return {"path": str(out), "bytes": out.stat().st_size, "train_seconds": seconds,
            "loss": [bundle.info["loss"][0], bundle.info["loss"][-1]], "quality": figures, "command": COMMAND}
