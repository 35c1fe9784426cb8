"""tiny shakespeare, the field's standard character-level benchmark: seqlab's stream-mode LSTM against PyTorch's.

nanoGPT's split of char-rnn's tinyshakespeare: the first 90% of the characters (1,003,854) train, the last 10%
(111,540) validate, case kept (65 characters). Both libraries train the same network — one-hot characters ->
LSTM x --layers of --hidden units -> Dense(65) -> softmax, float32 — from the same initial weights (seqlab's,
copied into PyTorch), on the same batches (seqlab.text.batching.StreamBatches: 32 parallel streams,
truncated backpropagation over 100 steps, the state carried from batch to batch), with --dropout (0.25)
between the LSTM layers and before the Dense layer (each library draws its own masks), with Adam and the
gradients clipped to global norm 5. The learning rate follows a cosine from --lr (2e-3) to a tenth of it: over
--steps steps, or, by default, over --minutes of seqlab's own training time (each step's rate is recorded
and PyTorch's step of the same number uses it). The libraries take turns every --slice steps (who goes
first alternates), on the same number of threads, so that the slow spells of a shared machine fall on both;
the run ends when seqlab has trained --minutes (or at --steps), and PyTorch then has done the same steps.

The LSTM's forget-gate bias starts at --forget-bias, 0 by default (PyTorch's and the course's initialisation),
not at `seqlab train`'s default of 1: with one-hot inputs, no dropout and the state carried, a bias of 1 lets
some cells integrate without bound (|c| above 1,000 within 100 steps, against about 20-30 with 0), and the
validation score, whose state is carried over 20,000-111,540 characters, jumps to 5-7 nats/char while the
training loss is fine; that was the "divergence" of the first runs of this benchmark. With 0 the network also
learns faster (validation 1.84 against 1.98 nats/char after 600 steps at 2e-3).

The score is nats per character on the validation part, every position predicted, the state carried across
the whole part (one stream). The curve's intermediate points score the first 20,000 validation characters
(cheaper); the final numbers score all 111,540. `--chunks N` also prints seqlab's score of each N characters,
within the carried pass and from a zero state: the part's last 34,000 characters are The Tempest, whose speakers
never appear in the training part, and score far worse than its first 20,000.

    .venv/bin/python bench/tinyshakespeare.py [--minutes 20] [--hidden 256] [--layers 2] [--json] [--png F]

Needs the "tinyshakespeare" dataset (`seqlab data fetch tinyshakespeare`) and PyTorch.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

import numpy as np

CURVE_CHARS = 20_000


def split_ids():
    """(vocabulary, training ids, validation ids) of nanoGPT's 90/10 split, case kept."""
    from seqlab import data
    from seqlab.text.corpus import read_text
    from seqlab.text.vocab import Vocabulary, normalize

    text = normalize(read_text(data.path("tinyshakespeare")), lower=False)
    vocab = Vocabulary.from_text(text)
    ids = vocab.encode(text)
    cut = int(0.9 * len(ids))
    return vocab, ids[:cut], ids[cut:]


def dev_split(train: np.ndarray, fraction: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """The training part -> (its first 95%, its last 5%: the dev slice that settings are chosen on)."""
    cut = len(train) - int(round(fraction * len(train)))
    return train[:cut], train[cut:]


def cosine_lr(lr: float, fraction: float, floor: float = 0.1) -> float:
    """lr at `fraction` (0..1) of the way through a cosine decay to floor·lr."""
    t = min(max(fraction, 0.0), 1.0)
    return lr * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * t)))


def lr_at(args, step: int, fraction: float) -> float:
    """Step `step`'s rate: a linear warm-up over --warmup steps, then the cosine of `fraction`."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    return cosine_lr(args.lr, fraction)


class Seqlab:
    """seqlab's side: CharModel, Adam, clipping to global norm 5, and the levers as seqlab's trainer does them
    (seqlab.text.trainer.numpy_step: AdamW's decay of the weight matrices before the step; train_state: the
    EMA after it, which is what is scored)."""

    def __init__(self, vocab, hidden: int, layers: int, seed: int, forget_bias: float = 0.0,
                 dropout: float = 0.0, variational: bool = False, weight_decay: float = 0.0, ema: float = 0.0):
        from seqlab.engine import Adam, parameters
        from seqlab.text.model import CharModel, LanguageModel

        self.model = CharModel(vocab.size, "lstm", hidden=hidden, layers=layers, forget_bias=forget_bias,
                               dropout=dropout, variational=variational, rng=np.random.default_rng(seed))
        self.lm = LanguageModel(self.model, vocab, False, "stream")
        self.opt = Adam(self.model.layers, lr=1e-3)
        self.states = None
        self.weight_decay, self.decay = weight_decay, ema
        self.decayed = [p for p, _ in parameters(self.model.layers) if p.ndim == 2]
        self.ema = None

    def step(self, ids_in, target, lr: float, reset: bool) -> float:
        from seqlab.engine import clip_by_global_norm

        if reset:
            self.states = None
        loss, count, self.states = self.model.loss_and_grads(ids_in, target, None, self.states)
        clip_by_global_norm(self.model.layers, 5.0)
        self.opt.lr = lr
        if self.weight_decay:
            for w in self.decayed:
                w *= 1.0 - lr * self.weight_decay
        self.opt.step()
        if self.decay:
            current = self.model.arrays()
            if self.ema is None:
                self.ema = current
            for name, avg in self.ema.items():
                avg *= self.decay
                avg += (1.0 - self.decay) * current[name]
        return loss / count

    def nll(self, ids: np.ndarray) -> float:
        from seqlab.text.evaluate import stream_nll

        current = self.model.arrays() if self.ema is not None else None
        if current is not None:
            self.model.load_arrays(self.ema)
        try:
            total, count = stream_nll(self.lm, ids)
        finally:
            if current is not None:
                self.model.load_arrays(current)
        return total / count


class Torch:
    """The same model in PyTorch: one torch.nn.LSTM per layer, so that dropout goes where seqlab puts it
    (between the layers and before the Dense layer; torch's own draws: per entry, or with --variational one
    (1, B, H) mask per batch used at every step); torch.optim.AdamW (the weight matrices decayed, not the
    biases) or Adam; the EMA of torch.optim.swa_utils' get_ema_multi_avg_fn, scored instead of the weights."""

    def __init__(self, ours: Seqlab, V: int, hidden: int, layers: int, dropout: float = 0.0,
                 variational: bool = False, weight_decay: float = 0.0, ema: float = 0.0):
        import torch

        self.torch, self.V, self.p, self.variational = torch, V, dropout, variational
        self.lstms = torch.nn.ModuleList(torch.nn.LSTM(V if k == 0 else hidden, hidden) for k in range(layers))
        self.dense = torch.nn.Linear(hidden, V)
        with torch.no_grad():   # seqlab's initial weights: W_x (D, 4H) is weight_ih's transpose, one bias
            for lstm, layer in zip(self.lstms, ours.model.rnn.layers):
                p = layer.params
                lstm.weight_ih_l0.copy_(torch.from_numpy(p["W_x"].T.copy()))
                lstm.weight_hh_l0.copy_(torch.from_numpy(p["W_h"].T.copy()))
                lstm.bias_ih_l0.copy_(torch.from_numpy(p["b"].copy()))
                lstm.bias_hh_l0.zero_()
                # seqlab has one bias per gate; torch's second stays at zero, or Adam would move both
                lstm.bias_hh_l0.requires_grad_(False)
            self.dense.weight.copy_(torch.from_numpy(ours.model.dense.params["W"].T.copy()))
            self.dense.bias.copy_(torch.from_numpy(ours.model.dense.params["b"].copy()))
        self.params = [q for q in [*self.lstms.parameters(), *self.dense.parameters()] if q.requires_grad]
        groups = [{"params": [q for q in self.params if q.ndim == 2], "weight_decay": weight_decay},
                  {"params": [q for q in self.params if q.ndim != 2], "weight_decay": 0.0}]
        self.opt = torch.optim.AdamW(groups, lr=1e-3) if weight_decay else torch.optim.Adam(self.params, lr=1e-3)
        self.decay, self.ema = ema, None
        self.state = None

    def _drop(self, h):
        torch = self.torch
        if not self.training or not self.p:
            return h
        if not self.variational:
            return torch.nn.functional.dropout(h, self.p)
        keep = 1.0 - self.p
        return h * (torch.bernoulli(torch.full((1, *h.shape[1:]), keep)) / keep)

    def _logits(self, ids: np.ndarray, state):
        h = self.torch.nn.functional.one_hot(self.torch.from_numpy(ids), self.V).float()   # (T, B, V)
        new = []
        for k, lstm in enumerate(self.lstms):
            if k:
                h = self._drop(h)
            h, s = lstm(h, None if state is None else state[k])
            new.append(s)
        return self.dense(self._drop(h)), new

    def step(self, ids_in, target, lr: float, reset: bool) -> float:
        torch = self.torch
        if reset:
            self.state = None
        self.training = True
        logits, state = self._logits(ids_in, self.state)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, self.V), torch.from_numpy(target).reshape(-1))
        self.opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, 5.0)
        for group in self.opt.param_groups:
            group["lr"] = lr
        self.opt.step()
        if self.decay:
            from torch.optim.swa_utils import get_ema_multi_avg_fn

            if self.ema is None:
                self.ema = [q.detach().clone() for q in self.params]
            else:
                with torch.no_grad():
                    get_ema_multi_avg_fn(self.decay)(self.ema, [q.detach() for q in self.params], None)
        self.state = [tuple(t.detach() for t in s) for s in state]
        return float(loss.detach())

    def nll(self, ids: np.ndarray, chunk: int = 1000) -> float:
        torch = self.torch
        total, state = 0.0, None
        self.training = False
        with torch.no_grad():
            current = [q.clone() for q in self.params] if self.ema is not None else None
            if current is not None:
                for q, a in zip(self.params, self.ema):
                    q.copy_(a)
            for s in range(0, ids.size - 1, chunk):
                x = ids[s:min(s + chunk, ids.size - 1)]
                y = torch.from_numpy(ids[s + 1:s + 1 + x.size])
                logits, state = self._logits(x[:, None], state)
                total += float(torch.nn.functional.cross_entropy(logits[:, 0].double(), y, reduction="sum"))
            if current is not None:
                for q, a in zip(self.params, current):
                    q.copy_(a)
        return total / (ids.size - 1)


def plot(curve: dict, path: str, title: str, final: dict | None = None, scored: str = "validation") -> None:
    """The curve on the first CURVE_CHARS validation characters; `final`: each library's score on all of them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from seqlab.fileio import atomic_output

    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    for name in ("seqlab", "torch"):
        line, = ax.plot(curve["step"], curve[name], marker="o",
                        label=f"{name} ({scored}, first {CURVE_CHARS:,} chars)")
        if final:
            ax.plot(curve["step"][-1], final[name], marker="X", markersize=10, linestyle="none",
                    color=line.get_color(), label=f"{name}, all {scored} chars: {final[name]:.3f}")
    if scored == "validation":
        ax.axhline(1.45, color="grey", linestyle=":", label="target 1.45 (all validation chars; issue 33)")
    ax.set_xlabel("step")
    ax.set_ylabel("nats per character")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    with atomic_output(path) as f:
        fig.savefig(f, format="png", bbox_inches="tight")
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    p.add_argument("--minutes", type=float, default=20.0, help="seqlab's training time (default 20)")
    p.add_argument("--steps", type=int, default=None, help="train exactly this many steps instead")
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seq-len", type=int, default=100)
    p.add_argument("--slice", type=int, default=10, help="steps per turn (default 10)")
    p.add_argument("--points", type=int, default=8, help="points on the curve besides the end (default 8)")
    p.add_argument("--threads", type=int, default=None, help="threads of both (default: NumPy's BLAS choice)")
    p.add_argument("--lr", type=float, default=2e-3, help="Adam's first learning rate (default 2e-3)")
    p.add_argument("--forget-bias", type=float, default=0.0,
                   help="initial bias of the LSTM's forget gates (default 0: with 1 some carried cell "
                        "states grow without bound; this file's docstring says more)")
    p.add_argument("--dropout", type=float, default=0.25,
                   help="dropout between the LSTM layers and before the Dense layer, training only (default "
                        "0.25; without it the network overfits after about 4,000 steps)")
    p.add_argument("--warmup", type=int, default=0, metavar="N",
                   help="linear warm-up of the learning rate over N steps before the cosine (default 0)")
    p.add_argument("--variational", action="store_true",
                   help="--dropout's masks drawn once per batch of sequences and used at every step")
    p.add_argument("--weight-decay", type=float, default=0.0, metavar="WD",
                   help="AdamW's decoupled decay of the weight matrices (default 0: Adam)")
    p.add_argument("--ema", type=float, default=0.0, metavar="D",
                   help="score an exponential moving average of the weights, avg <- D avg + (1 - D) w (default 0)")
    p.add_argument("--dev", action="store_true",
                   help="for choosing settings: train on the first 95%% of the training part and score its "
                        "last 5%% (the dev slice) instead of the validation part, which stays unseen")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--chunks", type=int, metavar="N",
                   help="also score seqlab's model on each N characters of the validation part, within the "
                        "carried pass and from a fresh state (with --json, on stderr)")
    p.add_argument("--json", action="store_true", help="print only the result as JSON")
    p.add_argument("--png", metavar="FILE", help="write the validation curve of both to FILE")
    args = p.parse_args(argv)
    if not 0.0 <= args.dropout < 1.0:
        p.error(f"--dropout must be in [0, 1), got {args.dropout}")
    if args.warmup < 0 or args.weight_decay < 0 or not 0.0 <= args.ema < 1.0:
        p.error(f"--warmup and --weight-decay must be at least 0 and --ema in [0, 1), got {args.warmup}, "
                f"{args.weight_decay} and {args.ema}")
    if args.variational and not args.dropout:
        p.error("--variational says how --dropout's masks are drawn; give --dropout P above 0")
    if args.chunks is not None and args.chunks < 2:
        p.error(f"--chunks must be at least 2 characters, got {args.chunks}")
    say = (lambda *a: print(*a, file=sys.stderr, flush=True)) if args.json else \
        (lambda *a: print(*a, flush=True))

    import torch
    from threadpoolctl import threadpool_info, threadpool_limits

    from seqlab.text.batching import StreamBatches

    threads = args.threads or max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
    torch.set_num_threads(threads)
    torch.manual_seed(args.seed)   # its dropout masks
    threadpool_limits(limits=threads)
    vocab, train, val = split_ids()
    scored = "validation"
    if args.dev:   # the held-out part of the training part; the validation part is not read
        train, val, scored = dev_split(train) + ("dev",)
    batches = StreamBatches(train, args.batch_size, args.seq_len)
    levers = dict(variational=args.variational, weight_decay=args.weight_decay, ema=args.ema)
    ours = Seqlab(vocab, args.hidden, args.layers, args.seed, args.forget_bias, args.dropout, **levers)
    theirs = Torch(ours, vocab.size, args.hidden, args.layers, args.dropout, **levers)
    libs = {"seqlab": ours, "torch": theirs}
    budget = args.minutes * 60
    say(f"tinyshakespeare: {train.size:,} training / {val.size:,} {scored} characters, vocabulary {vocab.size}; "
        f"LSTM {args.layers}x{args.hidden}, batch {batches.batch_size}x{batches.seq_len}, {threads} thread(s), "
        + (f"{args.steps} steps" if args.steps else f"{args.minutes:g} minutes of seqlab training"))

    spent = {"seqlab": 0.0, "torch": 0.0}
    lrs: list[float] = []
    curve = {"step": [], "seqlab": [], "torch": []}
    step, turn, next_point = 0, 0, 1

    def fraction() -> float:
        return step / args.steps if args.steps else spent["seqlab"] / budget

    def finished() -> bool:
        return step >= args.steps if args.steps else spent["seqlab"] >= budget

    while not finished():
        names = ["seqlab", "torch"] if turn % 2 == 0 else ["torch", "seqlab"]
        first = step
        n = min(args.slice, args.steps - step) if args.steps else args.slice
        for name in names:
            t0 = time.perf_counter()
            for s in range(first, first + n):
                if len(lrs) <= s:   # seqlab or torch, whoever takes step s first fixes its rate
                    lrs.append(lr_at(args, s, fraction()))
                ids_in, target, _ = batches.batch(s)
                loss = libs[name].step(ids_in, target, lrs[s], batches.resets_state(s))
            spent[name] += time.perf_counter() - t0
            if not math.isfinite(loss):
                say(f"{name}: the loss is {loss} at step {s}; stopping")
                return 1
        step, turn = first + n, turn + 1
        if fraction() >= next_point / (args.points + 1) and not finished():
            next_point = int(fraction() * (args.points + 1)) + 1
            curve["step"].append(step)
            for name in libs:
                curve[name].append(libs[name].nll(val[:CURVE_CHARS]))
            say(f"  step {step}: seqlab {spent['seqlab']:.0f} s, torch {spent['torch']:.0f} s; {scored} "
                f"(first {CURVE_CHARS:,}) seqlab {curve['seqlab'][-1]:.4f}, torch {curve['torch'][-1]:.4f}")

    result = {}
    for name, lib in libs.items():
        key = "dev_nats_per_char" if args.dev else "val_nats_per_char"
        result[name] = {key: lib.nll(val), "seconds_per_step": spent[name] / step, "steps": step}
    result["step_time_ratio"] = result["seqlab"]["seconds_per_step"] / result["torch"]["seconds_per_step"]
    curve["step"].append(step)
    for name, lib in libs.items():
        curve[name].append(lib.nll(val[:CURVE_CHARS]))
    if args.png:
        plot(curve, args.png, f"tinyshakespeare, LSTM {args.layers}x{args.hidden}, dropout {args.dropout:g}, "
                              f"{step} steps", {name: result[name][key] for name in libs}, scored)
    if args.json:
        print(json.dumps(result))
    else:
        for name in libs:
            r = result[name]
            print(f"{name:6s}  {scored} {r[key]:.4f} nats/char after {r['steps']} steps, "
                  f"{r['seconds_per_step']:.3f} s/step")
        print(f"step time ratio (seqlab / torch): {result['step_time_ratio']:.2f}")
    if args.chunks:
        say_chunks(say, ours, val, args.chunks)
    return 0


def say_chunks(say, ours: Seqlab, val: np.ndarray, size: int) -> None:
    """seqlab's score of each `size` characters of the validation part: inside the pass that carries the state
    across the whole part, and read alone from a zero state. Equal columns mean the carried state costs
    nothing and the parts differ in what they hold."""
    from seqlab.text.evaluate import stream_losses

    carried = stream_losses(ours.lm, val)
    say(f"seqlab, each {size:,} validation characters: carried state / fresh state")
    for k in range(0, carried.size, size):
        fresh = stream_losses(ours.lm, val[k:k + size + 1]).mean()   # the same predictions, from a zero state
        say(f"  {k:>7,}-{min(k + size, carried.size):<7,} {carried[k:k + size].mean():.4f} / {fresh:.4f}")


if __name__ == "__main__":
    sys.exit(main())
