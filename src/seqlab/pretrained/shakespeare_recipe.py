"""The bundled `shakespeare` model's recipe: a stream-mode character LSTM on the first 90% of the sonnets.

The lower-cased sonnets are cut by characters: the first 90% train (the trainer holds out the last tenth of
that part again, to pick the best step), the last 10% is never seen and gives the held-out score. Every
position predicts the next character (stream mode, truncated backpropagation over 100 steps, state carried).
The settings were chosen on the validation part (81–90%), with a PyTorch replica of the trainer and then
with the trainer itself. The `shakespeare` entry of seqlab.pretrained.build's RECIPES runs `build_shakespeare`.

    python -m seqlab.pretrained.shakespeare_recipe               # train and write seqlab/pretrained/shakespeare.npz
    python -m seqlab.pretrained.shakespeare_recipe --split DIR   # only write DIR/shakespeare-{train,heldout}.txt
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from seqlab import data
from seqlab.errors import UserError
from seqlab.fileio import write_bytes_atomic
from seqlab.pretrained.build import train_bundled, train_command
from seqlab.text.corpus import read_text
from seqlab.text.train_config import TrainConfig
from seqlab.text.vocab import normalize

HELDOUT = 0.1

# Two LSTM layers of 256 on a 64-wide embedding, dropout 0.5 on the embedding, between the layers and before
# the output; Adam 2e-3 with cosine decay to 2e-4 over the 2,400 steps (about 100 passes over the text).
# On the validation part, dropout 0.5 beat 0.4 (1.548 against 1.555 nats/char); DropConnect and weight decay
# only slowed learning at this size.
SHAKESPEARE_CONFIG = TrainConfig(
    mode="stream", cell="lstm", hidden=256, layers=2, dropout=0.5, embed=64, steps=2400, batch_size=32,
    seq_len=100, lr=2e-3, decay_steps=2400, min_lr_ratio=0.1, clip=5.0, holdout=0.1, eval_every=100,
    patience=0, checkpoint_every=0, sample_every=600, seed=0)


def shakespeare_split(text: str) -> tuple[str, str]:
    """The sonnets (raw text) -> (first 90%, last 10%) of the normalised, lower-cased text by characters.

    The held-out part has round(0.1 · N) of the N characters, the trainer's own convention for stream mode.
    """

    text = normalize(text, lower=True)
    cut = len(text) - int(round(HELDOUT * len(text)))
    return text[:cut], text[cut:]


def write_split(folder: Path) -> tuple[Path, Path]:
    """Write folder/shakespeare-train.txt and folder/shakespeare-heldout.txt from the cached dataset."""

    train, held = shakespeare_split(read_text(data.path("shakespeare")))
    paths = folder / "shakespeare-train.txt", folder / "shakespeare-heldout.txt"
    for path, part in zip(paths, (train, held)):
        write_bytes_atomic(path, part.encode("utf-8"))
    return paths


def build_shakespeare(log=print) -> dict:
    """Train SHAKESPEARE_CONFIG on the first 90% and write seqlab/pretrained/shakespeare.npz with its held-out score."""

    with tempfile.TemporaryDirectory() as tmp:
        train_file, held_file = write_split(Path(tmp))
        command = train_command(SHAKESPEARE_CONFIG, train_file.name, "shakespeare.npz")
        return train_bundled("shakespeare", train_file, SHAKESPEARE_CONFIG, heldout_file=held_file, log=log,
                             extra_meta={"command": command, "split": "first 90% of the lower-cased sonnets "
                                                                      "by characters; last 10% held out"})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m seqlab.pretrained.shakespeare_recipe",
                                description=__doc__.split("\n")[0])
    p.add_argument("--split", metavar="DIR", type=Path,
                   help="only write the 90%% training and 10%% held-out texts into DIR")
    args = p.parse_args(argv)
    try:
        if args.split is not None:
            if not args.split.is_dir():
                raise UserError(f"--split {args.split}: no such folder")
            for path in write_split(args.split):
                print(path)
            return 0
        result = build_shakespeare()
    except UserError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    held = result["heldout"]
    print(f"shakespeare: wrote {result['path']} ({result['bytes']:,} bytes) in {result['train_seconds']} s, "
          f"held-out {held['nats_per_char']:.4f} nats/char over {held['chars']} chars")
    return 0


if __name__ == "__main__":
    sys.exit(main())
