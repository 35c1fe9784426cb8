"""Training a character-level LanguageModel: Adam, clipping by global norm, a learning-rate schedule, a held-out
split scored in nats per character, early stopping on it, atomic checkpoints that resume exactly.

Exact resumption: the batch of step s is a function of (seed, s) (seqlab.text.batching), the learning rate a
function of s, and the checkpoint holds the current parameters, Adam's moments and step count, the dropout
generator's state and (stream mode) the carried recurrent state. So `steps=20` in one run and `steps=10`
followed by a resume to 20 give the same arrays, bit for bit.

The checkpoint's model ("model.*" arrays) is the best one on the held-out split so far (the current one when
there is no held-out split); the current parameters for resuming are kept under "resume.*".
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from seqlab.errors import UserError
from seqlab.fileio import atomic_output
from seqlab.text.model import START, CharModel, LanguageModel
from seqlab.text.train_config import TrainConfig
from seqlab.text.vocab import Vocabulary, normalize


def learning_rate(cfg: TrainConfig, step: int) -> float:
    """The learning rate of step `step` (0-based): linear warm-up, then cosine decay, then flat."""
    lr = cfg.lr
    if cfg.warmup and step < cfg.warmup:
        return lr * (step + 1) / cfg.warmup
    if cfg.decay_steps:
        t = min(1.0, (step - cfg.warmup) / cfg.decay_steps)
        lr *= cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * t))
    return lr


# --- data --------------------------------------------------------------------------------------------------
@dataclass
class Data:
    """A corpus prepared for training: vocabulary, the training part and the held-out part."""

    vocab: Vocabulary
    train: object            # lines: list of ids (L,) arrays; stream: ids (N,)
    heldout: object          # same kinds; empty list / None when there is no held-out split
    train_lines: list[str] | None
    sha256: str


def prepare_data(path, cfg: TrainConfig) -> Data:
    """Read, normalise, encode and split the corpus (bad files are UserErrors, before anything is written)."""
    from seqlab.text.corpus import check_distinct, lines_corpus, read_text, sha256_of

    source = str(path)
    text = normalize(read_text(path), lower=cfg.lower)
    sha = sha256_of(path)
    if cfg.mode == "lines":
        lines = lines_corpus(text, source)
        vocab = Vocabulary.from_text("\n".join(lines) + START)
        n_hold = int(round(cfg.holdout * len(lines))) if len(lines) >= 2 else 0
        n_hold = min(n_hold, len(lines) - 1)
        held = set(np.random.default_rng([cfg.seed, 3]).permutation(len(lines))[:n_hold].tolist())
        train = [s for i, s in enumerate(lines) if i not in held]
        heldout = [lines[i] for i in sorted(held)]
        return Data(vocab, [vocab.encode(s) for s in train], heldout, train, sha)
    check_distinct(text, source)
    vocab = Vocabulary.from_text(text + START)
    ids = vocab.encode(text)
    cut = ids.size - int(round(cfg.holdout * ids.size))
    if cut < 3 or (cut < ids.size and ids.size - cut < 2):
        cut = ids.size
    return Data(vocab, ids[:cut], ids[cut:] if cut < ids.size else None, None, sha)


def _batches(data: Data, cfg: TrainConfig, start_id: int):
    from seqlab.text.batching import LinesBatches, StreamBatches

    if cfg.mode == "lines":
        return LinesBatches(data.train, cfg.batch_size, start_id, cfg.seed)
    return StreamBatches(data.train, cfg.batch_size, cfg.seq_len)


def heldout_nll(lm: LanguageModel, data: Data) -> float | None:
    """Mean nats per predicted character on the held-out part, or None without one."""
    from seqlab.text.evaluate import lines_nll, stream_nll

    empty = not data.heldout if lm.mode == "lines" else data.heldout is None
    if empty:
        return None
    total, count = (lines_nll(lm, data.heldout) if lm.mode == "lines" else stream_nll(lm, data.heldout))
    return total / count


# --- state that goes into checkpoints ----------------------------------------------------------------------
def _state_arrays(states) -> dict[str, np.ndarray]:
    out = {}
    for k, s in enumerate(states or []):
        for j, a in enumerate(s if isinstance(s, tuple) else (s,)):
            out[f"resume.state.{k}.{j}"] = a
    return out


def _states_from(arrays: dict, layers: int, cell: str):
    if "resume.state.0.0" not in arrays:
        return None
    if cell == "lstm":
        return [(arrays[f"resume.state.{k}.0"], arrays[f"resume.state.{k}.1"]) for k in range(layers)]
    return [arrays[f"resume.state.{k}.0"] for k in range(layers)]


class _Run:
    """The mutable state of one training run (what a checkpoint saves)."""

    def __init__(self, cfg: TrainConfig, data: Data):
        self.cfg, self.data = cfg, data
        from seqlab.engine import Adam

        model = CharModel(data.vocab.size, dtype=np.float32, rng=np.random.default_rng(cfg.seed),
                          **cfg.model_config())
        self.rng = np.random.default_rng([cfg.seed, 1])   # dropout masks
        model.set_dropout_rng(self.rng)
        lines = frozenset(data.train_lines) if data.train_lines is not None else None
        self.lm = LanguageModel(model, data.vocab, cfg.lower, cfg.mode, lines)
        self.opt = Adam(model.layers, lr=cfg.lr)
        self.step = 0
        self.states = None
        self.best_arrays = None   # parameters at the best held-out score
        self.best = {"step": None, "nats_per_char": None}
        self.bad_evals = 0
        self.stopped_early = False
        self.acc = [0.0, 0]       # training loss sum and count since the last evaluation
        self.history = {"step": [], "train": [], "heldout": []}

    def save(self, path: Path, final: bool, use_current: bool = False) -> None:
        """Checkpoint: model.* = best parameters (or the current ones with use_current or no held-out)."""
        model = self.lm.model
        current = model.arrays()
        extra = {f"resume.param.{k}": v for k, v in current.items()}
        if use_current and self.best_arrays is not None:  # keep the best for a later resume
            extra.update({f"resume.best.{k}": v for k, v in self.best_arrays.items()})
        extra.update({f"resume.opt.{k}": v for k, v in self.opt.state_dict().items()})
        extra.update(_state_arrays(self.states))
        meta = {"step": self.step, "train": {
            "config": asdict(self.cfg), "rng": self.rng.bit_generator.state, "data_sha256": self.data.sha256,
            "best": self.best, "bad_evals": self.bad_evals, "stopped_early": self.stopped_early,
            "acc": self.acc, "history": self.history, "final": final}}
        if self.best_arrays is not None and not use_current:
            model.load_arrays(self.best_arrays)
        try:
            self.lm.save(path, extra, meta)
        finally:
            model.load_arrays(current)

    def restore(self, arrays: dict, meta: dict) -> None:
        t = meta["train"]
        model = self.lm.model
        model.load_arrays({k[len("resume.param."):]: v for k, v in arrays.items()
                           if k.startswith("resume.param.")})
        self.opt.load_state_dict({k[len("resume.opt."):]: v for k, v in arrays.items()
                                  if k.startswith("resume.opt.")})
        self.rng.bit_generator.state = t["rng"]
        self.states = _states_from(arrays, self.cfg.layers, self.cfg.cell)
        self.step = int(meta["step"])
        self.best, self.bad_evals = t["best"], int(t["bad_evals"])
        self.stopped_early, self.acc, self.history = bool(t["stopped_early"]), t["acc"], t["history"]
        if self.best["step"] is not None:
            prefix = "resume.best." if any(k.startswith("resume.best.") for k in arrays) else "model."
            self.best_arrays = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}


def _check_resume(path: Path, arrays: dict, meta: dict, data: Data, steps: int) -> None:
    """UserError unless the checkpoint (arrays, meta) read from `path` can resume a run on this corpus."""
    if "train" not in meta or "resume.opt.t" not in arrays:
        raise UserError(f"{path} has no training state to resume from (a bundled or exported model)")
    if meta["train"]["data_sha256"] != data.sha256:
        raise UserError(f"{path} was trained on a different corpus (sha256 {meta['train']['data_sha256']}, "
                        f"this one is {data.sha256})")
    if int(meta["step"]) >= steps:
        raise UserError(f"{path} is already at step {meta['step']}; ask for more --steps than that to resume")
    if meta["train"]["stopped_early"]:
        raise UserError(f"{path} stopped early at step {meta['step']} (no held-out improvement); "
                        f"nothing to resume")


def _check_output(out: Path) -> None:
    if out.is_dir():
        raise UserError(f"-o {out} is a directory; expected a file name like model.npz")
    if not out.parent.is_dir():
        raise UserError(f"-o {out}: folder {out.parent} does not exist")
    if not os.access(out.parent, os.W_OK):
        raise UserError(f"-o {out}: folder {out.parent} is not writable")


def plot_losses(history: dict, path: Path, title: str = "") -> None:
    """Training and held-out loss (nats/char) against step, as a PNG written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    ax.plot(history["step"], history["train"], label="training")
    held = [(s, v) for s, v in zip(history["step"], history["heldout"]) if v is not None]
    if held:
        ax.plot(*zip(*held), label="held-out")
    ax.set_xlabel("step")
    ax.set_ylabel("nats per character")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    try:
        with atomic_output(path) as f:
            fig.savefig(f, format="png", bbox_inches="tight")
    finally:
        plt.close(fig)


def loss_plot_path(out: Path) -> Path:
    """model.npz -> model.loss.png beside it."""
    return out.with_name(out.stem + ".loss.png")


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
    from seqlab.data import resolve_corpus

    out = Path(out)
    _check_output(out)
    corpus = resolve_corpus(corpus)
    cfg = cfg or TrainConfig()
    cfg.check()
    if resume is not None:
        # The corpus checksum is checked against the checkpoint below; read it with the saved settings.
        from seqlab.checkpoint import load_checkpoint
        from seqlab.text.model import resolve_model

        resume_path = resolve_model(resume)
        arrays, meta = load_checkpoint(resume_path)
        saved = meta.get("train", {}).get("config")
        if saved is None:
            raise UserError(f"{resume} has no training state to resume from (a bundled or exported model)")
        cfg = TrainConfig.from_json(saved)
    if steps is not None:
        cfg.steps = int(steps)
        cfg.check()
    data = prepare_data(corpus, cfg)
    run = _Run(cfg, data)
    if resume is not None:
        _check_resume(resume_path, arrays, meta, data, cfg.steps)
        run.restore(arrays, meta)
    return _loop(run, out, progress, log, plot, callback)


def _loop(run: _Run, out: Path, progress: bool, log, plot: bool, callback=None) -> dict:
    from seqlab.engine import clip_by_global_norm, parameters
    from seqlab.text.sampling import generate

    cfg, lm, model = run.cfg, run.lm, run.lm.model
    batches = _batches(run.data, cfg, lm.start_id)
    decayed = [p for p, _ in parameters(model.layers) if p.ndim == 2]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=cfg.steps, initial=run.step, unit="step", dynamic_ncols=True)
    say = bar.write if bar is not None else log
    say(f"{cfg.mode} model: {cfg.cell} {cfg.layers}x{cfg.hidden}, {model.num_params:,} parameters, "
        f"vocabulary {lm.vocab.size}")
    t0, chars, first = time.perf_counter(), 0, run.step
    try:
        while run.step < cfg.steps and not run.stopped_early:
            s = run.step
            run.opt.lr = learning_rate(cfg, s)
            if batches.resets_state(s):
                run.states = None
            ids_in, target, mask = batches.batch(s)
            loss, count, states = model.loss_and_grads(ids_in, target, mask, run.states)
            run.states = states if cfg.mode == "stream" else None
            if cfg.clip:
                clip_by_global_norm(model.layers, cfg.clip)
            run.opt.step()
            if cfg.weight_decay:
                shrink = run.opt.lr * cfg.weight_decay
                for w in decayed:
                    w -= shrink * w
            run.step = s + 1
            run.acc[0] += loss
            run.acc[1] += count
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
                rng = np.random.default_rng([cfg.seed, 2, run.step])
                if cfg.mode == "lines":
                    shown = generate(lm, 3, max_len=80, rng=rng)
                    say(f"  step {run.step} samples: " + " | ".join(shown))
                else:
                    shown = generate(lm, 1, max_len=200, rng=rng)
                    say(f"  step {run.step} sample: {shown[0]!r}")
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


def _choose_final(run: _Run, say) -> bool:
    """Whether the file's model should be the current parameters rather than the best evaluated ones.

    A run that ends between evaluations scores its last parameters too (without recording it as an
    evaluation, so a later resume continues exactly as an uninterrupted run would).
    """
    if run.best_arrays is None:
        return True
    if run.stopped_early or run.step % run.cfg.eval_every == 0:
        return False
    held = heldout_nll(run.lm, run.data)
    better = held < run.best["nats_per_char"]
    say(f"  step {run.step} (end): held-out {held:.4f}" + (" (kept: better than the best evaluation)"
                                                             if better else ""))
    return better


def _evaluate(run: _Run, say) -> None:
    train_nll = run.acc[0] / max(run.acc[1], 1)
    run.acc = [0.0, 0]
    held = heldout_nll(run.lm, run.data)
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
