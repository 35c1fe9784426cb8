"""The bundled `shakespeare` model's recipe: a stream-mode character LSTM that reads the plays, then the sonnets.

Stage 1 (pre-training) learns English and Shakespeare's voice from tinyshakespeare, the plays (1.1 MB), put
into the sonnets' alphabet (PLAYS_MAP below). Stage 2 (fine-tuning) starts from those weights
(`seqlab train --init`) and learns the first 90% of the lower-cased sonnets; the last 10% is never seen, in
training or in model selection, and gives the held-out score. Each stage keeps its best step on a validation
split: the last tenth of its own training text (the plays' last 10%: nanoGPT's validation split, lower-cased;
the sonnets' 81-90%). Every position predicts the next character (stream mode, truncated backpropagation
over 100 steps, state carried). This module is the recipe's data (the settings, the split, the corpus);
seqlab.pretrained.build reads it and trains: `python -m seqlab.pretrained.build shakespeare` (about 50 minutes
on a free CPU core).

    python -m seqlab.pretrained.shakespeare_recipe --split DIR   # write DIR/shakespeare-{train,heldout}.txt
                                                                 # and DIR/plays.txt
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from seqlab import data
from seqlab.errors import UserError
from seqlab.fileio import write_bytes_atomic
from seqlab.text.corpus import read_text
from seqlab.text.train_config import TrainConfig
from seqlab.text.vocab import normalize

HELDOUT = 0.1

# Stage 1: two LSTM layers of 256 on a 64-wide embedding (the poem model's shape), light dropout (0.2) for
# a text twelve times the sonnets, Adam 2e-3 with cosine decay to 2e-4 over 10,000 steps (about 32 passes
# over the plays). The vocabulary is the sonnets' (--vocab-from), which has '(' and ')' the plays lack.
# Best on the plays' validation part at the last step: 1.401 nats/char (5,000 steps gave 1.432); on the
# sonnets before any fine-tuning, 1.462 on the held-out 10% (after 5,000 steps: 1.493).
PLAYS_CONFIG = TrainConfig(
    mode="stream", cell="lstm", hidden=256, layers=2, dropout=0.2, embed=64, steps=10000, batch_size=32,
    seq_len=100, lr=2e-3, decay_steps=10000, min_lr_ratio=0.1, clip=5.0, holdout=0.1, eval_every=500,
    patience=0, checkpoint_every=250, sample_every=2000, seed=0, vocab_from="shakespeare-train.txt")

# Stage 2: the same network from stage 1's weights; dropout 0.2, Adam 1e-3 with cosine decay to 1e-4 over
# 300 steps (about 11 passes over the sonnets' training part), the best of the evaluations every 25 steps
# kept. Chosen on the validation part (81-90%) alone, from five runs on stage 1's final weights: dropout
# 0.2 at 1e-3 1.3298 (best at step 150), 0.3 at 1e-3 1.3317 (300 steps) and 1.3304 (500), 0.3 at 2e-3
# 1.3336, 0.4 at 2e-3 1.3447 (400).
SHAKESPEARE_CONFIG = TrainConfig(
    mode="stream", cell="lstm", hidden=256, layers=2, dropout=0.2, embed=64, steps=300, batch_size=32,
    seq_len=100, lr=1e-3, decay_steps=300, min_lr_ratio=0.1, clip=5.0, holdout=0.1, eval_every=25,
    patience=0, checkpoint_every=0, sample_every=100, seed=0)


def shakespeare_split(text: str) -> tuple[str, str]:
    """The sonnets (raw text) -> (first 90%, last 10%) of the normalised, lower-cased text by characters.

    The held-out part has round(0.1 · N) of the N characters, the trainer's own convention for stream mode.
    """

    text = normalize(text, lower=True)
    cut = len(text) - int(round(HELDOUT * len(text)))
    return text[:cut], text[cut:]


# The plays in the sonnets' alphabet. Lower-cased, tinyshakespeare has three characters the sonnets lack:
# '&' only in "&c" (3 times; "etc" keeps the reading), '3' only in the heading "3 KING HENRY VI" (27 times)
# and one '$', a misprint in "sha$l" (shall). Anything else outside the alphabet would be dropped.
PLAYS_MAP = {"&": "et", "3": "third", "$": "l"}


def plays_corpus(plays: str, alphabet: str) -> str:
    """tinyshakespeare (raw) -> its lower-cased text over `alphabet` only, PLAYS_MAP applied, the rest dropped."""
    from seqlab.text.vocab import normalize

    text = normalize(plays, lower=True)
    keep = set(alphabet)
    table = {ord(c): PLAYS_MAP.get(c) if set(PLAYS_MAP.get(c, "")) <= keep else None
             for c in set(text) - keep}
    return text.translate(table)


def write_plays(folder: Path) -> Path:
    """Write folder/plays.txt: the pre-training corpus, in the alphabet of the sonnets' training part."""
    from seqlab import data
    from seqlab.fileio import write_bytes_atomic
    from seqlab.text.corpus import read_text

    path = folder / "plays.txt"
    plays = plays_corpus(read_text(data.path("tinyshakespeare")), sonnets_alphabet())
    write_bytes_atomic(path, plays.encode("utf-8"))
    return path


def sonnets_alphabet() -> str:
    """The sorted characters of the sonnets' training part (what --vocab-from shakespeare-train.txt gives)."""
    from seqlab import data
    from seqlab.text.corpus import read_text

    train, _ = shakespeare_split(read_text(data.path("shakespeare")))
    return "".join(sorted(set(train)))


def write_split(folder: Path) -> tuple[Path, Path]:
    """Write folder/shakespeare-train.txt and folder/shakespeare-heldout.txt from the cached dataset."""

    train, held = shakespeare_split(read_text(data.path("shakespeare")))
    paths = folder / "shakespeare-train.txt", folder / "shakespeare-heldout.txt"
    for path, part in zip(paths, (train, held)):
        write_bytes_atomic(path, part.encode("utf-8"))
    return paths


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m seqlab.pretrained.shakespeare_recipe",
                                description=__doc__.split("\n")[0])
    p.add_argument("--split", metavar="DIR", type=Path, required=True,
                   help="write the 90%% training and 10%% held-out texts and the plays into DIR (to train "
                        "the model: python -m seqlab.pretrained.build shakespeare)")
    args = p.parse_args(argv)
    try:
        if not args.split.is_dir():
            raise UserError(f"--split {args.split}: no such folder")
        for path in (*write_split(args.split), write_plays(args.split)):
            print(path)
    except UserError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
