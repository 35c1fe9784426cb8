"""Rebuild the bundled models from the datasets: `python -m seqlab.pretrained.build [NAME ...]` (`make models`).

Each recipe trains with seqlab.text.trainer and writes src/seqlab/pretrained/<name>.npz: the model alone (no
optimizer or resume state, so the file stays small), with the recipe, the data checksum and the held-out
score in its metadata. Recipes are functions in RECIPES, name -> recipe(log) -> summary dict; `train_bundled`
is the shared part for a new one, and `train_stage` one training of a recipe with several.

Nothing lost: the training checkpoints live in a work folder, build/models/ of the repository (`--work DIR`),
not in a temporary one. Ctrl-C or SIGTERM saves a resumable checkpoint there (the bundled model is left as it
was), says where, and exits 130 / 143; the same build run again continues from that step (jazz: epoch) when
the checkpoint holds the same recipe, data checksum and starting model, and gives the model an uninterrupted
build gives, bit for bit; otherwise it says what differs in one line and starts afresh. A finished stage (the
shakespeare plays) is not trained again. Once the bundled model is written, its checkpoints are removed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

from threadpoolctl import threadpool_limits

from seqlab import data
from seqlab.checkpoint import load_checkpoint
from seqlab.errors import UserError
from seqlab.fileio import write_bytes_atomic
from seqlab.music.train import build_jazz_model
from seqlab.pretrained import plays_recipe, shakespeare_recipe
from seqlab.stopping import Interrupted, StopFlag, stop_on_signals
from seqlab.text.corpus import read_text, sha256_of
from seqlab.text.data import vocabulary
from seqlab.text.evaluate import evaluate_file
from seqlab.text.model import load_model
from seqlab.text.train_config import RUNTIME, TrainConfig, command_args
from seqlab.training import train

MODELS_DIR = Path(__file__).resolve().parent
WORK_DIR = MODELS_DIR.parents[2] / "build" / "models"   # the training checkpoints (git-ignored; --work DIR)
STOP = StopFlag()   # set by SIGINT/SIGTERM while `main` builds: the training stops and saves its checkpoint

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


def work_dir() -> Path:
    """WORK_DIR, made if missing."""
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    return WORK_DIR


def train_stage(label: str, corpus: Path, cfg: TrainConfig, ckpt: Path, *, init: Path | None = None,
                log=print, threads: int = 1, plot: bool = True, stage: str = "") -> dict:
    """Train `cfg` on `corpus` into the checkpoint `ckpt`, continuing the run it holds when that has this
    recipe, data checksum and `init` (a finished one is not trained again); otherwise one line through `log`
    and a fresh start. Stopped by STOP, the checkpoint is saved and Interrupted says where and from which step
    the next build continues (`stage` names the stage in that line). Returns seqlab.text.trainer.train's
    summary (for a finished checkpoint: its step and best, steps_run 0)."""
    meta = _continues(label, ckpt, corpus, cfg, init, log)
    if meta is not None and meta["train"]["final"]:
        log(f"{label}: {ckpt} is finished already (step {meta['step']}); not training it again")
        return {"path": str(ckpt), "step": meta["step"], "best": meta["train"]["best"], "steps_run": 0,
                "interrupted": False}
    if meta is not None:
        log(f"{label}: continuing {ckpt} from step {meta['step']}")
    with threadpool_limits(limits=threads):
        summary = train(corpus, ckpt, cfg, resume=ckpt if meta else None, steps=cfg.steps if meta else None,
                        init=None if meta else init, progress=sys.stderr.isatty(), log=log, plot=plot,
                        should_stop=STOP)
    if summary["interrupted"]:
        raise Interrupted(f"at step {summary['step']} of {cfg.steps}{stage}: saved {ckpt}; running the same "
                          f"build again continues from step {summary['step']}")
    return summary


def _continues(label: str, ckpt: Path, corpus: Path, cfg: TrainConfig, init, log) -> dict | None:
    """ckpt's metadata when it holds a run of this recipe on this corpus from this init; else None, with a line
    saying why when there is a file."""
    if not ckpt.exists():
        return None
    try:
        _, meta = load_checkpoint(ckpt)
        t = meta["train"]
        recipe = _recipe(cfg)
        saved = {k: v for k, v in t["config"].items() if k not in RUNTIME}
        same = cfg.vocab_from and "".join(vocabulary("", cfg, str(ckpt)).chars) == meta["vocab"]["chars"]
        if saved.get("vocab_from") and same:
            saved["vocab_from"] = cfg.vocab_from   # the same alphabet from a file elsewhere (another work folder)
        sha = sha256_of(corpus)
        if saved != recipe:
            diff = "; ".join(f"{k} {saved.get(k)!r} there, {v!r} here" for k, v in recipe.items()
                             if saved.get(k) != v)
            why = f"{ckpt} holds another recipe ({diff or 'other fields'})"
        elif t["data_sha256"] != sha:
            why = f"{ckpt} was trained on other data (sha256 {str(t['data_sha256'])[:12]}…, now {sha[:12]}…)"
        elif t.get("init") != (None if init is None else str(init)):
            why = f"{ckpt} started from another model ({t.get('init')}, now {init})"
        else:
            return meta
    except UserError as exc:
        why = str(exc)
    except (KeyError, TypeError, AttributeError):
        why = f"{ckpt} holds no training state of a build"
    log(f"{label}: {why}; starting afresh")
    return None


def _recipe(cfg: TrainConfig) -> dict:
    """What cfg trains, without how it runs (RUNTIME: the backend and devices a build happened to use)."""
    return {k: v for k, v in asdict(cfg).items() if k not in RUNTIME}


def train_bundled(name: str, corpus: Path, cfg: TrainConfig, *, heldout_file: Path | None = None,
                  training_lines: list[str] | None = None, log=print, threads: int = 1,
                  extra_meta: dict | None = None, init: Path | None = None, stage: str = "") -> dict:
    """Train `cfg` on `corpus` (`train_stage`, checkpoint WORK_DIR/<name>.npz), score `heldout_file`, and
    write MODELS_DIR/<name>.npz without resume state; then remove the checkpoint.

    training_lines (lines mode) replaces the set the novelty count compares with (default: the lines the
    trainer trained on). threads limits BLAS threads (the build machine is shared). init: a model to start
    from (seqlab train --init).
    """

    out = MODELS_DIR / f"{name}.npz"
    ckpt = work_dir() / f"{name}.npz"
    t0 = time.perf_counter()
    summary = train_stage(name, corpus, cfg, ckpt, init=init, log=log, threads=threads, stage=stage)
    with threadpool_limits(limits=threads):
        lm = load_model(ckpt)
        score = evaluate_file(lm, heldout_file) if heldout_file is not None else None
    if training_lines is not None:
        lm.training_lines = frozenset(lm.normalize(s).strip() for s in training_lines)
    meta = {"bundled": name, "step": summary["step"], "recipe": _recipe(cfg),
            "data_sha256": lm.meta["train"]["data_sha256"], "validation": summary["best"],
            "heldout": score, "train_seconds": round(time.perf_counter() - t0, 1)}
    meta.update(extra_meta or {})
    lm.save(out, extra_meta=meta)
    plot = ckpt.with_name(f"{name}.loss.png")
    if plot.exists():
        write_bytes_atomic(MODELS_DIR / plot.name, plot.read_bytes())
    for done in (ckpt, plot):   # the bundled model is written: nothing to continue
        done.unlink(missing_ok=True)
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

    return build_jazz_model(MODELS_DIR / "jazz.npz", log=epoch_log, should_stop=STOP, work=work_dir(), say=log)


def shakespeare_commands() -> list[str]:
    """The command lines that do what `build_shakespeare` does (for the README and the model's metadata)."""
    r = shakespeare_recipe
    return [train_command(r.PLAYS_CONFIG, "plays.txt", "plays.npz"),
            train_command(r.SHAKESPEARE_CONFIG, "shakespeare-train.txt", "shakespeare.npz") + " --init plays.npz"]


def build_shakespeare(log=print) -> dict:
    """Pre-train shakespeare_recipe.PLAYS_CONFIG on the plays, fine-tune its SHAKESPEARE_CONFIG on the first
    90% of the sonnets from it, and write seqlab/pretrained/shakespeare.npz with its held-out score.

    Both stages keep their checkpoints in the build's work folder (shakespeare-plays.npz, shakespeare.npz,
    beside the texts they train on): an interrupted build continues where it stopped, a finished stage 1 is
    not trained again, and a stage-2 checkpoint is dropped when stage 1 had to train (it grew from another)."""
    r = shakespeare_recipe   # read at each build (tests replace its settings)
    work = work_dir()
    train_file, held_file = r.write_split(work)
    plays = r.write_plays(work)
    pre = work / "shakespeare-plays.npz"
    stage1 = train_stage("shakespeare stage 1", plays, replace(r.PLAYS_CONFIG, vocab_from=str(train_file)), pre,
                         log=log, plot=False, stage=" of stage 1 (the plays)")
    if stage1["steps_run"]:
        (work / "shakespeare.npz").unlink(missing_ok=True)
    commands = shakespeare_commands()
    result = train_bundled("shakespeare", train_file, r.SHAKESPEARE_CONFIG, heldout_file=held_file, log=log,
                           init=pre, stage=" of stage 2 (the sonnets)", extra_meta={
                               "command": commands[1],
                               "pretraining": {"command": commands[0],
                                               "corpus": "tinyshakespeare in the sonnets' alphabet",
                                               "recipe": _recipe(r.PLAYS_CONFIG),
                                               "step": stage1["step"],
                                               "validation": stage1["best"]},
                               "split": "first 90% of the lower-cased sonnets by characters; last 10% held out"})
    for done in (pre, plays, train_file, held_file):
        done.unlink(missing_ok=True)
    return result


def build_plays(log=print) -> dict:
    """plays_recipe.PLAYS_CONFIG on the training part of tinyshakespeare (case kept; the trainer holds out its
    last 5% as the dev slice), scored once on the validation part: seqlab/pretrained/plays.npz."""
    r = plays_recipe
    train, validation = r.plays_split(read_text(data.path("tinyshakespeare")))
    with tempfile.TemporaryDirectory() as tmp:
        train_file, val_file = Path(tmp) / "plays-train.txt", Path(tmp) / "plays-validation.txt"
        write_bytes_atomic(train_file, train.encode("utf-8"))
        write_bytes_atomic(val_file, validation.encode("utf-8"))
        return train_bundled("plays", train_file, r.PLAYS_CONFIG, heldout_file=val_file, log=log, extra_meta={
            "command": train_command(r.PLAYS_CONFIG, "plays-train.txt", "plays.npz"),
            "split": "tinyshakespeare, case kept: the first 90% of the characters trains (its last 5% the dev "
                     "slice), the last 10% validates (nanoGPT's split)"})


RECIPES = {"dinos": build_dinos, "shakespeare": build_shakespeare, "jazz": build_jazz, "plays": build_plays}


def main(argv: list[str] | None = None) -> int:
    global WORK_DIR
    p = argparse.ArgumentParser(prog="python -m seqlab.pretrained.build", description=__doc__.split("\n")[0])
    p.add_argument("names", nargs="*", metavar="NAME", help=f"models to build (default: all of "
                                                              f"{', '.join(RECIPES)})")
    p.add_argument("--work", metavar="DIR", type=Path,
                   help=f"folder for the training checkpoints, kept until the model is written, from which an "
                        f"interrupted build continues (default: {WORK_DIR})")
    args = p.parse_args(argv)
    names = args.names or list(RECIPES)
    unknown = [n for n in names if n not in RECIPES]
    if unknown:
        p.error(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(RECIPES)}")
    default, WORK_DIR = WORK_DIR, WORK_DIR if args.work is None else args.work.resolve()
    try:
        return _build(names)
    finally:
        WORK_DIR = default


def _build(names: list[str]) -> int:
    for name in names:
        try:
            with stop_on_signals(STOP, log=lambda line: print(line, file=sys.stderr, flush=True)):
                result = RECIPES[name]()
        except UserError as exc:
            sys.stderr.write(f"build {name}: error: {exc}\n")
            return exc.exit_status
        except Interrupted as exc:
            sys.stderr.write(f"build {name}: interrupted {exc} ({MODELS_DIR / name}.npz is unchanged)\n")
            return STOP.exit_status
        except KeyboardInterrupt:   # a second Ctrl-C outside a save: quit now, as `seqlab train` does
            sys.stderr.write(f"build {name}: interrupted; {MODELS_DIR / name}.npz is unchanged, and the build "
                             f"continues from the last checkpoint saved in {WORK_DIR}\n")
            return 130
        held = result.get("heldout")
        held = f", held-out {held['nats_per_char']:.4f} nats/char over {held['chars']} chars" if held else ""
        print(f"{name}: wrote {result['path']} ({result['bytes']:,} bytes) in {result['train_seconds']} s{held}")
    return 0


if __name__ == "__main__":
    # Run as `python -m`, this file is __main__, a second copy beside the seqlab.pretrained.build that other
    # modules (and tests) import: main() must set that one's STOP and WORK_DIR, so it runs that one's.
    from seqlab.pretrained import build

    sys.exit(build.main())
