"""Training a character-level LanguageModel, top to bottom.

    train(corpus, out, cfg)
        data = prepare_data(corpus, cfg)       seqlab.text.data: the split, and everything that differs by mode
        run = Run(cfg, data)                   seqlab.text.train_state: model, Adam, step, best, history, ...
        run.restore(checkpoint)                (with resume=) after check_resumable
        _fit(run, out):
            while run.step < cfg.steps and not run.stopped_early:
                _train_step: the step's learning rate (seqlab.text.schedule) and batch, then the engine
                             (_engine: NumPy's or PyTorch's, by cfg.backend): loss and gradients, clipping
                             by global norm, Adam, decoupled weight decay
                every eval_every steps:       held-out nats/char, the best parameters, early stopping
                every sample_every steps:     samples printed
                every checkpoint_every steps: the checkpoint, replaced atomically
            the final checkpoint (the best or the last parameters) and the loss plot (seqlab.figures)

What a caller controls: `cfg` (a TrainConfig), `resume` (a checkpoint to continue) with `steps` (the new total),
`log` (called with each line of news), `progress` (a tqdm bar on stderr; news then goes through the bar),
`plot`, and `callback` (called with each evaluation and sample; an exception from it ends the run, nothing more
written); `train` returns a summary dict. Where changes go: a stop request is one more condition of the `while`
in `_fit` (the final checkpoint follows as usual); a check on each step's loss goes in `_train_step`; where the
starting parameters come from is `Run.__init__` (the model), and which engine computes is `_engine`.

Exact resumption: the batch of step s is a function of (seed, s) (seqlab.text.batching), the learning rate a
function of s, and the checkpoint holds everything else the next step depends on (the table of its keys is
seqlab.text.train_state's docstring). So `steps=20` in one run and `steps=10` followed by a resume to 20 give
the same arrays, bit for bit.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from seqlab.checkpoint import load_checkpoint
from seqlab.data import resolve_corpus
from seqlab.engine import clip_by_global_norm, parameters
from seqlab.errors import UserError
from seqlab.figures import loss_plot_path, plot_losses
from seqlab.fileio import check_output_file
from seqlab.text.data import prepare_data
from seqlab.text.model import resolve_model
from seqlab.text.schedule import learning_rate
from seqlab.text.train_config import RUNTIME, TrainConfig
from seqlab.text.train_state import Run, check_resumable

__all__ = ["TrainConfig", "learning_rate", "train"]


def train(corpus, out, cfg: TrainConfig | None = None, *, resume=None, steps: int | None = None,
          progress: bool = True, log=print, plot: bool = True, callback=None) -> dict:
    """Train (or resume) and write the checkpoint `out`; returns a summary dict.

    corpus: a path (or anything seqlab.data.resolve_corpus accepts). With `resume`, the configuration comes
    from that checkpoint and only `steps` (the new total) is taken from here. Every cfg.checkpoint_every
    steps and at the end, `out` is replaced atomically; the loss curve goes to out's name + ".loss.png".
    callback, if given, is called with a dict after each evaluation ({"event": "eval", "step", "train",
    "heldout"}: nats/char, heldout None without a held-out split) and each sample ({"event": "sample", "step",
    "samples": [str]}); an exception it raises ends the run there, with nothing more written.
    """
    out = Path(out)
    check_output_file(out)
    corpus = resolve_corpus(corpus)
    cfg = cfg or TrainConfig()
    cfg.check()
    _check_engine(cfg)
    if cfg.devices > 1:
        from seqlab.torch_backend.distributed import launch, world

        if world() is None:   # start the processes; each comes back here inside the group
            if callback is not None:
                raise ValueError("callback: not available with cfg.devices > 1 (the run is in other processes)")
            return launch(cfg.devices, corpus, out, cfg, resume=resume, steps=steps, progress=progress,
                          plot=plot)
    if resume is not None:
        # The corpus checksum is checked against the checkpoint below; read it with the saved settings.
        resume_path = resolve_model(resume)
        arrays, meta = load_checkpoint(resume_path)
        saved = meta.get("train", {}).get("config")
        if saved is None:
            raise UserError(f"{resume} has no training state to resume from (a bundled or exported model)")
        runtime = {k: getattr(cfg, k) for k in RUNTIME}   # a run may continue on another engine
        cfg = TrainConfig.from_json({**saved, **runtime})
    if steps is not None:
        cfg.steps = int(steps)
        cfg.check()
    data = prepare_data(corpus, cfg)
    run = Run(cfg, data)
    if resume is not None:
        check_resumable(resume_path, arrays, meta, data, cfg.steps)
        run.restore(arrays, meta)
    return _fit(run, out, progress, log, plot, callback)


def _fit(run: Run, out: Path, progress: bool, log, plot: bool, callback=None) -> dict:
    cfg, lm, data = run.cfg, run.lm, run.data
    batches = data.batches(cfg, lm.start_id)
    engine = _engine(run)
    bar = tqdm(total=cfg.steps, initial=run.step, unit="step", dynamic_ncols=True) if progress else None
    say = bar.write if bar is not None else log
    say(f"{cfg.mode} model: {cfg.cell} {cfg.layers}x{cfg.hidden}, {lm.model.num_params:,} parameters, "
        f"vocabulary {lm.vocab.size}")
    t0, chars, first = time.perf_counter(), 0, run.step
    try:
        while run.step < cfg.steps and not run.stopped_early:
            loss, count = _train_step(run, batches, engine)
            chars += count
            if bar is not None:
                bar.update(1)
                if run.step % 10 == 0 or run.step == cfg.steps:
                    rate = chars / max(time.perf_counter() - t0, 1e-9)
                    bar.set_postfix_str(f"loss {loss / max(count, 1):.3f}, {rate:,.0f} chars/s")
            if run.step % cfg.eval_every == 0:
                _evaluate(run, say)
                if callback is not None:
                    h = run.history
                    callback({"event": "eval", "step": run.step, "train": h["train"][-1],
                              "heldout": h["heldout"][-1]})
            if cfg.sample_every and run.step % cfg.sample_every == 0:
                shown, line = data.samples(lm, run.step, np.random.default_rng([cfg.seed, 2, run.step]))
                say(line)
                if callback is not None:
                    callback({"event": "sample", "step": run.step, "samples": shown})
            if cfg.checkpoint_every and run.step % cfg.checkpoint_every == 0 and run.step < cfg.steps \
                    and not run.stopped_early:
                run.save(out, final=False)
    finally:
        if bar is not None:
            bar.close()
    final = _choose_final(run, say)
    run.save(out, final=True, use_current=final)
    if plot and run.history["step"]:
        plot_losses(run.history, loss_plot_path(out), f"{out.name}: {cfg.cell} {cfg.layers}x{cfg.hidden}")
    seconds = time.perf_counter() - t0
    return {"path": str(out), "step": run.step, "best": run.best, "stopped_early": run.stopped_early,
            "seconds": seconds, "chars_per_second": chars / max(seconds, 1e-9), "steps_run": run.step - first}


def _train_step(run: Run, batches, engine) -> tuple[float, int]:
    """One optimizer step on the batch of step run.step; returns (loss sum in nats, predicted characters)."""
    cfg, s = run.cfg, run.step
    if batches.resets_state(s):
        run.states = None
    ids_in, target, mask = batches.batch(s)
    loss, count, states = engine(ids_in, target, mask, run.states, learning_rate(cfg, s))
    run.states = states if run.data.carries_state else None
    run.step = s + 1
    run.acc[0] += loss
    run.acc[1] += count
    return loss, count


def _engine(run: Run):
    """What computes a step, by cfg.backend: a function (ids_in, target, mask, states, lr) -> (loss sum, count,
    final states) that does the loss and gradients, clipping by global norm, Adam and the weight decay, and
    leaves run.lm.model and run.opt as the step made them. "torch": seqlab.torch_backend.train_step."""
    if run.cfg.backend == "torch":
        from seqlab.torch_backend.train_step import make_step

        return make_step(run)
    cfg, model, opt = run.cfg, run.lm.model, run.opt
    decayed = [p for p, _ in parameters(model.layers) if p.ndim == 2]   # weight matrices, not biases

    def numpy_step(ids_in, target, mask, states, lr):
        opt.lr = lr
        loss, count, states = model.loss_and_grads(ids_in, target, mask, states)
        if cfg.clip:
            clip_by_global_norm(model.layers, cfg.clip)
        opt.step()
        if cfg.weight_decay:
            shrink = opt.lr * cfg.weight_decay
            for w in decayed:
                w -= shrink * w
        return loss, count, states

    return numpy_step


def _check_engine(cfg: TrainConfig) -> None:
    """UserError, before anything is read or written, when the backend options cannot run here."""
    if cfg.backend == "numpy":
        for name, value, plain in (("device", cfg.device, "cpu"), ("devices", cfg.devices, 1)):
            if value != plain:
                raise UserError(f"--{name} {value} needs --backend torch (the NumPy engine runs on this CPU)")
        return
    from seqlab.torch_backend import resolve_device

    resolve_device(cfg.device)   # PyTorch installed, and the device here


def _evaluate(run: Run, say) -> None:
    """Record the training loss since the last evaluation and the held-out score; keep the best; stop early."""
    train_nll = run.acc[0] / max(run.acc[1], 1)
    run.acc = [0.0, 0]
    held = run.data.heldout_nll(run.lm)
    run.history["step"].append(run.step)
    run.history["train"].append(train_nll)
    run.history["heldout"].append(held)
    msg = f"  step {run.step}: training {train_nll:.4f} nats/char"
    if held is not None:
        msg += f", held-out {held:.4f}"
        if run.best["nats_per_char"] is None or held < run.best["nats_per_char"]:
            run.best = {"step": run.step, "nats_per_char": held}
            run.best_arrays = run.lm.model.arrays()
            run.bad_evals = 0
            msg += " (best)"
        else:
            run.bad_evals += 1
            if run.cfg.patience and run.bad_evals >= run.cfg.patience:
                run.stopped_early = True
                msg += f"; no improvement in {run.bad_evals} evaluations, stopping (best: step " \
                       f"{run.best['step']})"
    say(msg)


def _choose_final(run: Run, say) -> bool:
    """Whether the file's model should be the current parameters rather than the best evaluated ones.

    A run that ends between evaluations scores its last parameters too (without recording it as an
    evaluation, so a later resume continues exactly as an uninterrupted run would).
    """
    if run.best_arrays is None:
        return True
    if run.stopped_early or run.step % run.cfg.eval_every == 0:
        return False
    held = run.data.heldout_nll(run.lm)
    better = held < run.best["nats_per_char"]
    say(f"  step {run.step} (end): held-out {held:.4f}" + (" (kept: better than the best evaluation)"
                                                             if better else ""))
    return better
