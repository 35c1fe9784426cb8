"""Rebuild the bundled models from the datasets: `python -m seqlab.pretrained.build [NAME ...]` (`make models`).

Each recipe trains with seqlab.text.trainer and writes src/seqlab/pretrained/<name>.npz: the model alone (no
optimizer or resume state, so the file stays small), with the recipe, the data checksum and the held-out
score in its metadata. Recipes are functions in RECIPES, name -> recipe(out_path, log) -> summary dict;
`train_bundled` is the shared part for a new one.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from threadpoolctl import threadpool_limits

from seqlab import data
from seqlab.errors import UserError
from seqlab.fileio import write_bytes_atomic
from seqlab.music.train import build_jazz_model
from seqlab.stopping import Interrupted, StopFlag, stop_on_signals
from seqlab.text.corpus import read_text
from seqlab.text.evaluate import evaluate_file
from seqlab.text.model import load_model
from seqlab.text.train_config import TrainConfig, command_args
from seqlab.text.trainer import train

MODELS_DIR = Path(__file__).resolve().parent
STOP = StopFlag()   # set by SIGINT/SIGTERM while `main` builds: the training stops, nothing is written

# Dinosaurus Island: every tenth line of dinos.txt (lines 10, 20, …, 1530) is held out for the final score;
# early stopping uses a validation split of 10% carved from the other 1,383 names.
DINOS_CONFIG = TrainConfig(
    mode="lines", cell="lstm", hidden=128, layers=1, embed=32, dropout=0.4, weight_drop=0.6,
    steps=8000, batch_size=32, lr=3e-3, decay_steps=8000, clip=5.0, holdout=0.1, eval_every=100,
    patience=10, checkpoint_every=0, sample_every=1000, seed=0)


def dinos_split(text: str) -> tuple[list[str], list[str]]:
    """dinos.txt's lines -> (training lines, held-out lines: line numbers 10, 20, … counted from 1)."""
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    held = lines[9::10]
    train = [s for i, s in enumerate(lines) if (i + 1) % 10]
    return train, held


def train_command(cfg: TrainConfig, corpus: str, out: str) -> str:
    """The `seqlab train` command line that runs `cfg` (for the README and the model's metadata)."""
    return " ".join(["seqlab", "train", corpus, *command_args(cfg), "-o", out])


def train_bundled(name: str, corpus: Path, cfg: TrainConfig, *, heldout_file: Path | None = None,
                  training_lines: list[str] | None = None, log=print, threads: int = 1,
                  extra_meta: dict | None = None, init: Path | None = None) -> dict:
    """Train `cfg` on `corpus`, score `heldout_file`, and write MODELS_DIR/<name>.npz without resume state.

    training_lines (lines mode) replaces the set the novelty count compares with (default: the lines the
    trainer trained on). threads limits BLAS threads (the build machine is shared). init: a model to start
    from (seqlab train --init).
    """

    out = MODELS_DIR / f"{name}.npz"
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, threadpool_limits(limits=threads):
        ckpt = Path(tmp) / f"{name}.npz"
        summary = train(corpus, ckpt, cfg, init=init, progress=sys.stderr.isatty(), log=log, plot=True,
                        should_stop=STOP)
        if summary["interrupted"]:   # the checkpoint is in tmp: the bundled model is left as it was
            raise Interrupted(f"at step {summary['step']} of {cfg.steps}")
        lm = load_model(ckpt)
        score = evaluate_file(lm, heldout_file) if heldout_file is not None else None
        if training_lines is not None:
            lm.training_lines = frozenset(lm.normalize(s).strip() for s in training_lines)
        meta = {"bundled": name, "step": summary["step"], "recipe": asdict(cfg),
                "data_sha256": lm.meta["train"]["data_sha256"], "validation": summary["best"],
                "heldout": score, "train_seconds": round(time.perf_counter() - t0, 1)}
        meta.update(extra_meta or {})
        lm.save(out, extra_meta=meta)
        plot = Path(tmp) / f"{name}.loss.png"
        if plot.exists():
            write_bytes_atomic(MODELS_DIR / f"{name}.loss.png", plot.read_bytes())  # tmp may be another disk
    return {"path": str(out), "bytes": out.stat().st_size, **meta}


def build_dinos(log=print) -> dict:
    train, held = dinos_split(read_text(data.path("dinos")))
    with tempfile.TemporaryDirectory() as tmp:
        train_file, held_file = Path(tmp) / "dinos-train.txt", Path(tmp) / "dinos-heldout.txt"
        train_file.write_text("\n".join(train) + "\n", encoding="utf-8")
        held_file.write_text("\n".join(held) + "\n", encoding="utf-8")
        return train_bundled("dinos", train_file, DINOS_CONFIG, heldout_file=held_file, training_lines=train,
                             log=log, extra_meta={"command": train_command(DINOS_CONFIG, "dinos-train.txt",
                                                                             "dinos.npz")})


def build_jazz(log=print) -> dict:
    def epoch_log(epoch: int, loss: float) -> None:
        if epoch == 0 or (epoch + 1) % 10 == 0:
            log(f"jazz: epoch {epoch + 1}, loss {loss:.2f}")

    return build_jazz_model(log=epoch_log, should_stop=STOP)


def build_shakespeare(log=print) -> dict:
    from seqlab.pretrained.shakespeare_recipe import build_shakespeare as build  # it imports this module

    return build(log=log)


RECIPES = {"dinos": build_dinos, "shakespeare": build_shakespeare, "jazz": build_jazz}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m seqlab.pretrained.build", description=__doc__.split("\n")[0])
    p.add_argument("names", nargs="*", metavar="NAME", help=f"models to build (default: all of "
                                                              f"{', '.join(RECIPES)})")
    args = p.parse_args(argv)
    names = args.names or list(RECIPES)
    unknown = [n for n in names if n not in RECIPES]
    if unknown:
        p.error(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(RECIPES)}")
    for name in names:
        try:
            with stop_on_signals(STOP, log=lambda line: print(line, file=sys.stderr, flush=True)):
                result = RECIPES[name]()
        except UserError as exc:
            sys.stderr.write(f"build {name}: error: {exc}\n")
            return exc.exit_status
        except Interrupted as exc:
            sys.stderr.write(f"build {name}: interrupted {exc}: nothing written, {MODELS_DIR / name}.npz is "
                             f"unchanged; run the build again to make it\n")
            return STOP.exit_status
        held = result.get("heldout")
        held = f", held-out {held['nats_per_char']:.4f} nats/char over {held['chars']} chars" if held else ""
        print(f"{name}: wrote {result['path']} ({result['bytes']:,} bytes) in {result['train_seconds']} s{held}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
