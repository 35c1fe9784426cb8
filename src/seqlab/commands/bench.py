"""`seqlab bench`: seqlab's recurrent layers against PyTorch's on this CPU."""

from __future__ import annotations

import json
import sys

from seqlab.errors import UserError

# The modules that need NumPy (seqlab.text, .music, .engine ...) are imported inside the functions that use
# them: cli.py imports every command module to build its parser, and `seqlab --help` should not wait for them.


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "bench", help="time forward + backward of LSTM, GRU and RNN against PyTorch",
        description="Times forward + backward of seqlab's LSTM, GRU and RNN layers against PyTorch's in the same "
                    "process, or with --processes N in processes of their own (float32, same threads, "
                    "alternating runs, medians).")
    p.add_argument("--json", action="store_true",
                   help="print only a JSON list of {cell, shape, seqlab_ms, torch_ms, ratio}")
    p.add_argument("--shapes", choices=["app"], default=None,
                   help="app: the three applications' training shapes (dinos, jazz, poem) in one go, instead of "
                        "-T/-B/-D/-H")
    p.add_argument("--cells", default="lstm,gru,rnn", help="comma-separated cells (default: lstm,gru,rnn)")
    p.add_argument("--steps", "-T", type=int, default=100, help="sequence length T (default 100)")
    p.add_argument("--batch", "-B", type=int, default=64, help="batch size B (default 64)")
    p.add_argument("--input", "-D", type=int, default=64, help="input size (default 64)")
    p.add_argument("--hidden", "-H", type=int, default=256, help="hidden size (default 256)")
    p.add_argument("--repeats", type=int, default=9, help="timed runs of each (default 9)")
    p.add_argument("--threads", type=int, default=None, help="threads for both (default: PyTorch's default)")
    p.add_argument("--backend", choices=["torch"], default="torch",
                   help="what seqlab is timed against (torch, the only one; needs PyTorch)")
    p.add_argument("--device", default="cpu", help="where that backend runs: cpu, cuda or cuda:N (cpu); on a "
                                                   "GPU that is cuDNN's kernels, seqlab staying on the CPU")
    p.add_argument("--processes", type=int, default=0, metavar="N",
                   help="time each library in N fresh processes of its own, alternating, instead of both in this "
                        "one: the fair comparison on several threads, where the two libraries' idle threads "
                        "would spin on each other's cores (default: 0, one process)")
    p.set_defaults(func=run)


def run(args) -> int:
    from seqlab import bench

    cells = [c.strip() for c in args.cells.split(",") if c.strip()]
    bad = [c for c in cells if c not in bench.BLOCKS]
    if bad or not cells:
        raise UserError(f"--cells must name lstm, gru or rnn, got {args.cells!r}")
    if args.processes < 0:
        raise UserError(f"--processes must be at least 0, got {args.processes}")
    if args.processes and args.device != "cpu":
        raise UserError("--processes times both libraries on this CPU; leave out --device")
    for name in ("steps", "batch", "input", "hidden", "repeats"):
        if getattr(args, name) < 1:
            raise UserError(f"--{name} must be a positive integer, got {getattr(args, name)}")
    if args.threads is not None and args.threads < 1:
        raise UserError(f"--threads must be a positive integer, got {args.threads}")
    if args.shapes == "app":
        shapes = [(name, s["T"], s["B"], s["D"], s["H"]) for name, s in bench.APP_SHAPES.items()]
    else:
        shapes = [(None, args.steps, args.batch, args.input, args.hidden)]
    rows, tables = [], []
    for name, T, B, D, H in shapes:
        if args.processes:
            results = bench.run_processes(cells, T, B, D, H, args.repeats, args.threads, rounds=args.processes)
        else:
            results = bench.run(cells, T, B, D, H, args.repeats, args.threads, device=args.device)
        label = bench.shape_label(T, B, D, H)
        shape = {"name": name, "T": T, "B": B, "D": D, "H": H}
        rows += [{"cell": r["cell"], "shape": shape, **{k: r[k] for k in ("seqlab_ms", "torch_ms", "ratio")}}
                 for r in results]
        tables.append(bench.format_table(results, label if name is None else f"{name}: {label}"))
    print(json.dumps(rows) if args.json else "\n\n".join(tables))
    threads = results[0]["threads"]
    if threads > 1 and results[0]["device"] == "cpu" and not args.processes:
        print(f"note: on {threads} threads in one process each library's idle threads spin on the cores the other "
              f"needs, which slows both; --processes 3 times each in processes of its own", file=sys.stderr)
    return 0
