"""The settings of a training run: one table, from which `seqlab train`'s flags, their help and their checks come.

Each field of TrainConfig is one option: `--name-with-dashes`, its type from the annotation, its default, and in
its metadata the help text, a metavar, the allowed choices (taken from the code's own tables) and the check of
its value. A new option is one line here. Light to import: the command line builds its parser from this module.
"""

from __future__ import annotations

import math
from dataclasses import Field, dataclass, field, fields

from seqlab.errors import UserError
from seqlab.values import is_number, is_whole

MODES = ("lines", "stream")        # seqlab.text.data has one class for each
CELLS = ("rnn", "lstm", "gru")     # the recurrent layers of a character model (seqlab.text.model.CELLS)
BACKENDS = ("numpy", "torch")      # what computes a step (seqlab.training.engine_for)
RUNTIME = ("backend", "device", "devices", "allow_divergence")   # how a run computes (and what it tolerates),
# not what: a resume takes them from its caller


def option(default, help: str = "", *, metavar: str | None = None, choices: tuple | None = None,
           check: tuple | None = None, flag: str | None = None):
    """A TrainConfig field. check: (predicate of the value, what a good value is, for the error message);
    flag: the command-line flag when it is not --name-with-dashes (a bool's flag flips its default)."""
    return field(default=default, metadata={"help": help, "metavar": metavar, "choices": choices,
                                            "check": check, "flag": flag})


AT_LEAST_1 = (lambda v: int(v) >= 1, "at least 1")
AT_LEAST_0 = (lambda v: v >= 0, "at least 0")
FRACTION = (lambda v: 0.0 <= v < 1.0, "in [0, 1)")


@dataclass
class TrainConfig:
    """Everything that defines a run. `steps` is the total number of optimizer steps."""

    mode: str = option("lines", "lines: one example a line; stream: continuous text, truncated BPTT",
                       choices=MODES)
    cell: str = option("lstm", "the recurrent layer", choices=CELLS)
    hidden: int = option(128, "units per layer", metavar="N", check=AT_LEAST_1)
    layers: int = option(1, "recurrent layers", metavar="N", check=AT_LEAST_1)
    dropout: float = option(0.0, "dropout between layers and before the output layer", metavar="P",
                            check=FRACTION)
    embed: int = option(0, "embedding size; 0 for one-hot inputs", metavar="N", check=AT_LEAST_0)
    forget_bias: float = option(1.0, "LSTM: initial bias of the forget gate (in stream mode with one-hot inputs "
                                "and no dropout, 0 keeps the carried cell states bounded; README: the "
                                "tiny-shakespeare benchmark)", metavar="B",
                                check=(math.isfinite, "a finite number"))
    weight_drop: float = option(0.0, "DropConnect on the recurrent weights W_h", metavar="P", check=FRACTION)
    variational: bool = option(False, "--dropout's masks drawn once per sequence and used at every step "
                                      "(variational dropout) instead of one per step")
    lower: bool = option(True, "do not lower-case the text", flag="--keep-case")
    vocab_from: str = option("", "take the vocabulary from this text file or dataset (normalised as the corpus) "
                                 "instead of the corpus, so that a model pre-trained here fits a later --init; "
                                 "the corpus must use only its characters", metavar="FILE")
    steps: int = option(2000, "total optimizer steps of the run", metavar="N", check=AT_LEAST_1)
    batch_size: int = option(32, metavar="B", check=AT_LEAST_1)
    seq_len: int = option(100, "stream mode: steps of truncated backpropagation", metavar="S", check=AT_LEAST_1)
    lr: float = option(2e-3, "Adam learning rate", check=(lambda v: v > 0 and math.isfinite(v),
                                                          "a positive number"))
    weight_decay: float = option(0.0, "decoupled (AdamW) decay of the weight matrices, per unit of lr: "
                                      "W ← W·(1 − lr·WD) before each Adam step", metavar="WD", check=AT_LEAST_0)
    ema: float = option(0.0, "evaluate, keep and write an exponential moving average of the parameters, "
                             "avg ← D·avg + (1 − D)·param after each step; 0 for none", metavar="D",
                        check=FRACTION)
    clip: float = option(5.0, "clip gradients to this global norm; 0 for none", metavar="NORM", check=AT_LEAST_0)
    warmup: int = option(0, "linear warm-up steps", metavar="N", check=AT_LEAST_0)
    decay_steps: int = option(0, "cosine decay of the learning rate over N steps to --min-lr-ratio of it; "
                                 "0 keeps it constant", metavar="N", check=AT_LEAST_0)
    min_lr_ratio: float = option(0.1, metavar="R", check=(lambda v: 0.0 <= v <= 1.0, "in [0, 1]"))
    holdout: float = option(0.1, "fraction held out to score nats/char (lines: random lines; stream: the end)",
                            metavar="F", check=(lambda v: 0.0 <= v <= 0.5, "in [0, 0.5]"))
    eval_every: int = option(100, metavar="N", check=AT_LEAST_1)
    patience: int = option(0, "stop after N held-out evaluations without improvement; 0 never stops early",
                           metavar="N", check=AT_LEAST_0)
    checkpoint_every: int = option(500, metavar="N", check=AT_LEAST_0)
    sample_every: int = option(500, "print samples every N steps; 0 for none", metavar="N", check=AT_LEAST_0)
    seed: int = option(0, check=AT_LEAST_0)
    backend: str = option("numpy", "what computes the steps: seqlab's NumPy engine, or PyTorch (pip install "
                                   "'seqlab[torch]'); the checkpoint is the same either way", choices=BACKENDS)
    device: str = option("cpu", "--backend torch: cpu, cuda or cuda:N", metavar="DEV",
                         check=(lambda v: v in ("cpu", "cuda") or (v.startswith("cuda:") and v[5:].isdigit()),
                                "cpu, cuda or cuda:N"))
    devices: int = option(1, "--backend torch: data-parallel processes on this machine (torch.distributed; "
                             "with --device cuda one GPU each); --batch-size is split between them",
                          metavar="N", check=AT_LEAST_1)
    allow_divergence: bool = option(False, "keep training when the loss has stayed above 3 × ln V (far worse "
                                           "than a uniform guess) for 100 steps, with one warning, instead of "
                                           "stopping as diverged (exit status 3)", flag="--allow-divergence")

    def check(self) -> None:
        """UserError naming the first bad value: first of the wrong type (hidden=2.5 used to build 2 units,
        steps=2.5 to run 3), then outside its range or choices."""
        for f in fields(self):
            value = getattr(self, f.name)
            if not _TYPES[f.type](value):
                raise UserError(f"{flag(f)} must be {_WANT[f.type]}, got {value!r}")
        for f in fields(self):
            value, choices, check = getattr(self, f.name), f.metadata["choices"], f.metadata["check"]
            want = (f"one of {', '.join(choices)}" if choices is not None and value not in choices
                    else check[1] if check is not None and not check[0](value) else None)
            if want is not None:
                raise UserError(f"{flag(f)} must be {want}, got {value!r}")
        if self.patience and self.holdout == 0:     # early stopping used to be silently inactive
            raise UserError("--patience watches the held-out score, but --holdout 0 holds nothing out")
        if self.patience and self.eval_every > self.steps:
            raise UserError(f"--patience counts evaluations, but --eval-every {self.eval_every} is more than the "
                            f"run's {self.steps} steps")

    def check_used(self, init: bool = False) -> None:
        """UserError for a setting given off its default that this run would not use (a new run's settings;
        `init`: the run starts from another model's weights)."""
        default = TrainConfig()

        def given(name):
            return getattr(self, name) != getattr(default, name)
        if given("forget_bias") and self.cell != "lstm":
            raise UserError(f"--forget-bias is the initial bias of an LSTM's forget gate; --cell {self.cell} has none")
        if given("forget_bias") and init:
            raise UserError("--forget-bias sets an initial bias, but --init gives the run all of its weights")
        if given("seq_len") and self.mode == "lines":
            raise UserError("--seq-len is the length of stream mode's pieces; lines mode trains on whole lines "
                            "(add --mode stream for continuous text)")
        if given("variational") and not self.dropout:
            raise UserError("--variational says how --dropout's masks are drawn; give --dropout P too")
        if given("min_lr_ratio") and not self.decay_steps:
            raise UserError("--min-lr-ratio is where --decay-steps' cosine decay ends; without --decay-steps the "
                            "learning rate stays constant")

    def model_config(self) -> dict:
        return {k: getattr(self, k) for k in ("cell", "hidden", "layers", "dropout", "embed", "forget_bias",
                                          "weight_drop", "variational")}

    @classmethod
    def from_json(cls, obj: dict) -> TrainConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in obj.items() if k in names})


# the annotations are strings here (from __future__ import annotations)
_TYPES = {"int": is_whole, "float": is_number, "bool": lambda v: isinstance(v, bool),
          "str": lambda v: isinstance(v, str)}
_WANT = {"int": "a whole number", "float": "a number", "bool": "true or false", "str": "a string"}


def flag(f: Field) -> str:
    """The command-line flag of a TrainConfig field."""
    return f.metadata["flag"] or "--" + f.name.replace("_", "-")


def command_args(cfg: TrainConfig, always: tuple[str, ...] = ("steps", "seed")) -> list[str]:
    """The `seqlab train` flags that give `cfg`: those of every field off its default, and of `always`."""
    args = []
    for f in fields(cfg):
        value = getattr(cfg, f.name)
        if isinstance(f.default, bool):
            if value != f.default:
                args.append(flag(f))
        elif value != f.default or f.name in always:
            args += [flag(f), str(value)]
    return args
