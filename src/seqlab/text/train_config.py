"""The settings of a training run (light to import: the command line reads its defaults from here)."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from seqlab.errors import UserError

MODES = ("lines", "stream")


@dataclass
class TrainConfig:
    """Everything that defines a run. `steps` is the total number of optimizer steps."""

    mode: str = "lines"
    cell: str = "lstm"
    hidden: int = 128
    layers: int = 1
    dropout: float = 0.0
    embed: int = 0            # 0: one-hot inputs
    forget_bias: float = 1.0
    weight_drop: float = 0.0  # DropConnect on the recurrent weights W_h
    lower: bool = True
    steps: int = 2000
    batch_size: int = 32
    seq_len: int = 100        # stream mode: truncated-BPTT length
    lr: float = 2e-3
    weight_decay: float = 0.0  # decoupled (AdamW-style) decay of the weight matrices, per unit of lr
    clip: float = 5.0         # max global gradient norm (0: no clipping)
    warmup: int = 0           # linear warm-up steps
    decay_steps: int = 0      # cosine decay from lr to lr·min_lr_ratio over this many steps (0: constant)
    min_lr_ratio: float = 0.1
    holdout: float = 0.1      # fraction held out (lines: random lines; stream: the end of the text)
    eval_every: int = 100
    patience: int = 0         # stop after this many held-out evaluations without improvement (0: never)
    checkpoint_every: int = 500
    sample_every: int = 500   # 0: no samples printed
    seed: int = 0

    def check(self) -> None:
        """UserError naming the first bad value."""
        def bad(name, want):
            raise UserError(f"--{name.replace('_', '-')} must be {want}, got {getattr(self, name)!r}")
        if self.mode not in MODES:
            bad("mode", "one of lines, stream")
        if self.cell not in ("rnn", "lstm", "gru"):
            bad("cell", "one of rnn, lstm, gru")
        for name in ("hidden", "layers", "steps", "batch_size", "seq_len", "eval_every"):
            if int(getattr(self, name)) < 1:
                bad(name, "at least 1")
        for name in ("embed", "warmup", "decay_steps", "patience", "checkpoint_every", "sample_every"):
            if int(getattr(self, name)) < 0:
                bad(name, "at least 0")
        if not 0.0 <= self.dropout < 1.0:
            bad("dropout", "in [0, 1)")
        if not 0.0 <= self.weight_drop < 1.0:
            bad("weight_drop", "in [0, 1)")
        if not 0.0 <= self.holdout <= 0.5:
            bad("holdout", "in [0, 0.5]")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            bad("lr", "a positive number")
        if not self.weight_decay >= 0:
            bad("weight_decay", "at least 0")
        if not self.clip >= 0:
            bad("clip", "at least 0")
        if not 0.0 <= self.min_lr_ratio <= 1.0:
            bad("min_lr_ratio", "in [0, 1]")

    def model_config(self) -> dict:
        return {k: getattr(self, k) for k in ("cell", "hidden", "layers", "dropout", "embed", "forget_bias",
                                          "weight_drop")}

    @classmethod
    def from_json(cls, obj: dict) -> TrainConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in obj.items() if k in names})
