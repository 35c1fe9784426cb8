"""Training a character-level LanguageModel, top to bottom.

    train(corpus, out, cfg)
        data = prepare_data(corpus, cfg)       seqlab.text.data: the split, and everything that differs by mode
        run = Run(cfg, data)                   seqlab.text.train_state: model, Adam, step, best, history, ...
        run.restore(checkpoint)                (with resume=) after check_resumable
        _fit(run, out):
            while run.step < cfg.steps and not run.stopped_early:
                _train_step: the step's learning rate (seqlab.text.schedule) and batch, then the engine's
                             step (NumPy's here, numpy_step; PyTorch's given as an Engine by the layer above,
                             seqlab.training): loss and gradients, clipping by global norm, Adam, decoupled
                             weight decay
                every eval_every steps:       held-out nats/char, the best parameters, early stopping
                every sample_every steps:     samples printed
                every checkpoint_every steps: the checkpoint, replaced atomically
            the final checkpoint (the best or the last parameters) and the loss plot (seqlab.figures)

What a caller controls: `cfg` (a TrainConfig), `resume` (a checkpoint to continue) with `steps` (the new total),
`log` (called with each line of news), `progress` (a tqdm bar when stderr is a terminal; elsewhere (CI, nohup, a
log file) one line per evaluation with the speed instead of the bar's carriage returns), `plot`, `callback`
(called with each evaluation and sample; an exception from it ends the run, nothing more written) and
`should_stop` (below) and `engine` (an Engine: what computes the steps; NUMPY by default, PyTorch's from
seqlab.torch_backend.distributed.torch_engine, which seqlab.training.train picks by cfg.backend: this module
imports nothing of PyTorch's, the backend imports the trainer); `train` returns a summary dict. Where changes
go: a check on each step's loss goes in `_train_step`; where the starting parameters come from is
`Run.__init__` (the model), and the NumPy engine's step is `numpy_step`. An engine may keep the parameters
on its device between steps (torch on a GPU): whatever reads run.lm.model or run.opt in `_fit` (evaluation,
samples, checkpoints, the end) calls `current()` first.

Stopping on request: `should_stop` is a callable polled after every step (a seqlab.stopping.StopFlag, set by
SIGINT/SIGTERM in `seqlab train`, or by anything else: the web playground's cancel can call `flag.request()`).
When it returns True the run ends after the step in progress: a resumable checkpoint is written to `out`
(atomically, as every checkpoint; a StopFlag also defers a second signal until the write is done) and the
summary has `interrupted` True; resuming it to the same total gives the uninterrupted run's model, bit for bit.

Faults, all caught before anything wrong reaches the disk:
    another run writing `out`         UserError at once (seqlab.runlock: OUT.lock; a dead run's is taken over)
    output folder missing/unwritable  UserError before the data is read
    a failed write (full disk)        UserError; the previous checkpoint stays whole (seqlab.fileio)
    loss or gradient NaN/inf          Diverged (exit status 3) naming the step; the engine stops before the
                                      update; `out` is left as the last checkpoint written
    loss > 3 ln V for 100 steps       Diverged as well (seqlab.divergence: a run away with finite numbers),
                                      suggesting the default --lr and --clip; no periodic checkpoint is written
                                      while the loss is above that line; cfg.allow_divergence: one warning

Exact resumption: the batch of step s is a function of (seed, s) (seqlab.text.batching), the learning rate a
function of s, and the checkpoint holds everything else the next step depends on (the table of its keys is
seqlab.text.train_state's docstring). So `steps=20` in one run and `steps=10` followed by a resume to 20 give
the same arrays, bit for bit.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
from tqdm import tqdm

from seqlab.checkpoint import is_checkpoint, load_checkpoint
from seqlab.data import resolve_corpus
from seqlab.divergence import Runaway
from seqlab.engine import clip_by_global_norm, parameters
from seqlab.engine.optim import global_norm
from seqlab.errors import Diverged, UserError
from seqlab.figures import loss_plot_path, plot_losses
from seqlab.fileio import check_output_by_suffix, check_output_file
from seqlab.runlock import RunLock
from seqlab.stopping import saving
from seqlab.text.data import prepare_data
from seqlab.text.model import resolve_model
from seqlab.text.schedule import learning_rate
from seqlab.text.train_config import RUNTIME, TrainConfig, flag
from seqlab.text.train_state import Run, check_resumable
from seqlab.text.warm_start import load_init

__all__ = ["NUMPY", "Engine", "TrainConfig", "learning_rate", "train"]


@dataclass(frozen=True)
class Engine:
    """What computes a run's steps, given to `train` by the layer above (seqlab.training).

    make_step(run, check_finite) -> step: step(ids_in, target, mask, states, lr) -> (loss sum, count, final
        states) does the loss and gradients, clipping by global norm, Adam and the weight decay, and calls
        check_finite(loss, count, norm) before the update (it raises _NonFinite). An engine whose step keeps
        run.lm.model and run.opt elsewhere between steps (torch on a GPU) gives the step a `sync()` method,
        which _fit calls before it reads either.
    check(cfg): UserError, before anything is read or written, when cfg's backend options cannot run here.
    launch(n, corpus, out, cfg, should_stop=..., **kw) -> summary: runs the whole training in n processes
        (cfg.devices > 1; None inside those processes, or where the engine has none).
    worker: this process is one of a launched group's; the process that started it holds OUT.lock.
    """

    backend: str
    make_step: Callable
    check: Callable[[TrainConfig], None] = lambda cfg: None
    launch: Callable | None = None
    worker: bool = False


def train(corpus, out, cfg: TrainConfig | None = None, *, resume=None, steps: int | None = None,
          init=None, progress: bool = True, log=print, plot: bool = True, callback=None,
          should_stop=None, engine: Engine | None = None) -> dict:
    """Train (or resume) and write the checkpoint `out`; returns a summary dict.

    corpus: a path (or anything seqlab.data.resolve_corpus accepts). With `resume`, the configuration comes
    from that checkpoint and only `steps` (the new total) is taken from here. With `init` (a model path or
    bundled name) the run starts from that model's parameters instead of random ones (seqlab.text.warm_start
    says what must agree). Every cfg.checkpoint_every steps and at the end, `out` is replaced atomically;
    the loss curve goes to out's name + ".loss.png".
    callback, if given, is called with a dict after each evaluation ({"event": "eval", "step", "train",
    "heldout"}: nats/char, heldout None without a held-out split) and each sample ({"event": "sample", "step",
    "samples": [str]}); an exception it raises ends the run there, with nothing more written.
    should_stop: a callable polled after each step (see the module docstring); the summary's `interrupted`
    says whether it ended the run. OUT.lock is held while the run lasts (seqlab.runlock).
    engine: what computes the steps (the Engine above); NUMPY when None, and it must be of cfg.backend.
    """
    engine = engine or NUMPY
    out = Path(out)
    vocab_from = cfg.vocab_from or None if cfg is not None else None
    check_output_file(out, reads=(corpus, init, vocab_from), replaceable=is_checkpoint, kind="a seqlab checkpoint")
    if plot:
        check_output_by_suffix(loss_plot_path(out), "the loss plot", reads=(corpus, init, vocab_from),
                               beside=f"-o {out}")
    # a data-parallel worker: the process that started it holds the lock
    lock = contextlib.nullcontext() if engine.worker else RunLock(out, log=log)
    with lock:
        return _train(corpus, out, cfg, resume, steps, init, progress, log, plot, callback, should_stop, engine)


def _train(corpus, out: Path, cfg, resume, steps, init, progress, log, plot, callback, should_stop,
           engine: Engine) -> dict:
    corpus = resolve_corpus(corpus, suffix=".txt")
    cfg = cfg or TrainConfig()
    cfg.check()
    _check_engine(cfg, engine)
    if resume is None:              # a resumed run's settings are its checkpoint's (see _check_unchanged)
        cfg.check_used(init=init is not None)
    if resume is not None and init is not None:
        raise UserError("--init and --resume do not go together: a resumed run already has its parameters")
    if init is not None and cfg.devices > 1:
        raise UserError("--init is not available with --devices > 1 yet; start one process from the model")
    if cfg.devices > 1 and engine.launch is not None:   # start the processes; each comes back here in the group
        if callback is not None:
            raise ValueError("callback: not available with cfg.devices > 1 (the run is in other processes)")
        return engine.launch(cfg.devices, corpus, out, cfg, should_stop=should_stop, resume=resume, steps=steps,
                             progress=progress, plot=plot)
    if resume is not None:
        # The corpus checksum is checked against the checkpoint below; read it with the saved settings.
        resume_path = resolve_model(resume)
        arrays, meta = load_checkpoint(resume_path)
        saved = meta.get("train", {}).get("config")
        if saved is None:
            raise UserError(f"{resume} has no training state to resume from (a bundled or exported model)")
        _check_unchanged(cfg, saved, resume)
        runtime = {k: getattr(cfg, k) for k in RUNTIME}   # a run may continue on another engine
        cfg = TrainConfig.from_json({**saved, **runtime})
    if steps is not None:
        cfg.steps = int(steps)
        cfg.check()
    data = prepare_data(corpus, cfg)
    run = Run(cfg, data)
    if init is not None:
        run.lm.model.load_arrays(load_init(init, cfg, data.vocab).model.arrays())
        run.init = str(init)
    if resume is not None:
        check_resumable(resume_path, arrays, meta, data, cfg.steps)
        run.restore(arrays, meta)
    return _fit(run, out, progress, log, plot, callback, should_stop, engine)


def _check_unchanged(cfg: TrainConfig, saved: dict, resume) -> None:
    """UserError for a setting given off its default that differs from the resumed run's: it would be
    ignored, as the run continues with the settings it was started with."""
    default = TrainConfig()
    for f in fields(TrainConfig):
        if f.name in RUNTIME or f.name == "steps":
            continue
        given, before = getattr(cfg, f.name), saved.get(f.name, getattr(default, f.name))
        if given != getattr(default, f.name) and given != before:
            what = (f"{flag(f)} was not given when {resume} was trained" if isinstance(given, bool) else
                    f"{flag(f)} {given} differs from {before}, the setting {resume} was trained with")
            raise UserError(f"{what}; a resumed run keeps its settings: leave {flag(f)} out, or start a new run")


def _fit(run: Run, out: Path, progress: bool, log, plot: bool, callback=None, should_stop=None,
         engine: Engine | None = None) -> dict:
    cfg, lm, data = run.cfg, run.lm, run.data
    stop = should_stop or (lambda: False)
    batches = data.batches(cfg, lm.start_id)
    step = (engine or NUMPY).make_step(run, _check_finite)
    current = getattr(step, "sync", lambda: None)   # run.lm.model and run.opt brought up to date
    terminal = progress and sys.stderr.isatty()
    bar = tqdm(total=cfg.steps, initial=run.step, unit="step", dynamic_ncols=True) if terminal else None
    say = bar.write if bar is not None else log
    say(f"{cfg.mode} model: {cfg.cell} {cfg.layers}x{cfg.hidden}, {lm.model.num_params:,} parameters, "
        f"vocabulary {lm.vocab.size}")
    t0, chars, first = time.perf_counter(), 0, run.step
    runaway, warned = Runaway(lm.vocab.size), False
    try:
        while run.step < cfg.steps and not run.stopped_early and not stop():
            try:
                loss, count = _train_step(run, batches, step)
            except _NonFinite as exc:
                raise Diverged(f"training diverged at step {run.step + 1}: {exc}; {_left(out)}; try a lower "
                               f"--lr (this run: {cfg.lr:g})" + (f" or a smaller --clip (this run: {cfg.clip:g})"
                                                                 if cfg.clip else " or --clip 5")) from None
            chars += count
            if runaway.update(loss, count) and not warned:
                if not cfg.allow_divergence:
                    raise Diverged(f"training diverged at step {run.step}: {runaway.why()}; {_left(out)}; "
                                   f"{_advice(cfg)}, or --allow-divergence to train on regardless")
                warned = True
                say(f"warning: {runaway.why()}, up to step {run.step}; {_advice(cfg)}")
            if bar is not None:
                bar.update(1)
                if run.step % 10 == 0 or run.step == cfg.steps:
                    rate = chars / max(time.perf_counter() - t0, 1e-9)
                    bar.set_postfix_str(f"loss {loss / max(count, 1):.3f}, {rate:,.0f} chars/s")
            if run.step % cfg.eval_every == 0:
                current()
                seconds = time.perf_counter() - t0
                _evaluate(run, say, "" if bar is not None or not progress else
                          f" [step {run.step}/{cfg.steps}, {chars / max(seconds, 1e-9):,.0f} chars/s, "
                          f"{seconds:.0f} s]")
                if callback is not None:
                    h = run.history
                    callback({"event": "eval", "step": run.step, "train": h["train"][-1],
                              "heldout": h["heldout"][-1]})
            if cfg.sample_every and run.step % cfg.sample_every == 0:
                current()
                shown, line = data.samples(lm, run.step, np.random.default_rng([cfg.seed, 2, run.step]))
                say(line)
                if callback is not None:
                    callback({"event": "sample", "step": run.step, "samples": shown})
            if cfg.checkpoint_every and run.step % cfg.checkpoint_every == 0 and run.step < cfg.steps \
                    and not run.stopped_early and not (runaway.climbing and not cfg.allow_divergence):
                current()
                _save(run, out, stop, final=False)
    finally:
        if bar is not None:
            bar.close()
    current()
    interrupted = run.step < cfg.steps and not run.stopped_early
    if interrupted:   # a stop request: the state after this step, as a periodic checkpoint would hold it
        _save(run, out, stop, final=False)
    else:
        final, held = _choose_final(run, say)
        # what the file's parameters score: the best evaluation's, or the last ones' when they were kept
        scored = {"step": run.step, "nats_per_char": held} if final and held is not None else dict(run.best)
        _save(run, out, stop, final=True, use_current=final, scored=scored)
        if plot and run.history["step"]:
            plot_losses(run.history, loss_plot_path(out), f"{out.name}: {cfg.cell} {cfg.layers}x{cfg.hidden}")
    plotted = not interrupted and plot and bool(run.history["step"])   # no evaluation, no curve to draw
    seconds = time.perf_counter() - t0
    return {"path": str(out), "step": run.step, "best": run.best, "stopped_early": run.stopped_early,
            "model": None if interrupted else scored,
            "seconds": seconds, "chars_per_second": chars / max(seconds, 1e-9), "steps_run": run.step - first,
            "interrupted": interrupted, "steps": cfg.steps, "eval_every": cfg.eval_every,
            "holdout": cfg.holdout, "loss_plot": str(loss_plot_path(out)) if plotted else None}


class _NonFinite(Exception):
    """Inside a step: the loss or the gradient is NaN or infinite (the message says which)."""


def _save(run: Run, out: Path, stop, **kw) -> None:
    """run.save, refusing non-finite parameters, and marked as a write for a StopFlag (signals wait)."""
    for name, p in run.lm.model.arrays().items():
        if not np.isfinite(p).all():
            raise Diverged(f"training diverged by step {run.step}: parameter {name} holds NaN or inf; "
                           f"{_left(out)}; try a lower --lr (this run: {run.cfg.lr:g}) or --clip 1")
    with saving(stop):
        run.save(out, **kw)


def _advice(cfg: TrainConfig) -> str:
    """What to try when a run ran away: the default --lr and --clip where this run's are riskier, else a lower
    --lr than this run's."""
    default, wanted = TrainConfig(), []
    if cfg.lr > default.lr:
        wanted.append(f"--lr {default.lr:g}")
    if cfg.clip == 0 or cfg.clip > default.clip:
        wanted.append(f"--clip {default.clip:g}")
    if not wanted:
        return f"try a lower --lr (this run: {cfg.lr:g})"
    return (f"try {' and '.join(wanted)}, the default{'s' if len(wanted) > 1 else ''} (this run: --lr {cfg.lr:g}, "
            f"--clip {cfg.clip:g})")


def _left(out: Path) -> str:
    return f"{out} is left as the last checkpoint written" if out.exists() else "no checkpoint was written"


def _train_step(run: Run, batches, engine) -> tuple[float, int]:
    """One optimizer step on the batch of step run.step; returns (loss sum in nats, predicted characters)."""
    cfg, s = run.cfg, run.step
    if batches.resets_state(s):
        run.states = None
    ids_in, target, mask = batches.batch(s)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):   # checked, and said in one line
        loss, count, states = engine(ids_in, target, mask, run.states, learning_rate(cfg, s))
    if not math.isfinite(loss):   # (both engines stop earlier, before their update: _check_finite)
        raise _NonFinite(f"the loss is {loss / max(count, 1):g} nats/char")
    run.states = states if run.data.carries_state else None
    run.step = s + 1
    if cfg.ema:
        getattr(engine, "sync", lambda: None)()   # the parameters, where the engine keeps them elsewhere
        run.update_ema()
    run.acc[0] += loss
    run.acc[1] += count
    return loss, count


def numpy_step(run: Run, check=None):
    """The NumPy engine's step for `run` (Engine.make_step): a function (ids_in, target, mask, states, lr) ->
    (loss sum, count, final states) that does the loss and gradients, clipping by global norm, Adam and the
    weight decay, and raises _NonFinite (through `check`, _check_finite by default) before the update
    when the loss or the gradient is not finite. It leaves run.lm.model and run.opt as the step made them."""
    check = check or _check_finite
    cfg, model, opt = run.cfg, run.lm.model, run.opt
    decayed = [p for p, _ in parameters(model.layers) if p.ndim == 2]   # weight matrices, not biases

    def step(ids_in, target, mask, states, lr):
        opt.lr = lr
        loss, count, states = model.loss_and_grads(ids_in, target, mask, states)
        norm = clip_by_global_norm(model.layers, cfg.clip) if cfg.clip else global_norm(model.layers)
        check(loss, count, norm)   # before the update: the parameters stay good
        if cfg.weight_decay:       # AdamW (torch.optim.AdamW's order): W ← W·(1 − lr·wd), then Adam's step
            keep = 1.0 - opt.lr * cfg.weight_decay
            for w in decayed:
                w *= keep
        opt.step()
        return loss, count, states

    return step


def _check_finite(loss: float, count: int, norm: float) -> None:
    """_NonFinite, saying which, unless the step's loss sum and gradient norm (before clipping) are finite."""
    if not (math.isfinite(loss) and math.isfinite(norm)):
        raise _NonFinite(f"the loss is {loss / max(count, 1):g} nats/char" if not math.isfinite(loss)
                         else f"the gradient norm is {norm:g}")


def _check_engine(cfg: TrainConfig, engine: Engine) -> None:
    """UserError, before anything is read or written, when the backend options cannot run here."""
    if cfg.backend != engine.backend:   # a resumed run's backend is its caller's cfg's, so this holds
        raise ValueError(f"engine: the {engine.backend} engine cannot run cfg.backend {cfg.backend!r}; "
                         f"seqlab.training.train picks the engine of the backend")
    if cfg.backend == "numpy":
        for name, value, plain in (("device", cfg.device, "cpu"), ("devices", cfg.devices, 1)):
            if value != plain:
                raise UserError(f"--{name} {value} needs --backend torch (the NumPy engine runs on this CPU)")
    engine.check(cfg)   # torch: PyTorch installed, and the device here


def _evaluate(run: Run, say, suffix: str = "") -> None:
    """Record the training loss since the last evaluation and the held-out score; keep the best; stop early."""
    train_nll = run.acc[0] / max(run.acc[1], 1)
    run.acc = [0.0, 0]
    with run.evaluated():   # --ema: the average's score; it is what the best and the file keep
        held = run.data.heldout_nll(run.lm)
        arrays = run.lm.model.arrays() if held is not None else None
    run.history["step"].append(run.step)
    run.history["train"].append(train_nll)
    run.history["heldout"].append(held)
    msg = f"  step {run.step}: training {train_nll:.4f} nats/char"
    if held is not None:
        msg += f", held-out {held:.4f}"
        if run.best["nats_per_char"] is None or held < run.best["nats_per_char"]:
            run.best = {"step": run.step, "nats_per_char": held}
            run.best_arrays = arrays
            run.bad_evals = 0
            msg += " (best)"
        else:
            run.bad_evals += 1
            if run.cfg.patience and run.bad_evals >= run.cfg.patience:
                run.stopped_early = True
                msg += f"; no improvement in {run.bad_evals} evaluations, stopping (best: step " \
                       f"{run.best['step']})"
    say(msg + suffix)


def _choose_final(run: Run, say) -> tuple[bool, float | None]:
    """(whether the file's model should be the current parameters rather than the best evaluated ones, their
    held-out score when it was computed).

    A run that ends between evaluations scores its last parameters too (without recording it as an
    evaluation, so a later resume continues exactly as an uninterrupted run would).
    """
    if run.best_arrays is None:
        return True, None
    if run.stopped_early or run.step % run.cfg.eval_every == 0:
        return False, None
    with run.evaluated():
        held = run.data.heldout_nll(run.lm)
    better = held < run.best["nats_per_char"]
    say(f"  step {run.step} (end): held-out {held:.4f}" + (" (kept: better than the best evaluation)"
                                                             if better else ""))
    return better, held


NUMPY = Engine("numpy", numpy_step)   # seqlab's own engine, the default
