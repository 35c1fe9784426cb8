"""The mutable state of one training run, and what its checkpoint holds.

A training checkpoint is a LanguageModel's file (seqlab.text.model: the "model.*" parameters,
"data.training_lines" and the metadata "kind", "config", "vocab", "normalize", "mode") plus the keys below.
They are everything the next step depends on, so a resumed run continues bit for bit.

    arrays
    model.<param>           the best parameters on the held-out split so far; the current ones when there is
                            no held-out split, or at the end when the last parameters score better
    resume.param.<param>    the current parameters, to continue from
    resume.best.<param>     the best parameters, when model.* holds the current ones (written at the end)
    resume.ema.<param>      --ema: the moving average of the parameters (what model.* holds instead of the
                            current ones, and what is evaluated)
    resume.opt.<name>       the optimizer's state_dict (Adam: step count "t", moments "m.<i>", "v.<i>")
    resume.state.<k>.<j>    stream mode: layer k's carried recurrent state, j = 0: h (B, H), j = 1: c (B, H)

    metadata
    step                    optimizer steps taken
    train.config            the TrainConfig, as a dict
    train.rng               the dropout generator's bit_generator state
    train.data_sha256       the corpus checksum (a resume on another corpus is refused)
    train.best              {"step", "nats_per_char"} of the best held-out evaluation (None, None before one)
    train.bad_evals         evaluations since the best one (early stopping counts them)
    train.stopped_early     whether early stopping ended the run
    train.acc               [training loss sum, count] since the last evaluation
    train.history           {"step": [...], "train": [...], "heldout": [...]}: the evaluations, for the plot
    train.final             whether the run had finished when this was written
    train.init              the model the run's parameters started from (seqlab train --init), or None
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import numpy as np

from seqlab.engine import Adam
from seqlab.errors import UserError
from seqlab.text.data import LinesData, StreamData
from seqlab.text.model import CharModel, LanguageModel
from seqlab.text.train_config import TrainConfig

PARAM, BEST, OPT, STATE, EMA = "resume.param.", "resume.best.", "resume.opt.", "resume.state.", "resume.ema."


def _prefixed(prefix: str, arrays: dict) -> dict:
    return {prefix + k: v for k, v in arrays.items()}


def _unprefixed(prefix: str, arrays: dict) -> dict:
    return {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}


def _state_arrays(states) -> dict[str, np.ndarray]:
    """Per-layer states [h | (h, c), ...] (or None) -> {"resume.state.<k>.<j>": array}."""
    out = {}
    for k, s in enumerate(states or []):
        for j, a in enumerate(s if isinstance(s, tuple) else (s,)):
            out[f"{STATE}{k}.{j}"] = a
    return out


def _states_from(arrays: dict, layers: int, cell: str):
    if f"{STATE}0.0" not in arrays:
        return None
    if cell == "lstm":
        return [(arrays[f"{STATE}{k}.0"], arrays[f"{STATE}{k}.1"]) for k in range(layers)]
    return [arrays[f"{STATE}{k}.0"] for k in range(layers)]


class Run:
    """One run: the model, its optimizer, the step, the dropout generator, the carried state, the best
    parameters and the evaluation history. A fresh run from `cfg` is built here; `restore` continues one."""

    def __init__(self, cfg: TrainConfig, data: LinesData | StreamData):
        self.cfg, self.data = cfg, data
        model = CharModel(data.vocab.size, dtype=np.float32, rng=np.random.default_rng(cfg.seed),
                          **cfg.model_config())
        self.rng = np.random.default_rng([cfg.seed, 1])   # dropout masks
        model.set_dropout_rng(self.rng)
        lines = frozenset(data.training_lines) if data.training_lines is not None else None
        self.lm = LanguageModel(model, data.vocab, cfg.lower, cfg.mode, lines)
        self.opt = Adam(model.layers, lr=cfg.lr)
        self.step = 0
        self.states = None        # stream mode: the recurrent state carried to the next batch
        self.best_arrays = None   # parameters at the best held-out score
        self.best = {"step": None, "nats_per_char": None}
        self.bad_evals = 0
        self.stopped_early = False
        self.acc = [0.0, 0]       # training loss sum and count since the last evaluation
        self.history = {"step": [], "train": [], "heldout": []}
        self.init = None          # the model the parameters started from (--init), if any
        self.ema = None           # --ema: the average of the parameters by name (started at the first step)

    def update_ema(self) -> None:
        """avg ← D·avg + (1 − D)·param for every parameter (D = cfg.ema), after a step; the first step's
        parameters start it."""
        current = self.lm.model.arrays()
        if self.ema is None:
            self.ema = current
            return
        d = self.cfg.ema
        for name, avg in self.ema.items():
            avg *= d
            avg += (1.0 - d) * current[name]

    @contextmanager
    def evaluated(self):
        """The parameters that are evaluated and written meanwhile in the model: the average with --ema (the
        current ones come back after), else the current ones."""
        if self.ema is None:
            yield
            return
        current = self.lm.model.arrays()
        self.lm.model.load_arrays(self.ema)
        try:
            yield
        finally:
            self.lm.model.load_arrays(current)

    def save(self, path: Path, final: bool, use_current: bool = False, scored: dict | None = None) -> None:
        """Checkpoint: model.* = best parameters (or the current ones with use_current or no held-out);
        `scored`, {step, nats_per_char} of the parameters written, goes to meta train.model (train.best stays
        the best evaluation, which a resume continues from)."""
        model = self.lm.model
        current = model.arrays()
        extra = _prefixed(PARAM, current)
        if use_current and self.best_arrays is not None:  # keep the best for a later resume
            extra.update(_prefixed(BEST, self.best_arrays))
        extra.update(_prefixed(OPT, self.opt.state_dict()))
        extra.update(_state_arrays(self.states))
        if self.ema is not None:
            extra.update(_prefixed(EMA, self.ema))
        meta = {"step": self.step, "train": {
            "config": asdict(self.cfg), "rng": self.rng.bit_generator.state, "data_sha256": self.data.sha256,
            "best": self.best, "bad_evals": self.bad_evals, "stopped_early": self.stopped_early,
            "acc": self.acc, "history": self.history, "final": final, "init": self.init}}
        if scored is not None:
            meta["train"]["model"] = scored
        if self.best_arrays is not None and not use_current:
            model.load_arrays(self.best_arrays)
        elif self.ema is not None:   # the current parameters' average is the model
            model.load_arrays(self.ema)
        try:
            self.lm.save(path, extra, meta)
        finally:
            model.load_arrays(current)

    def restore(self, arrays: dict, meta: dict) -> None:
        """Continue from a checkpoint's (arrays, meta) (checked first with `check_resumable`)."""
        t = meta["train"]
        self.lm.model.load_arrays(_unprefixed(PARAM, arrays))
        self.opt.load_state_dict(_unprefixed(OPT, arrays))
        self.rng.bit_generator.state = t["rng"]
        self.states = _states_from(arrays, self.cfg.layers, self.cfg.cell)
        self.step = int(meta["step"])
        self.best, self.bad_evals = t["best"], int(t["bad_evals"])
        self.stopped_early, self.acc, self.history = bool(t["stopped_early"]), t["acc"], t["history"]
        self.init = t.get("init")
        self.ema = _unprefixed(EMA, arrays) or None
        if self.best["step"] is not None:
            prefix = BEST if any(k.startswith(BEST) for k in arrays) else "model."
            self.best_arrays = _unprefixed(prefix, arrays)


def check_resumable(path: Path, arrays: dict, meta: dict, data: LinesData | StreamData, steps: int) -> None:
    """UserError unless the checkpoint (arrays, meta) read from `path` can resume a run on this corpus."""
    if "train" not in meta or f"{OPT}t" not in arrays:
        raise UserError(f"{path} has no training state to resume from (a bundled or exported model)")
    if meta["train"]["data_sha256"] != data.sha256:
        raise UserError(f"{path} was trained on a different corpus (sha256 {meta['train']['data_sha256']}, "
                        f"this one is {data.sha256})")
    if int(meta["step"]) >= steps:
        raise UserError(f"{path} is already at step {meta['step']}; ask for more --steps than that to resume")
    if meta["train"]["stopped_early"]:
        raise UserError(f"{path} stopped early at step {meta['step']} (no held-out improvement); "
                        f"nothing to resume")
