"""The `plays` model's recipe (data the builder reads; seqlab.pretrained.build trains it): tiny-shakespeare with
its case kept, all 65 characters, on nanoGPT's split.

The first 90% of the characters (1,003,854) is the training part, the last 10% (111,540) the validation part,
scored once at the end (the figure the model's metadata records as `heldout`). Settings are chosen on the
dev slice, the last 5% of the training part, which the trainer holds out (stream mode's --holdout takes the
end of the text) and evaluates every eval_every steps to keep the best step: the validation part is never
read in training or selection.

The network is bench/tinyshakespeare.py's default (one-hot characters, 2 LSTM layers of 256, dropout 0.25
between them and before the Dense layer, forget-gate bias 0, Adam 2e-3 with cosine decay to a tenth, clipping
to norm 5, 32 streams of 100 steps), trained for the steps an hour of one core allows (about 0.25 s a step).
Not measured yet: `make models` builds it (python -m seqlab.pretrained.build plays); nothing is bundled until
then. The file is about 2.8 MB (0.8 M float32 parameters).
"""

from __future__ import annotations

from seqlab.text.train_config import TrainConfig
from seqlab.text.vocab import normalize

VALIDATION = 0.1   # nanoGPT's split: the last 10% validates
DEV = 0.05         # the last 5% of the training part: what the recipe's choices are made on

PLAYS_CONFIG = TrainConfig(
    mode="stream", cell="lstm", hidden=256, layers=2, dropout=0.25, embed=0, forget_bias=0.0, lower=False,
    steps=14000, batch_size=32, seq_len=100, lr=2e-3, warmup=0, decay_steps=14000, min_lr_ratio=0.1, clip=5.0,
    holdout=DEV, eval_every=500, patience=0, checkpoint_every=250, sample_every=2000, seed=0)


def plays_split(text: str) -> tuple[str, str]:
    """tinyshakespeare (raw) -> (training part: the first 90% of the normalised characters, case kept;
    validation part: the last 10%), as bench/tinyshakespeare.py splits it (int(0.9 · N) characters train)."""
    text = normalize(text, lower=False)
    cut = int((1 - VALIDATION) * len(text))
    return text[:cut], text[cut:]
