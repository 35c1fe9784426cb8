"""A character-level language model on the engine, and the file format that carries it.

    ids (T, B) -> one-hot or embedding x (T, B, D) -> Stack of RNN|LSTM|GRU (T, B, H) -> dropout -> Dense
    -> logits (T, B, V) -> softmax

`CharModel` is the network alone; `LanguageModel` bundles it with what is needed to use it on text: the
vocabulary, the normalisation (lower-casing), the corpus mode ("lines" or "stream") and the training lines
(for the novelty count). `load_model` takes a path or the name of a model bundled in `seqlab/pretrained/`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from seqlab import engine
from seqlab.checkpoint import (
    BUNDLED_DIR,
    JAZZ_KIND,
    TEXT_KIND,
    finite_or_refuse,
    is_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from seqlab.engine import Dense, Dropout, Embedding, OneHot, Stack, init, softmax_cross_entropy
from seqlab.engine.activations import log_softmax
from seqlab.engine.base import check_ids, generator, load_named_arrays, named_arrays, sizes
from seqlab.errors import UserError
from seqlab.text.train_config import CELLS as CELL_NAMES
from seqlab.text.train_config import MODES
from seqlab.text.vocab import Vocabulary, normalize

CELLS = {name: getattr(engine, name.upper()) for name in CELL_NAMES}   # "lstm" -> seqlab.engine.LSTM
START = "\n"  # the start token of a line and its end, as in the course


class CharModel:
    """The network: input encoding -> stacked recurrent layers -> Dense over the vocabulary.

    vocab_size V; cell "rnn"|"lstm"|"gru"; hidden H units in each of `layers` layers; `dropout` between
    layers, on the embedded inputs and before the Dense layer (training only); weight_drop: DropConnect on
    the recurrent weights W_h, one mask per batch shared by all steps (training only); variational: the
    dropout masks are drawn once per sequence, (1, B, ·), and used at every step (training only); embed = 0 for
    one-hot inputs (D = V), else an Embedding of that size (D = embed). States are a list with one entry
    per layer: h (B, H), or (h, c) for an LSTM; None means zeros.
    """

    def __init__(self, vocab_size: int, cell: str = "lstm", hidden: int = 128, layers: int = 1,
                 dropout: float = 0.0, embed: int = 0, forget_bias: float = 1.0, weight_drop: float = 0.0,
                 variational: bool = False, *, dtype=np.float32,
                 rng: np.random.Generator | None = None):
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
        if not (0.0 <= dropout < 1.0 and 0.0 <= weight_drop < 1.0):
            raise ValueError(f"dropout and weight_drop must be in [0, 1), got {dropout} and {weight_drop}")
        sizes(vocab_size=vocab_size, hidden=hidden, layers=layers)   # whole numbers: hidden=2.7 was 2
        if embed != 0:
            sizes(embed=embed)
        if vocab_size < 2:
            raise ValueError(f"vocab_size must be at least 2, got {vocab_size}")
        if not math.isfinite(forget_bias):
            raise ValueError(f"forget_bias must be a finite number, got {forget_bias}")
        rng = generator(rng)
        self.vocab_size, self.cell, self.hidden = int(vocab_size), cell, int(hidden)
        self.num_layers, self.dropout, self.embed = int(layers), float(dropout), int(embed)
        self.forget_bias, self.weight_drop = float(forget_bias), float(weight_drop)
        if not isinstance(variational, bool):
            raise TypeError(f"variational must be true or false, got {variational!r}")
        self.variational = variational
        shared = 0 if variational else None   # the time axis of (T, B, ·)
        self.drop_rng = rng
        self.dtype = np.dtype(dtype)
        V, H = self.vocab_size, self.hidden
        self.input = (Embedding(V, self.embed, dtype=dtype, rng=rng) if self.embed
                      else OneHot(V, dtype=dtype))
        D = self.embed or V
        kw = {"forget_bias": self.forget_bias} if cell == "lstm" else {}
        self.rnn = Stack([CELLS[cell](D if k == 0 else H, H, dtype=dtype, rng=rng, **kw)
                          for k in range(self.num_layers)], dropout=self.dropout, rng=rng, shared_axis=shared)
        self.in_dropout = Dropout(self.dropout if self.embed else 0.0, rng, shared)
        self.out_dropout = Dropout(self.dropout, rng, shared)
        self.dense = Dense(H, V, dtype=dtype, rng=rng)
        # What the optimizers walk (seqlab.engine.optim.parameters), in a fixed order.
        self.layers = [self.input, self.rnn, self.dense]

    # --- configuration and parameters ------------------------------------------------------------------
    def config(self) -> dict:
        return {"vocab_size": self.vocab_size, "cell": self.cell, "hidden": self.hidden,
                "layers": self.num_layers, "dropout": self.dropout, "embed": self.embed,
                "forget_bias": self.forget_bias, "weight_drop": self.weight_drop, "variational": self.variational,
                "dtype": self.dtype.name}

    @classmethod
    def from_config(cls, config: dict, rng=None) -> CharModel:
        c = dict(config)
        dtype = np.dtype(c.pop("dtype", "float32"))
        return cls(**c, dtype=dtype, rng=rng)

    def set_dropout_rng(self, rng: np.random.Generator) -> None:
        """Make every dropout draw from `rng` (the trainer saves its state so a resumed run is exact)."""
        for d in [self.in_dropout, *self.rnn.dropouts, self.out_dropout]:
            d.rng = rng
        self.drop_rng = rng

    def named_layers(self) -> list[tuple[str, object]]:
        out = [("embed", self.input)] if self.embed else []
        out += [(f"rnn.{k}", layer) for k, layer in enumerate(self.rnn.layers)]
        return out + [("dense", self.dense)]

    def arrays(self) -> dict[str, np.ndarray]:
        """Every parameter by name ("rnn.0.W_x" (D, G·H), "dense.W" (H, V), ...): copies."""
        return named_arrays(self.named_layers())

    def load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Copy parameters in from `arrays` (names as in `arrays()`); ValueError on a missing/misshapen one."""
        load_named_arrays(self.named_layers(), arrays)

    @property
    def num_params(self) -> int:
        return sum(layer.num_params for _, layer in self.named_layers())

    # --- computation -------------------------------------------------------------------------------------
    def _logits(self, ids: np.ndarray, states, cache: bool, training: bool):
        # One-hot inputs go to the first recurrent layer as ids (T, B): a row lookup, the same numbers.
        x = self.input.forward(ids, cache=cache) if self.embed else check_ids(ids, self.vocab_size)
        x = self.in_dropout.forward(x, training=training)
        h, states = self.rnn.forward(x, states, cache=cache, training=training)  # (T, B, H)
        h = self.out_dropout.forward(h, training=training)
        return self.dense.forward(h, cache=cache), states             # (T, B, V)

    def loss_and_grads(self, ids_in: np.ndarray, ids_target: np.ndarray, mask: np.ndarray | None = None,
                       states=None, training: bool = True):
        """Forward and backward over one batch; sets every layer's grads to d(mean loss)/d(param).

        ids_in, ids_target (T, B) ints in [0, V); mask (T, B) bool or None (all count); states as above.
        Returns (loss_sum in nats over the counted positions, count, final states). The final states are
        plain arrays: passing them to the next batch carries the state without backpropagating into it.
        """
        T, B = ids_in.shape
        if ids_target.shape != (T, B) or (mask is not None and mask.shape != (T, B)):
            raise ValueError(f"ids_target and mask must have shape {(T, B)} like ids_in, got "
                             f"{ids_target.shape} and {None if mask is None else mask.shape}")
        saved = self._drop_weights() if training and self.weight_drop else None
        try:
            logits, states = self._logits(ids_in, states, cache=True, training=training)
            V = self.vocab_size
            loss_sum, count, dlogits = softmax_cross_entropy(
                logits.reshape(T * B, V), ids_target.reshape(T * B),
                None if mask is None else mask.reshape(T * B))
            dlogits *= 1.0 / max(count, 1)
            dh = self.dense.backward(dlogits.reshape(T, B, V).astype(self.dtype, copy=False))
            dh = self.out_dropout.backward(dh)
            trainable_input = bool(self.input.params)   # an embedding, not a fixed one-hot
            dx, _ = self.rnn.backward(dh, need_dx=trainable_input, need_dstate=False)   # states are not trained
            if trainable_input:
                self.input.backward(self.in_dropout.backward(dx))
        finally:
            if saved is not None:
                self._restore_weights(saved)
        return loss_sum, count, states

    def _drop_weights(self):
        """Replace each W_h by W_h ∗ m/(1 − p), m ~ Bernoulli(1 − p); returns [(W_h, original, scaled m)]."""
        keep = 1.0 - self.weight_drop
        saved = []
        for layer in self.rnn.layers:
            W = layer.params["W_h"]
            m = (self.drop_rng.random(W.shape) < keep).astype(W.dtype) / W.dtype.type(keep)
            saved.append((W, W.copy(), m))
            W *= m
        return saved

    def _restore_weights(self, saved) -> None:
        """Put the original W_h back; dL/dW_h = dL/d(W_h ∗ m') ∗ m' by the chain rule."""
        for layer, (W, original, m) in zip(self.rnn.layers, saved):
            W[...] = original
            layer.grads["W_h"] *= m

    def log_probs(self, ids: np.ndarray, states=None):
        """Inference over a sequence: ids (T, B) -> (log-probabilities (T, B, V) float64, final states)."""
        logits, states = self._logits(ids, states, cache=False, training=False)
        return log_softmax(logits.astype(np.float64)), states

    def step(self, ids: np.ndarray, states=None):
        """One step for sampling: ids (B,) -> (log-probabilities (B, V) float64, new states)."""
        lp, states = self.log_probs(np.asarray(ids).reshape(1, -1), states)
        return lp[0], states


@dataclass
class LanguageModel:
    """A trained CharModel with what using it on text needs.

    lower: whether text is lower-cased first (the normalisation); mode: "lines" or "stream";
    training_lines: the lines it was trained on (lines mode, for the novelty count), or None;
    meta: the checkpoint metadata it came from.
    """

    model: CharModel
    vocab: Vocabulary
    lower: bool = True
    mode: str = "lines"
    training_lines: frozenset[str] | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.model.vocab_size != self.vocab.size:
            raise ValueError(f"the model reads {self.model.vocab_size} characters but the vocabulary has "
                             f"{self.vocab.size}; expected the vocabulary the model was trained with")
        if START not in self.vocab.char_to_ix:
            raise ValueError("the vocabulary has no '\\n', which starts and ends every line a model reads")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")

    def normalize(self, text: str) -> str:
        return normalize(text, lower=self.lower)

    def encode(self, text: str) -> np.ndarray:
        """Normalised text -> ids (L,) int64; a character outside the vocabulary is a UserError."""
        return self.vocab.encode(self.normalize(text))

    @property
    def start_id(self) -> int:
        return self.vocab.char_to_ix[START]

    def to_checkpoint(self, extra_arrays: dict | None = None, extra_meta: dict | None = None):
        """(arrays, meta) for seqlab.checkpoint.save_checkpoint."""
        arrays = {f"model.{k}": v for k, v in self.model.arrays().items()}
        if self.training_lines is not None:
            text = "\n".join(sorted(self.training_lines))
            arrays["data.training_lines"] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
        arrays.update(extra_arrays or {})
        meta = {"kind": TEXT_KIND, "config": self.model.config(), "vocab": self.vocab.to_json(),
                "normalize": {"lower": self.lower}, "mode": self.mode}
        meta.update(extra_meta or {})
        return arrays, meta

    def save(self, path, extra_arrays: dict | None = None, extra_meta: dict | None = None) -> None:
        """Write one checkpoint file atomically (the arrays and meta of `to_checkpoint`)."""

        save_checkpoint(path, *self.to_checkpoint(extra_arrays, extra_meta))

    @classmethod
    def from_checkpoint(cls, arrays: dict, meta: dict, source: str = "checkpoint") -> LanguageModel:
        """Inverse of `to_checkpoint`; UserError when the file holds something other than a usable char
        model: wrong kind, settings of the wrong type, arrays of the wrong shape or dtype, NaN or inf."""

        if meta.get("kind") != TEXT_KIND:
            jazz = "; it is a jazz model: play it with `seqlab jazz --model`" if meta.get("kind") == JAZZ_KIND else ""
            raise UserError(f"{source} is a seqlab checkpoint but not a character-level text model{jazz}")
        weights = {k[len("model."):]: v for k, v in arrays.items() if k.startswith("model.")}
        try:
            _check_config(meta["config"], weights)
            with init.skipped():                   # the weights are loaded next
                model = CharModel.from_config(meta["config"], rng=np.random.default_rng(0))
            model.load_arrays(weights)
            vocab = Vocabulary.from_json(meta["vocab"])
            mode = meta["mode"]
            lower = meta["normalize"]["lower"]
            if not isinstance(lower, bool):
                raise TypeError(f"normalize.lower is {type(lower).__name__}, expected true or false")
            lines = None
            if "data.training_lines" in arrays:
                raw = arrays["data.training_lines"]
                if raw.dtype != np.uint8 or raw.ndim != 1:
                    raise TypeError(f"data.training_lines is {raw.dtype} {raw.shape}, expected uint8 bytes")
                lines = frozenset(raw.tobytes().decode("utf-8").split("\n"))
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
            raise UserError(f"{source} has an inconsistent text model ({type(exc).__name__}: {exc})") from None
        if mode not in MODES or vocab.size != model.vocab_size:
            raise UserError(f"{source} has an inconsistent text model (mode {mode!r}, "
                            f"{vocab.size} characters for {model.vocab_size} outputs)")
        finite_or_refuse(weights, source)
        try:
            return cls(model, vocab, lower, mode, lines, meta)
        except ValueError as exc:           # a vocabulary without '\n'
            raise UserError(f"{source} has an inconsistent text model ({exc})") from None


def _check_config(config, weights: dict) -> None:
    """TypeError/ValueError unless `config` (checkpoint metadata) describes exactly the arrays in `weights`:
    checked before a model is built, so a hostile file can't make us allocate what its numbers claim."""
    if not isinstance(config, dict):
        raise TypeError(f"config is {type(config).__name__}, expected an object")
    for key in ("vocab_size", "hidden", "layers", "embed"):
        if type(config.get(key)) is not int:
            raise TypeError(f"config.{key} is {config.get(key)!r}, expected an integer")
    for key in ("dropout", "forget_bias", "weight_drop"):
        if type(config.get(key)) not in (int, float):
            raise TypeError(f"config.{key} is {config.get(key)!r}, expected a number")
    if type(config.get("variational", False)) is not bool:   # older files have none: False
        raise TypeError(f"config.variational is {config.get('variational')!r}, expected true or false")
    if config.get("dtype", "float32") not in ("float32", "float64"):
        raise ValueError(f"config.dtype is {config.get('dtype')!r}, expected float32 or float64")
    if config.get("cell") not in CELLS:
        raise ValueError(f"config.cell is {config.get('cell')!r}, expected one of {', '.join(CELLS)}")
    V, H, L, E = (config[k] for k in ("vocab_size", "hidden", "layers", "embed"))
    G = {"rnn": 1, "lstm": 4, "gru": 3}[config["cell"]]
    expect = {"dense.W": (H, V), "dense.b": (V,)}
    if E:
        expect["embed.W"] = (V, E)
    layers = sum(1 for k in weights if k.startswith("rnn.") and k.endswith(".W_x"))
    if L != layers:
        raise ValueError(f"config.layers is {L}, the file has {layers} recurrent layer(s)")
    for k in range(L):
        expect.update({f"rnn.{k}.W_x": ((E or V) if k == 0 else H, G * H), f"rnn.{k}.W_h": (H, G * H)})
    for name, shape in expect.items():
        got = weights.get(name)
        if got is None or got.shape != shape:
            raise ValueError(f"{name} should have shape {shape}, "
                             f"got {None if got is None else got.shape}")
    for name, a in weights.items():
        if a.dtype.kind != "f":
            raise TypeError(f"{name} has dtype {a.dtype}, expected floating point")


def bundled_models(kind: str | None = None) -> list[str]:
    """Names of the models shipped in seqlab/pretrained/ (files <name>.npz); with `kind`, only those whose
    checkpoint is of that kind ("char-model": not the jazz model)."""
    paths = sorted(BUNDLED_DIR.glob("*.npz"))
    return [p.stem for p in paths if kind is None or load_checkpoint(p)[1].get("kind") == kind]


def bundled_model(name: str) -> Path | None:
    """The file of the model bundled as `name` ("dinos"), or None when no bundled model has that name."""
    if "/" in name or os.sep in name:
        return None
    path = BUNDLED_DIR / f"{name}.npz"
    return path if path.is_file() else None


def resolve_model(name_or_path: str | os.PathLike) -> Path:
    """An existing path as given; else the bundled model of that name; else UserError naming both options.

    A bundled model's name ("dinos") is shadowed only by a seqlab checkpoint of that name in the current
    folder: a text file or a folder called `dinos` there used to make even `seqlab names` fail."""
    p = Path(name_or_path)
    bundled = bundled_model(name_or_path) if isinstance(name_or_path, str) else None
    if p.exists() and (bundled is None or is_checkpoint(p)):
        return p
    if bundled is not None:
        return bundled
    names = ", ".join(bundled_models(TEXT_KIND)) or "none installed; run `make models`"
    raise UserError(f"{name_or_path}: no such model file; expected a checkpoint path or a bundled model "
                    f"name ({names})")


def load_model(name_or_path: str | os.PathLike) -> LanguageModel:
    """A LanguageModel from a checkpoint path or a bundled model name ("dinos")."""

    path = resolve_model(name_or_path)
    arrays, meta = load_checkpoint(path)
    return LanguageModel.from_checkpoint(arrays, meta, source=str(path))
