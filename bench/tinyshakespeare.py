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


def cosine_lr(lr: float, fraction: float, floor: float = 0.1) -> float:
    """lr at `fraction` (0..1) of the way through a cosine decay to floor·lr."""
    t = min(max(fraction, 0.0), 1.0)
    return lr * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * t)))


class Seqlab:
    def __init__(self, vocab, hidden: int, layers: int, seed: int, forget_bias: float = 0.0,
                 dropout: float = 0.0):
        from seqlab.engine import Adam
        from seqlab.text.model import CharModel, LanguageModel

        self.model = CharModel(vocab.size, "lstm", hidden=hidden, layers=layers, forget_bias=forget_bias,
                               dropout=dropout, rng=np.random.default_rng(seed))
        self.lm = LanguageModel(self.model, vocab, False, "stream")
        self.opt = Adam(self.model.layers, lr=1e-3)
        self.states = None

    def step(self, ids_in, target, lr: float, reset: bool) -> float:
        from seqlab.engine import clip_by_global_norm

        if reset:
            self.states = None
        loss, count, self.states = self.model.loss_and_grads(ids_in, target, None, self.states)
        clip_by_global_norm(self.model.layers, 5.0)
        self.opt.lr = lr
        self.opt.step()
        return loss / count

    def nll(self, ids: np.ndarray) -> float:
        from seqlab.text.evaluate import stream_nll

        total, count = stream_nll(self.lm, ids)
        return total / count


class Torch:
    def __init__(self, ours: Seqlab, V: int, hidden: int, layers: int, dropout: float = 0.0):
        import torch

        self.torch, self.V = torch, V
        # seqlab's places: between the LSTM layers and before the Dense layer (its masks are torch's own draws)
        self.lstm = torch.nn.LSTM(V, hidden, layers, dropout=dropout if layers > 1 else 0.0)
        self.drop = torch.nn.Dropout(dropout)
        self.dense = torch.nn.Linear(hidden, V)
        with torch.no_grad():   # seqlab's initial weights: W_x (D, 4H) is weight_ih's transpose, one bias
            for k, layer in enumerate(ours.model.rnn.layers):
                p = layer.params
                getattr(self.lstm, f"weight_ih_l{k}").copy_(torch.from_numpy(p["W_x"].T.copy()))
                getattr(self.lstm, f"weight_hh_l{k}").copy_(torch.from_numpy(p["W_h"].T.copy()))
                getattr(self.lstm, f"bias_ih_l{k}").copy_(torch.from_numpy(p["b"].copy()))
                getattr(self.lstm, f"bias_hh_l{k}").zero_()
            self.dense.weight.copy_(torch.from_numpy(ours.model.dense.params["W"].T.copy()))
            self.dense.bias.copy_(torch.from_numpy(ours.model.dense.params["b"].copy()))
        # seqlab has one bias per gate; torch's second (bias_hh) stays at zero, or Adam would move both.
        for k in range(layers):
            getattr(self.lstm, f"bias_hh_l{k}").requires_grad_(False)
        self.params = [q for q in [*self.lstm.parameters(), *self.dense.parameters()] if q.requires_grad]
        self.opt = torch.optim.Adam(self.params, lr=1e-3)
        self.state = None

    def _logits(self, ids: np.ndarray, state):
        x = self.torch.nn.functional.one_hot(self.torch.from_numpy(ids), self.V).float()   # (T, B, V)
        h, state = self.lstm(x, state)
        return self.dense(self.drop(h)), state

    def step(self, ids_in, target, lr: float, reset: bool) -> float:
        torch = self.torch
        if reset:
            self.state = None
        self.lstm.train()
        self.drop.train()
        logits, state = self._logits(ids_in, self.state)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, self.V), torch.from_numpy(target).reshape(-1))
        self.opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, 5.0)
        for group in self.opt.param_groups:
            group["lr"] = lr
        self.opt.step()
        self.state = tuple(s.detach() for s in state)
        return float(loss.detach())

    def nll(self, ids: np.ndarray, chunk: int = 1000) -> float:
        torch = self.torch
        total, state = 0.0, None
        self.lstm.eval()
        self.drop.eval()
        with torch.no_grad():
            for s in range(0, ids.size - 1, chunk):
                x = ids[s:min(s + chunk, ids.size - 1)]
                y = torch.from_numpy(ids[s + 1:s + 1 + x.size])
                logits, state = self._logits(x[:, None], state)
                total += float(torch.nn.functional.cross_entropy(logits[:, 0].double(), y, reduction="sum"))
        return total / (ids.size - 1)


def plot(curve: dict, path: str, title: str, final: dict | None = None) -> None:
    """The curve on the first CURVE_CHARS validation characters; `final`: each library's score on all of them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from seqlab.fileio import atomic_output

    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    for name in ("seqlab", "torch"):
        line, = ax.plot(curve["step"], curve[name], marker="o",
                        label=f"{name} (validation, first {CURVE_CHARS:,} chars)")
        if final:
            ax.plot(curve["step"][-1], final[name], marker="X", markersize=10, linestyle="none",
                    color=line.get_color(), label=f"{name}, all validation chars: {final[name]:.3f}")
    ax.axhline(1.40, color="grey", linestyle=":", label="target 1.40 (all validation chars)")
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
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--chunks", type=int, metavar="N",
                   help="also score seqlab's model on each N characters of the validation part, within the "
                        "carried pass and from a fresh state (with --json, on stderr)")
    p.add_argument("--json", action="store_true", help="print only the result as JSON")
    p.add_argument("--png", metavar="FILE", help="write the validation curve of both to FILE")
    args = p.parse_args(argv)
    if not 0.0 <= args.dropout < 1.0:
        p.error(f"--dropout must be in [0, 1), got {args.dropout}")
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
    batches = StreamBatches(train, args.batch_size, args.seq_len)
    ours = Seqlab(vocab, args.hidden, args.layers, args.seed, args.forget_bias, args.dropout)
    theirs = Torch(ours, vocab.size, args.hidden, args.layers, args.dropout)
    libs = {"seqlab": ours, "torch": theirs}
    budget = args.minutes * 60
    say(f"tinyshakespeare: {train.size:,} training / {val.size:,} validation characters, vocabulary {vocab.size}; "
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
                    lrs.append(cosine_lr(args.lr, fraction()))
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
            say(f"  step {step}: seqlab {spent['seqlab']:.0f} s, torch {spent['torch']:.0f} s; validation "
                f"(first {CURVE_CHARS:,}) seqlab {curve['seqlab'][-1]:.4f}, torch {curve['torch'][-1]:.4f}")

    result = {}
    for name, lib in libs.items():
        result[name] = {"val_nats_per_char": lib.nll(val), "seconds_per_step": spent[name] / step, "steps": step}
    result["step_time_ratio"] = result["seqlab"]["seconds_per_step"] / result["torch"]["seconds_per_step"]
    curve["step"].append(step)
    for name, lib in libs.items():
        curve[name].append(lib.nll(val[:CURVE_CHARS]))
    if args.png:
        plot(curve, args.png, f"tinyshakespeare, LSTM {args.layers}x{args.hidden}, dropout {args.dropout:g}, "
                           f"{step} steps", {name: result[name]["val_nats_per_char"] for name in libs})
    if args.json:
        print(json.dumps(result))
    else:
        for name in libs:
            r = result[name]
            print(f"{name:6s}  validation {r['val_nats_per_char']:.4f} nats/char after {r['steps']} steps, "
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
