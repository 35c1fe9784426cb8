"""One training epoch of the course's poem writer, seqlab against PyTorch, in one process.

The course's recipe: the 31,412 windows of 40 characters (stride 3) of the lower-cased sonnets, batches of 128,
LSTM(128, every step) → Dropout(0.5) → LSTM(128, last step) → Dropout(0.5) → Dense(38), softmax
cross-entropy, Adam(0.001), float32. Both libraries use the same threads (NumPy's BLAS threads) and see the
batches in the same shuffled order. Each round, each trains one whole epoch, taking turns every --slice
batches (who starts alternates), so that the slow spells of a shared machine fall on both; the ratio of the
median epoch times is reported. Both use the sigmoid gate (PyTorch's LSTM has no hard_sigmoid), so they do
the same arithmetic.

    .venv/bin/python bench/shakespeare_epoch.py [--rounds 1] [--windows N] [--slice 16]

Needs the "shakespeare" dataset (`seqlab data fetch shakespeare`) and PyTorch.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from threadpoolctl import threadpool_info

from seqlab.course import shakespeare as sh


def torch_model(n_x: int, n_a: int, n_y: int):
    class Course(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm1 = torch.nn.LSTM(n_x, n_a, batch_first=True)
            self.lstm2 = torch.nn.LSTM(n_a, n_a, batch_first=True)
            self.drop = torch.nn.Dropout(0.5)
            self.dense = torch.nn.Linear(n_a, n_y)

        def forward(self, x):                   # x (m, Tx, n_x) -> logits (m, n_y)
            a, _ = self.lstm1(x)
            _, (h, _) = self.lstm2(self.drop(a))
            return self.dense(self.drop(h[0]))

    return Course()


def seqlab_epoch(model, x, targets, order, batch_size):
    for lo in range(0, len(order), batch_size):
        idx = order[lo:lo + batch_size]
        model.train_on_batch(x[idx], targets[idx])


def torch_epoch(model, optimizer, x, targets, order, batch_size):
    model.train()
    loss_fn = torch.nn.CrossEntropyLoss()
    for lo in range(0, len(order), batch_size):
        idx = order[lo:lo + batch_size]
        xb = torch.from_numpy(x[idx].astype(np.float32))
        yb = torch.from_numpy(targets[idx])
        optimizer.zero_grad()
        loss_fn(model(xb), yb).backward()
        optimizer.step()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--rounds", type=int, default=1, help="epochs of each library, alternating (default 1)")
    parser.add_argument("--windows", type=int, default=None, help="use only the first N windows (default all)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--slice", type=int, default=16,
                        help="batches per turn: the libraries take turns every N batches, so that the machine's "
                             "slow spells fall on both (default 16; 0: whole epochs in turn)")
    args = parser.parse_args(argv)

    threads = max(info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas")
    torch.set_num_threads(threads)
    torch.manual_seed(0)

    text = sh.load_text()
    chars, char_indices, _ = sh.char_maps(text)
    X, Y = sh.build_data(text, Tx=40, stride=3)
    x, y = sh.vectorization(X, Y, len(chars), char_indices, Tx=40)
    if args.windows:
        x, y = x[:args.windows], y[:args.windows]
    targets = y.argmax(axis=1)
    m, n = len(x), len(chars)

    ours = sh.CourseModel(n_x=n, n_a=128, dropout=0.5, recurrent_activation="sigmoid", seed=0)
    theirs = torch_model(n, 128, n)
    optimizer = torch.optim.Adam(theirs.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)

    runs = {"seqlab": lambda part: seqlab_epoch(ours, x, targets, part, args.batch_size),
            "torch": lambda part: torch_epoch(theirs, optimizer, x, targets, part, args.batch_size)}
    times = {"seqlab": [], "torch": []}
    for r in range(args.rounds):
        order = rng.permutation(m)
        step = args.slice * args.batch_size if args.slice > 0 else m
        spent = {"seqlab": 0.0, "torch": 0.0}
        names = ["seqlab", "torch"] if r % 2 == 0 else ["torch", "seqlab"]   # who goes first alternates
        for lo in range(0, m, step):
            for name in names:
                t0 = time.perf_counter()
                runs[name](order[lo:lo + step])
                spent[name] += time.perf_counter() - t0
        for name in times:
            times[name].append(spent[name])
        print(f"epoch: seqlab {spent['seqlab']:.1f} s, torch {spent['torch']:.1f} s, "
              f"ratio {spent['seqlab'] / spent['torch']:.2f}", flush=True)

    s, t = float(np.median(times["seqlab"])), float(np.median(times["torch"]))
    turns = f"turns of {args.slice} batches" if args.slice > 0 else "whole epochs in turn"
    print(f"course recipe, {m} windows of 40, batch {args.batch_size}, LSTM 128 x2, float32, {threads} threads, "
          f"{turns}")
    ratios = [a / b for a, b in zip(times["seqlab"], times["torch"])]
    print(f"seqlab {s:.1f} s/epoch, torch {t:.1f} s/epoch (medians of {args.rounds}); ratio of the medians "
          f"{s / t:.2f}, median ratio of a round {float(np.median(ratios)):.2f} "
          f"(rounds {min(ratios):.2f}-{max(ratios):.2f}); final seqlab loss {ours.evaluate(x[:4096], y[:4096]):.3f}")


if __name__ == "__main__":
    main()
