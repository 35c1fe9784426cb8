"""Training the jazz model as the course does, resuming an interrupted training, and building the bundled model.

The course: 60 random windows of 30 values, LSTM 64, Adam(lr=0.01, β1=0.9, β2=0.999, decay=0.01), Keras' default
batches of 32, 100 epochs; the loss (summed over the 30 steps) falls from about 130 to single digits.
Keras' `decay` shrinks the learning rate after every batch: lr / (1 + decay · iterations).

A stop request (`should_stop`, polled after every epoch) ends a run at the end of the epoch in progress.
A run that diverges raises Diverged (exit status 3 in `seqlab jazz --train`) and saves nothing: a loss or gradient
that is NaN or infinite (checked before the update), or a loss that has stayed above 3 × ln V for 100 batches
(seqlab.divergence), unless `allow_divergence` lets that second kind go on.
`JazzRun.save` then writes a training checkpoint: a jazz model file (seqlab.music.bundle; `seqlab jazz --model`
plays it as it is, ignoring the rest) plus everything the next epoch depends on, so that `JazzRun.restore`
continues it bit for bit:

    arrays    resume.opt.<name>   Adam's state_dict (step count "t", moments "m.<i>", "v.<i>")
    metadata  info.settings       SETTINGS with the run's epochs; info.source: the MIDI file's section
              resume              {"epoch": epochs done, "iterations": batches done (Keras' decay counter),
                                   "rng": the generator's bit_generator state, "history": the exact epoch
                                   losses, "midi_sha256": the MIDI file's checksum}

A finished model is saved without the resume state (the bundled jazz.npz stays small).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from seqlab import data
from seqlab.checkpoint import finite_or_refuse, load_checkpoint
from seqlab.divergence import Runaway
from seqlab.engine import Adam
from seqlab.engine.optim import global_norm
from seqlab.errors import Diverged, UserError
from seqlab.music import quality
from seqlab.music.bundle import KIND, JazzBundle, bundle_from, default_path, save_bundle
from seqlab.music.corpus import MusicCorpus, build_corpus, training_windows
from seqlab.music.improvise import improvise
from seqlab.music.midi import load_section
from seqlab.music.model import JazzModel
from seqlab.stopping import Interrupted, saving

COMMAND = "seqlab jazz --train original_metheny.mid --save-model jazz.npz"  # the same training, by hand
SETTINGS = {"m": 60, "Tx": 30, "n_a": 64, "lr": 0.01, "decay": 0.01, "batch_size": 32, "epochs": 100,
            "seed": 0}
SECTION = ("solo_part", "chord_part", "start", "end", "beats")   # what a resume must train on again
OPT = "resume.opt."


class Fit:
    """Adam on the windows x_ids, y_ids int (Tx, m) (-1 in x_ids: the zero vector), shuffled into batches every
    epoch as Keras does. The members are everything the next epoch depends on: the model, `opt`, `rng`,
    `iterations` (batches so far, for the decay) and `history` (the loss of every epoch so far)."""

    def __init__(self, model: JazzModel, x_ids: np.ndarray, y_ids: np.ndarray, *, lr: float = 0.01,
                 decay: float = 0.01, batch_size: int = 32, rng: np.random.Generator | None = None):
        self.model, self.x_ids, self.y_ids = model, x_ids, y_ids
        self.lr, self.decay, self.batch_size = lr, decay, batch_size
        self.rng = np.random.default_rng(0) if rng is None else rng
        self.opt = Adam(model.layers, lr=lr)
        self.iterations = 0
        self.history: list[float] = []

    def run(self, epochs: int, log=None, should_stop=None, allow_divergence: bool = False) -> list[float]:
        """Train until `epochs` epochs are done in all; `log(epoch, loss)` after each. should_stop (a
        seqlab.stopping.StopFlag or any callable) is polled after each epoch: when True, training ends there
        and the history is shorter than `epochs`. Returns the history. Diverged (the module docstring) ends
        it mid-epoch; allow_divergence: a loss far above a uniform guess does not."""
        (Tx, m), runaway = self.y_ids.shape, Runaway(self.model.n_values)
        with threadpool_limits(limits=1, user_api="blas"), \
                np.errstate(over="ignore", invalid="ignore", divide="ignore"):   # checked below, said in one line
            while len(self.history) < epochs:
                order = self.rng.permutation(m)
                losses = []
                for b0 in range(0, m, self.batch_size):
                    batch = order[b0:b0 + self.batch_size]
                    self.opt.lr = self.lr / (1.0 + self.decay * self.iterations)
                    loss = self.model.loss_and_grads(self.x_ids[:, batch], self.y_ids[:, batch])
                    norm = global_norm(self.model.layers)
                    if not (np.isfinite(loss) and np.isfinite(norm)):   # before the update
                        self._diverged(f"the loss is {loss / Tx:g} nats per value" if not np.isfinite(loss)
                                       else f"the gradient norm is {norm:g}")
                    losses.append(loss)
                    self.opt.step()
                    self.iterations += 1
                    if runaway.update(loss, Tx) and not allow_divergence:
                        self._diverged(runaway.why("nats per value"), allowable=True)
                self.history.append(float(np.mean(losses)))
                if log is not None:
                    log(len(self.history) - 1, self.history[-1])
                if should_stop is not None and should_stop():
                    break
        return self.history

    def _diverged(self, what: str, allowable: bool = False):
        """Diverged, in the epoch in progress: what went wrong, and what to try (--allow-divergence where the
        numbers are still finite)."""
        tries = ([f"the default learning rate, {SETTINGS['lr']:g} (this run: {self.lr:g})"]
                 if self.lr > SETTINGS["lr"] else []) + (["--allow-divergence to train on regardless"]
                                                         if allowable else [])
        raise Diverged(f"training diverged at epoch {len(self.history) + 1}: {what}; nothing was saved"
                       + (f"; try {', or '.join(tries)}" if tries else ""))


def fit(model: JazzModel, x_ids: np.ndarray, y_ids: np.ndarray, *, lr: float = 0.01, decay: float = 0.01,
        batch_size: int = 32, epochs: int = 100, rng: np.random.Generator | None = None,
        log=None, should_stop=None) -> list[float]:
    """`Fit(...).run(epochs, log, should_stop)`: the loss of every epoch (mean over its batches)."""
    return Fit(model, x_ids, y_ids, lr=lr, decay=decay, batch_size=batch_size, rng=rng).run(epochs, log,
                                                                                            should_stop)


class JazzRun:
    """One training run on `corpus`: its windows, the model, and the Fit that trains it, from SETTINGS updated
    by `settings`. source: the section's origin (file, parts, offsets); midi_sha256: the file's checksum (both
    recorded in a checkpoint, and checked by `restore`)."""

    def __init__(self, corpus: MusicCorpus, source: dict | None = None, midi_sha256: str | None = None,
                 **settings):
        opts = {**SETTINGS, **settings}
        self.corpus, self.source, self.midi_sha256, self.settings = corpus, source or {}, midi_sha256, opts
        if len(corpus.values) <= opts["Tx"]:
            raise UserError(f"the solo in {self.source.get('file', 'the file')} has only {len(corpus.values)} "
                            f"values; training needs more than Tx={opts['Tx']} (choose a longer section)")
        rng = np.random.default_rng(opts["seed"])
        x, y = training_windows(corpus.indices(), m=opts["m"], Tx=opts["Tx"], rng=rng)   # (Tx, m) each
        self.model = JazzModel(corpus.n_values, opts["n_a"], rng=rng)
        self.fit = Fit(self.model, x, y, lr=opts["lr"], decay=opts["decay"], batch_size=opts["batch_size"],
                       rng=rng)

    @classmethod
    def on(cls, section, midi_sha256: str | None = None, **settings) -> JazzRun:
        """A run on a MIDI section (seqlab.music.midi.load_section)."""
        return cls(build_corpus(section), section.source, midi_sha256, **settings)

    @property
    def epochs_done(self) -> int:
        return len(self.fit.history)

    @property
    def finished(self) -> bool:
        return self.epochs_done >= self.settings["epochs"]

    def train(self, log=None, should_stop=None, allow_divergence: bool = False) -> list[float]:
        return self.fit.run(self.settings["epochs"], log, should_stop, allow_divergence)

    def bundle(self) -> JazzBundle:
        """The model (shared, not copied) and everything generation needs; info: source, settings, loss
        history (rounded) and epochs_trained."""
        c, history = self.corpus, self.fit.history
        info = {"source": self.source, "settings": self.settings, "loss": [round(v, 4) for v in history],
                "epochs_trained": len(history)}
        return JazzBundle(self.model, c.vocab, c.chords, c.beats, c.training, info)

    def save(self, path) -> Path:
        """Write the training checkpoint (the module docstring's table) to `path`, atomically."""
        f = self.fit
        resume = {"epoch": len(f.history), "iterations": f.iterations, "rng": f.rng.bit_generator.state,
                  "history": f.history, "midi_sha256": self.midi_sha256}
        extra = {OPT + k: v for k, v in f.opt.state_dict().items()}
        return save_bundle(path, self.bundle(), extra, {"resume": resume})

    def restore(self, path) -> None:
        """Continue the run saved in `path` by `save`. UserError, naming what differs, when it is not a jazz
        training checkpoint, or one of another MIDI file, section or settings, or already at the epochs asked."""
        arrays, meta = load_checkpoint(path)
        if meta.get("kind") != KIND:
            raise UserError(f"{path} is not a jazz training checkpoint (a seqlab checkpoint of kind "
                            f"{meta.get('kind')!r})")
        saved = bundle_from(path, arrays, meta)
        r, info = meta.get("resume"), _dict(saved.info)
        if not isinstance(r, dict):
            raise UserError(f"{path} holds a finished jazz model, not a training state to resume (an "
                            f"interrupted --train writes one); play it with --model {path}")
        if r.get("midi_sha256") != self.midi_sha256:
            raise UserError(f"{path} was trained on another MIDI file ({_dict(info.get('source')).get('file')}, "
                            f"sha256 {str(r.get('midi_sha256'))[:12]}…; this one is {str(self.midi_sha256)[:12]}…)")
        src = _dict(info.get("source"))
        moved = [f"{k.replace('_', '-')} {src.get(k)} there, {self.source.get(k)} here" for k in SECTION
                 if src.get(k) != self.source.get(k)]
        if moved:
            raise UserError(f"{path} was trained on another section of {self.source.get('file')} "
                            f"({'; '.join(moved)}): give the --solo-part/--chord-part/--start/--end it was "
                            f"trained with")
        settings = _dict(info.get("settings"))
        other = [f"{k} {settings.get(k)} there, {v} here" for k, v in self.settings.items()
                 if k != "epochs" and settings.get(k) != v]
        if other or settings.keys() != self.settings.keys():
            raise UserError(f"{path} was trained with other settings ({'; '.join(other) or 'other keys'}); "
                            f"this seqlab cannot continue it")
        epoch = r.get("epoch")
        if type(epoch) is not int:
            raise UserError(f"{path} has a damaged training state (epoch {epoch!r})")
        if epoch >= self.settings["epochs"]:
            raise UserError(f"{path} is already at epoch {epoch}; ask for more --epochs than that to resume it")
        if saved.vocab != self.corpus.vocab:
            raise UserError(f"{path} has another vocabulary of values than this section gives")
        f = self.fit
        try:
            history = [float(v) for v in r["history"]]
            if len(history) != epoch:
                raise ValueError(f"{len(history)} losses for {epoch} epochs")
            opt = {k[len(OPT):]: v for k, v in arrays.items() if k.startswith(OPT)}
            finite_or_refuse(opt, path, "optimizer value")
            f.opt.load_state_dict(opt)
            f.rng.bit_generator.state = r["rng"]
            f.iterations = int(r["iterations"])
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise UserError(f"{path} has a damaged training state ({type(exc).__name__}: {exc})") from None
        self.model.load_arrays(saved.model.arrays())
        f.history = history


def _dict(value) -> dict:
    """`value` when it is a dict, else {} (metadata from a file is checked, not trusted)."""
    return value if isinstance(value, dict) else {}


def train_model(corpus: MusicCorpus, *, log=None, should_stop=None, **settings) -> tuple[JazzModel, list[float]]:
    """Train a JazzModel on `m` random windows of `Tx` values of `corpus` (settings: SETTINGS' keys); returns
    it and the epoch losses."""
    run = JazzRun(corpus, **settings)
    return run.model, run.train(log, should_stop)


def train_bundle(section, log=None, should_stop=None, **settings) -> JazzBundle:
    """Corpus of `section`, a model trained on it, and everything generation needs, in one bundle.

    Stopped early by `should_stop` (see `Fit.run`), the bundle's info has "epochs_trained" < settings' epochs."""
    run = JazzRun.on(section, **settings)
    run.train(log, should_stop)
    return run.bundle()


def build_jazz_model(path=None, midi=None, log=None, should_stop=None, work=None, say=print) -> dict:
    """Train on the course's Metheny solo and write the bundled model (src/seqlab/pretrained/jazz.npz by default).

    `midi` defaults to the Metheny file in the seqlab data cache. The quality figures of the solo that
    `seqlab jazz --seed 0` plays are measured and stored in the model's metadata. Returns a summary:
    path, bytes, train_seconds (of this call), loss (first and last epoch), quality, command.
    log(epoch, loss) after each epoch; say(line) for news. work: a folder for the training checkpoint,
    WORK/jazz.npz: stopped by `should_stop`, the run saves it there and raises Interrupted; the next call
    continues from it (when it holds the same MIDI file, section and settings; otherwise it says so and starts
    afresh), and it is removed once the model is written. Without `work` an interrupted build writes nothing.
    """

    midi = data.path("metheny") if midi is None else midi
    t0 = time.perf_counter()
    section, sha = load_section(midi), data.sha256_file(midi)
    run = JazzRun.on(section, sha)
    state = None if work is None else Path(work) / "jazz.npz"
    if state is not None and state.exists():
        try:
            run.restore(state)
            say(f"jazz: continuing {state} from epoch {run.epochs_done}")
        except UserError as exc:
            run = JazzRun.on(section, sha)   # restore may have loaded part of the state before refusing
            say(f"jazz: {exc}; starting afresh")
    run.train(log, should_stop)
    epochs = run.settings["epochs"]
    if not run.finished:
        if state is None:
            raise Interrupted(f"at epoch {run.epochs_done} of {epochs}: nothing written")
        with saving(should_stop):
            run.save(state)
        raise Interrupted(f"at epoch {run.epochs_done} of {epochs}: saved {state}; running the same build "
                          f"again continues from epoch {run.epochs_done}")
    seconds = round(time.perf_counter() - t0, 1)
    bundle = run.bundle()
    solo = improvise(bundle, measures=16, seed=0)
    figures = quality.report(solo.notes, solo.chords, bundle.training)
    bundle.info.update(quality_seed0=figures, train_seconds=seconds, command=COMMAND)
    out = save_bundle(default_path() if path is None else path, bundle)
    if state is not None:
        state.unlink(missing_ok=True)
    return {"path": str(out), "bytes": out.stat().st_size, "train_seconds": seconds,
            "loss": [bundle.info["loss"][0], bundle.info["loss"][-1]], "quality": figures, "command": COMMAND}
