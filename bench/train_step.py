"""Time per training step of a text recipe: seqlab's NumPy engine on this CPU against `--backend torch`.

Both run the trainer's own step (seqlab.text.trainer._train_step with the engine each backend picks) on the
same batches of a random text with the recipe's vocabulary size, taking turns step by step; the medians and
their ratio are printed. With --device cuda the torch side is cuDNN on the GPU, the NumPy side stays on the CPU.

    .venv/bin/python bench/train_step.py [--recipe poem] [--device cpu|cuda|cuda:N] [--steps 20]
        [--vocab V] [--hidden H] [--layers L] [--batch-size B] [--seq-len S] [--threads N]

poem: the bundled Shakespeare model's recipe (seqlab.pretrained.shakespeare_recipe: embedding 64, 2 × LSTM(256),
dropout 0.2, 32 streams × 100 steps, vocabulary 38). tiny-shakespeare: the same network on tiny-shakespeare's
65 characters. The other flags change the recipe's shapes.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import numpy as np

RECIPES = {"poem": 38, "tiny-shakespeare": 65}   # vocabulary sizes


def main(argv=None) -> None:
    from threadpoolctl import threadpool_limits

    from seqlab.pretrained.shakespeare_recipe import SHAKESPEARE_CONFIG
    from seqlab.text import trainer
    from seqlab.text.data import StreamData
    from seqlab.text.train_state import Run
    from seqlab.text.vocab import Vocabulary
    from seqlab.torch_backend import require_torch

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    p.add_argument("--recipe", choices=sorted(RECIPES), default="poem")
    p.add_argument("--device", default="cpu")
    p.add_argument("--steps", type=int, default=20, help="timed steps of each (after 3 warm-up steps)")
    for name in ("vocab", "hidden", "layers", "batch-size", "seq-len", "threads"):
        p.add_argument(f"--{name}", type=int)
    a = p.parse_args(argv)
    torch = require_torch("bench/train_step.py")
    threads = a.threads or torch.get_num_threads()
    torch.set_num_threads(threads)
    V = a.vocab or RECIPES[a.recipe]
    shapes = {k: getattr(a, k) for k in ("hidden", "layers", "batch_size", "seq_len") if getattr(a, k)}
    cfg = replace(SHAKESPEARE_CONFIG, **shapes)
    chars = [chr(c) for c in range(33, 33 + V - 1)] + ["\n"]
    ids = np.random.default_rng(0).integers(0, V, size=cfg.batch_size * cfg.seq_len * 8 + 1)
    data = StreamData(Vocabulary(chars), ids, None, "bench")
    runs, engines = {}, {}
    for backend in ("numpy", "torch"):
        c = replace(cfg, backend=backend, device=a.device if backend == "torch" else "cpu")
        runs[backend] = Run(c, data)
        engines[backend] = trainer._engine(runs[backend])
    batches = data.batches(cfg, runs["numpy"].lm.start_id)
    times = {"numpy": [], "torch": []}
    with threadpool_limits(limits=threads, user_api="blas"):
        for k in range(3 + a.steps):
            for backend in (("numpy", "torch") if k % 2 else ("torch", "numpy")):
                t0 = time.perf_counter()
                trainer._train_step(runs[backend], batches, engines[backend])
                if k >= 3:
                    times[backend].append(time.perf_counter() - t0)
    ours, theirs = (float(np.median(times[b])) * 1e3 for b in ("numpy", "torch"))
    model = runs["numpy"].lm.model
    print(f"{a.recipe}: {cfg.cell} {cfg.layers}x{cfg.hidden}, embed {cfg.embed}, vocabulary {V}, "
          f"{cfg.batch_size} x {cfg.seq_len} characters a step, {model.num_params:,} parameters, float32, "
          f"{threads} CPU threads, medians of {a.steps} alternating steps")
    print(f"seqlab (NumPy, CPU) {ours:.1f} ms/step; --backend torch on {a.device} {theirs:.1f} ms/step; "
          f"torch/seqlab time {theirs / ours:.2f}")


if __name__ == "__main__":
    main()
