"""Sampling speed: `seqlab names -n 1000` and `seqlab poem --length 2000` against a PyTorch replica of the same
sampling loop, side by side (alternating runs, medians, both on the same threads).

The replica runs the bundled model's weights in seqlab.torch_backend.TorchCharModel and does what
seqlab.text.sampling.generate does, in torch: read the start token and the prompt, copy the state to the n
samples, then per character log-softmax, temperature, softmax, an inverse-CDF draw from one uniform per row,
stop where every line has ended, and one step of the model on the drawn characters.

    PYTHONPATH=src python bench/sampling.py [--repeats 7] [--threads 1]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from seqlab.bench import _median_pair
from seqlab.text.model import load_model
from seqlab.text.poem import complete
from seqlab.text.sampling import sample_lines
from seqlab.torch_backend.module import module_from_arrays

PROMPT = "Shall I compare thee to a summer's day"


@torch.no_grad()
def torch_generate(module, lm, n: int, prefix: str, max_len: int, stop_at_newline: bool, seed: int) -> int:
    """The sampling loop of seqlab.text.sampling.generate in torch; returns the number of characters drawn."""
    gen = torch.Generator().manual_seed(seed)
    ids = torch.from_numpy(np.concatenate([[lm.start_id], lm.encode(prefix)]).astype(np.int64))
    logits, state = module(ids[:, None])
    last = torch.log_softmax(logits[-1].double(), dim=1).repeat(n, 1)
    state = tuple(s.repeat(1, n, 1) for s in state) if isinstance(state, tuple) else state.repeat(1, n, 1)
    done = torch.zeros(n, dtype=torch.bool)
    V = last.shape[1]
    drawn = 0
    for t in range(max_len):
        p = torch.softmax(last / 1.0, dim=1)
        cdf = torch.cumsum(p, dim=1)
        u = torch.rand(n, 1, generator=gen, dtype=torch.float64) * cdf[:, -1:]
        nxt = torch.clamp((cdf <= u).sum(dim=1), max=V - 1)
        drawn += n
        if stop_at_newline:
            done |= nxt == lm.start_id
            if bool(done.all()):
                break
        if t + 1 < max_len:
            logits, state = module(nxt[None], state)
            last = torch.log_softmax(logits[0].double(), dim=1)
    return drawn



def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    dinos, poem = load_model("dinos"), load_model("shakespeare")
    tdinos = module_from_arrays(dinos.model.config(), dinos.model.arrays()).eval()
    tpoem = module_from_arrays(poem.model.config(), poem.model.arrays()).eval()
    cases = {
        "names -n 1000": (lambda: sample_lines(dinos, 1000, max_len=40, seed=0),
                          lambda: torch_generate(tdinos, dinos, 1000, "", 40, True, 0)),
        "poem --length 2000": (lambda: complete(poem, PROMPT, 2000, 1.0, 0),
                               lambda: torch_generate(tpoem, poem, 1, PROMPT, 2400, False, 0)),
    }
    print(f"{'command':<20}{'seqlab s':>10}{'torch s':>10}{'ratio':>8}   ({args.threads} thread(s), medians of "
          f"{args.repeats} alternating runs)")
    with threadpool_limits(limits=args.threads, user_api="blas"):
        for name, (ours, theirs) in cases.items():
            a, b = _median_pair(ours, theirs, args.repeats)
            print(f"{name:<20}{a:>10.3f}{b:>10.3f}{a / b:>8.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
