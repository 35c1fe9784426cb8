"""Is seqlab's tiny-shakespeare gap to its PyTorch replica the dropout masks' luck? Several mask seeds of both.

Both libraries start from the same initial weights (seed 0, seqlab's, copied into PyTorch by
bench/tinyshakespeare.py's replica) and train on the same batches with the same schedule; only the dropout
masks differ: seqlab's drawn from numpy.random.default_rng([seed, 99]), PyTorch's after
torch.manual_seed(seed). Each run prints one JSON line: library, seed, and the score of the first 20,000
validation characters after half and all of --steps. One thread each, one run at a time.

--follow runs the two in lockstep instead: PyTorch draws its masks (torch.manual_seed(seed)), and seqlab's
network is given exactly those at each step. If the libraries differ only in their masks, seqlab then scores
what PyTorch scores.

    .venv/bin/python bench/mask_seeds.py [--hidden 128] [--steps 800] [--dropout 0.25] [--seeds 0,1,2,3]
    .venv/bin/python bench/mask_seeds.py --follow --hidden 256 --steps 400 --seeds 0
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tinyshakespeare as ts  # noqa: E402  (the benchmark's two libraries)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--steps", type=int, default=800)
    p.add_argument("--dropout", type=float, default=0.25)
    p.add_argument("--seeds", default="0,1,2,3")
    p.add_argument("--follow", action="store_true", help="seqlab's network on PyTorch's masks, in lockstep")
    args = p.parse_args(argv)
    import torch
    from threadpoolctl import threadpool_limits

    from seqlab.text.batching import StreamBatches

    torch.set_num_threads(1)
    threadpool_limits(1)
    vocab, train, val = ts.split_ids()
    batches = StreamBatches(train, 32, 100)
    for seed in (int(s) for s in args.seeds.split(",")):
        if args.follow:
            follow(args, vocab, batches, val, seed)
            continue
        ours = ts.Seqlab(vocab, args.hidden, args.layers, 0, 0.0, args.dropout)
        ours.model.set_dropout_rng(np.random.default_rng([seed, 99]))
        theirs = ts.Torch(ours, vocab.size, args.hidden, args.layers, args.dropout)
        torch.manual_seed(seed)
        for name, lib in (("seqlab", ours), ("torch", theirs)):
            t0, points = time.perf_counter(), {}
            for s in range(args.steps):
                x, y, _ = batches.batch(s)
                lib.step(x, y, ts.cosine_lr(2e-3, s / args.steps), batches.resets_state(s))
                if s + 1 in (args.steps // 2, args.steps):
                    points[s + 1] = lib.nll(val[:ts.CURVE_CHARS])
            print(json.dumps({"lib": name, "seed": seed, "hidden": args.hidden, "steps": args.steps,
                              "val20k": points, "seconds": round(time.perf_counter() - t0)}), flush=True)
    return 0


def follow(args, vocab, batches, val, seed: int) -> None:
    """Lockstep: PyTorch's step draws its masks (read back from its dropout's output: kept entries are
    nonzero), then seqlab's step uses them in the same places (between the layers, before the Dense layer)."""
    import torch

    from seqlab.engine import layers

    ours = ts.Seqlab(vocab, args.hidden, args.layers, 0, 0.0, args.dropout)
    theirs = ts.Torch(ours, vocab.size, args.hidden, args.layers, args.dropout)
    torch.manual_seed(seed)
    drawn: list[np.ndarray] = []
    torch_drop = theirs._drop

    def recording(h):
        out = torch_drop(h)
        if theirs.training and theirs.p:
            drawn.append(((out.detach() != 0).float() / (1.0 - theirs.p)).numpy())
        return out

    def given(self, x, training=True):
        if not training or self.p == 0.0:
            self._mask = None
            return x
        self._mask = drawn.pop(0)
        return x * self._mask

    theirs._drop = recording
    plain = layers.Dropout.forward
    layers.Dropout.forward = given
    try:
        for s in range(args.steps):
            x, y, _ = batches.batch(s)
            lr = ts.cosine_lr(2e-3, s / args.steps)
            drawn.clear()
            theirs.step(x, y, lr, batches.resets_state(s))
            ours.step(x, y, lr, batches.resets_state(s))
            if s + 1 in (args.steps // 2, args.steps):
                print(json.dumps({"seed": seed, "step": s + 1, "torch": theirs.nll(val[:ts.CURVE_CHARS]),
                                  "seqlab_on_torchs_masks": ours.nll(val[:ts.CURVE_CHARS])}), flush=True)
    finally:
        layers.Dropout.forward = plain


if __name__ == "__main__":
    sys.exit(main())
