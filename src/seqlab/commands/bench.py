"""`seqlab bench`: seqlab's recurrent layers against PyTorch's on this CPU."""

from __future__ import annotations


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "bench", help="time forward + backward of LSTM, GRU and RNN against PyTorch",
        description="Times forward + backward of seqlab's LSTM, GRU and RNN layers against PyTorch's in the same "
                    "process (float32, same threads, alternating runs, medians).")
    p.add_argument("--json", action="store_true", help="print only a JSON list of {cell, seqlab_ms, torch_ms, ratio}")
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
    p.set_defaults(func=run)


def run(args) -> int:
    import json

    from seqlab import bench
    from seqlab.errors import UserError

    cells = [c.strip() for c in args.cells.split(",") if c.strip()]
    bad = [c for c in cells if c not in bench.BLOCKS]
    if bad or not cells:
        raise UserError(f"--cells must name lstm, gru or rnn, got {args.cells!r}")
    for name in ("steps", "batch", "input", "hidden", "repeats"):
        if getattr(args, name) < 1:
            raise UserError(f"--{name} must be a positive integer, got {getattr(args, name)}")
    results = bench.run(cells, args.steps, args.batch, args.input, args.hidden, args.repeats, args.threads,
                        device=args.device)
    if args.json:
        print(json.dumps([{k: r[k] for k in ("cell", "seqlab_ms", "torch_ms", "ratio")} for r in results]))
    else:
        shape = f"T={args.steps} B={args.batch} input={args.input} hidden={args.hidden}"
        print(bench.format_table(results, shape))
    return 0
