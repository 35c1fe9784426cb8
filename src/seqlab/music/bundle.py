"""A trained jazz model in one file: its weights, the value vocabulary, the chord progression it improvises
over, and the training solo (to check a new solo does not copy it), as a seqlab checkpoint (.npz, no pickles).
An interrupted training's checkpoint is such a file with resume state beside the model (seqlab.music.train),
which loading ignores: it plays as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from seqlab.checkpoint import BUNDLED_DIR, JAZZ_KIND, finite_or_refuse, is_checkpoint, load_checkpoint, save_checkpoint
from seqlab.engine import init
from seqlab.errors import UserError
from seqlab.music.events import Chord, Note
from seqlab.music.model import JazzModel

KIND = JAZZ_KIND


def default_path() -> Path:
    """The model bundled with the package: src/seqlab/pretrained/jazz.npz."""

    return BUNDLED_DIR / "jazz.npz"


@dataclass
class JazzBundle:
    """model: the network; vocab: the values (index = output unit); progression: chords per measure
    (offsets from the bar line); training: the training solo's notes (absolute offsets)."""

    model: JazzModel
    vocab: list[str]
    progression: list[list[Chord]]
    beats: float
    training: list[Note]
    info: dict = field(default_factory=dict)  # source, training settings, loss history

    @property
    def register(self) -> tuple[int, int]:
        """Lowest and highest pitch of the training solo: the range a new solo is kept in."""
        ps = [n.pitch for n in self.training]
        return min(ps), max(ps)

    @property
    def home(self) -> int:
        """The training solo's median pitch: where a solo starts."""
        return int(np.median([n.pitch for n in self.training]))

    @property
    def profile(self) -> np.ndarray:
        """(12,) weights by pitch class: the training solo's share of time on each, plus a small floor so
        that no pitch class is impossible."""
        w = np.full(12, 0.01)
        for n in self.training:
            w[n.pitch % 12] += n.duration
        return w / w.sum()


def save_bundle(path, bundle: JazzBundle, extra_arrays: dict | None = None, extra_meta: dict | None = None) -> Path:
    """Write `bundle` to `path` atomically; extra_arrays and extra_meta go beside the model's (a training
    checkpoint's resume state: seqlab.music.train), and a reader of the model ignores them."""
    meta = {
        "kind": KIND,
        "n_values": bundle.model.n_values,
        "n_a": bundle.model.n_a,
        "vocab": bundle.vocab,
        "beats": bundle.beats,
        "progression": [[[c.offset, c.duration, list(c.pitches), c.carried] for c in m]
                        for m in bundle.progression],
        "training": [[n.offset, n.duration, n.pitch] for n in bundle.training],
        "info": bundle.info,
        **(extra_meta or {}),
    }
    save_checkpoint(path, {**bundle.model.arrays(), **(extra_arrays or {})}, meta)
    return Path(path)


def load_bundle(path=None) -> JazzBundle:
    """The bundle at `path` (the packaged model when None or "jazz", its name as `seqlab sample dinos` names
    the text models, unless a seqlab checkpoint of that name is in the current folder); UserError if it is
    missing or not a jazz model."""

    path = default_path() if path is None or (path == "jazz" and not is_checkpoint(path)) else Path(path)
    if not path.exists() and path == default_path():
        raise UserError(f"the bundled jazz model {path} is missing; build it with `make models` or train one "
                        f"with `seqlab jazz --train MIDI`")
    return bundle_from(path, *load_checkpoint(path))


def bundle_from(path, arrays: dict, meta: dict) -> JazzBundle:
    """The bundle in a checkpoint's (arrays, meta) read from `path`; UserError if it is not a usable jazz model.
    Arrays and metadata other than the model's (a training checkpoint's resume state) are ignored."""
    if meta.get("kind") != KIND:
        raise UserError(f"{path} is a seqlab checkpoint but not a jazz model (kind {meta.get('kind')!r})")
    try:
        n_values, n_a = meta["n_values"], meta["n_a"]
        if type(n_values) is not int or type(n_a) is not int:
            raise TypeError(f"n_values and n_a are {n_values!r} and {n_a!r}, expected integers")
        # checked against the arrays before the model is built: no allocation from a claimed size
        expect = {"lstm.W_x": (n_values, 4 * n_a), "lstm.W_h": (n_a, 4 * n_a), "lstm.b": (4 * n_a,),
                  "dense.W": (n_a, n_values), "dense.b": (n_values,)}
        for name, shape in expect.items():
            a = arrays.get(name)
            if a is None or a.shape != shape or a.dtype.kind != "f":
                raise ValueError(f"{name} should be floating point of shape {shape}, got "
                                 f"{None if a is None else (a.dtype.name, a.shape)}")
        with init.skipped():                       # the weights are loaded next
            model = JazzModel(n_values, n_a)
        model.load_arrays(arrays)
        progression = [[Chord(float(o), float(d), tuple(int(p) for p in ps), bool(carried))
                         for o, d, ps, carried in m] for m in meta["progression"]]
        training = [Note(float(o), float(d), None if p is None else int(p)) for o, d, p in meta["training"]]
        vocab, beats, info = [str(v) for v in meta["vocab"]], float(meta["beats"]), meta["info"]
        if len(vocab) != n_values or not progression or not training or not beats > 0:
            raise ValueError(f"{len(vocab)} values for {n_values} outputs, {len(progression)} measures, "
                             f"{len(training)} training notes, {beats} beats")
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise UserError(f"{path} does not hold a usable jazz model ({type(exc).__name__}: {exc})") from None

    finite_or_refuse(model.arrays(), path)
    return JazzBundle(model, vocab, progression, beats, training, info)
