"""Forward + backward of seqlab's and PyTorch's recurrent layers, each library in its own process.

The same measurement as `seqlab bench --processes N` (seqlab.bench.own_process_ms), for several thread counts
and the three application shapes in one go.

`seqlab bench` times both in one process, taking turns. On several threads that costs both sides: after its
turn each library's idle worker threads keep spinning for a while (OpenBLAS's, PyTorch's OpenMP ones) and take
cores from the other. Here every measurement is a fresh process that imports one library only; processes
alternate between the libraries, and the medians of their medians are compared.

    PYTHONPATH=src python bench/processes.py [--cells lstm] [--threads 1,2] [--rounds 3] [--repeats 51]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys

from seqlab.bench import APP_SHAPES, own_process_ms


def _list(kind, allowed=None):
    """An argparse type: a comma-separated list of `kind` values (each in `allowed`, if given)."""
    def parse(text: str) -> list:
        try:
            items = [kind(v) for v in text.split(",")]
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated {kind.__name__}s, got {text!r}") from None
        bad = [v for v in items if (allowed is not None and v not in allowed) or (kind is int and v < 1)]
        if bad:
            expected = "one of " + ", ".join(allowed) if allowed else "a positive integer"
            raise argparse.ArgumentTypeError(f"got {bad[0]!r}, expected {expected}")
        return items
    return parse


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    ap.add_argument("--cells", type=_list(str, ("lstm", "gru", "rnn")), default=["lstm"],
                    help="comma-separated cells among lstm, gru, rnn (default lstm)")
    ap.add_argument("--threads", type=_list(int), default=[1, 2], help="comma-separated thread counts (default 1,2)")
    ap.add_argument("--rounds", type=int, default=3, help="processes per library, alternating (default 3)")
    ap.add_argument("--repeats", type=int, default=51, help="timed steps in each process (default 51)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    rows = []
    for threads in args.threads:
        for name, shape in APP_SHAPES.items():
            for cell in args.cells:
                ours, theirs = [], []
                for r in range(args.rounds):
                    order = ("seqlab", "torch") if r % 2 == 0 else ("torch", "seqlab")
                    for lib in order:
                        (ours if lib == "seqlab" else theirs).append(
                            own_process_ms(lib, cell, *(shape[k] for k in "TBDH"), threads, args.repeats))
                a, b = statistics.median(ours), statistics.median(theirs)
                rows.append({"shape": name, "cell": cell, "threads": threads, "seqlab_ms": round(a, 3),
                             "torch_ms": round(b, 3), "ratio": round(a / b, 3)})
                if not args.json:
                    print(f"{name:<6} {cell:<5} {threads} thread(s): seqlab {a:8.2f} ms  torch {b:8.2f} ms  "
                          f"ratio {a / b:.2f}", flush=True)
    if args.json:
        print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
