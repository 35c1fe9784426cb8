"""Starting a training run from another model's weights (`seqlab train CORPUS --init MODEL`).

The weights carry over only when they mean the same thing: the same vocabulary (id k is the same character
in both), the same normalisation, and the same network shape (cell, hidden units, layers, embedding size).
Dropout, DropConnect, the mode and every optimiser setting are the new run's own. The optimiser starts
afresh; only the parameters are copied.
"""

from __future__ import annotations

from seqlab.errors import UserError
from seqlab.text.model import LanguageModel
from seqlab.text.train_config import TrainConfig
from seqlab.text.vocab import Vocabulary

SHAPE = ("cell", "hidden", "layers", "embed")


def mismatch(init: LanguageModel, cfg: TrainConfig, vocab: Vocabulary) -> str | None:
    """What differs between `init` and a run of `cfg` on a corpus with `vocab`, or None when they agree."""
    have = init.model.config()
    diffs = [f"{k} {have[k]} (model) vs {getattr(cfg, k)} (this run)" for k in SHAPE
             if have[k] != getattr(cfg, k)]
    if init.lower != cfg.lower:
        case = {True: "lower-cased", False: "case kept"}
        diffs.append(f"text {case[init.lower]} (model) vs {case[cfg.lower]} (this run)")
    if init.vocab != vocab:
        only_model = sorted(set(init.vocab.chars) - set(vocab.chars))
        only_corpus = sorted(set(vocab.chars) - set(init.vocab.chars))
        parts = [f"vocabulary of {init.vocab.size} (model) vs {vocab.size} (corpus)"]
        if only_model:
            parts.append("only in the model: " + " ".join(map(repr, only_model)))
        if only_corpus:
            parts.append("only in the corpus: " + " ".join(map(repr, only_corpus)))
        diffs.append(", ".join(parts))
    return "; ".join(diffs) or None


def load_init(name_or_path, cfg: TrainConfig, vocab: Vocabulary) -> LanguageModel:
    """The model to start from; UserError naming every difference when it does not fit the run."""
    from seqlab.text.model import load_model

    init = load_model(name_or_path)
    diff = mismatch(init, cfg, vocab)
    if diff:
        raise UserError(f"--init {name_or_path} does not fit this run: {diff}")
    return init
