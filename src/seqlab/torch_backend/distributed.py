"""Data-parallel training on one machine: seqlab starts N processes itself and joins them with torch.distributed.

Each process runs the same training loop on the same batches (seqlab's batches are a function of the seed and
the step), computes its own slice of every batch on its device (cuda:RANK with NCCL, or the CPU with gloo) and
DistributedDataParallel averages the gradients (seqlab.torch_backend.train_step). The parameters stay equal in
every process, so each evaluates, samples and decides alike; only process 0 prints and writes the checkpoint
(the others write theirs to a temporary folder that is removed at the end).
"""

from __future__ import annotations

import datetime
import os
import socket
import tempfile
from pathlib import Path

from seqlab.errors import UserError


def world():
    """(rank, size) of the torch.distributed group this process is in, or None outside one."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, size: int, port: int, device: str, threads: int, job: dict, results) -> None:
    import torch
    import torch.distributed as dist

    from seqlab.text.trainer import train

    torch.set_num_threads(threads)
    cuda = device.startswith("cuda")
    if cuda:
        torch.cuda.set_device(rank)
    dist.init_process_group("nccl" if cuda else "gloo", init_method=f"tcp://127.0.0.1:{port}",
                            rank=rank, world_size=size, timeout=datetime.timedelta(minutes=10))
    try:
        with tempfile.TemporaryDirectory(prefix="seqlab-rank") as tmp:
            out = job["out"] if rank == 0 else str(Path(tmp) / Path(job["out"]).name)
            kw = dict(job["kw"])
            if rank:
                kw.update(progress=False, log=lambda *a, **k: None, plot=False)
            cfg = job["cfg"]
            cfg.device = f"cuda:{rank}" if cuda else "cpu"
            result = train(job["corpus"], out, cfg, **kw)
        if rank == 0:
            results.put(("ok", result))
    except UserError as exc:
        if rank == 0:
            results.put(("error", str(exc)))
    finally:
        dist.destroy_process_group()


def launch(n: int, corpus, out, cfg, **kw) -> dict:
    """Run seqlab.text.trainer.train(corpus, out, cfg, **kw) in `n` processes joined by torch.distributed.

    cfg.device is "cpu" (gloo, the CPU's cores shared out) or "cuda" (one GPU a process, NCCL). Returns process
    0's summary; a UserError in the processes comes back as one."""
    from seqlab.torch_backend import require_torch, resolve_device

    torch = require_torch("--devices")
    import torch.multiprocessing as mp

    dev = resolve_device(cfg.device)
    if dev.type == "cuda":
        if dev.index:
            raise UserError(f"--devices {n} uses cuda:0 to cuda:{n - 1}; give --device cuda, not {cfg.device}")
        if torch.cuda.device_count() < n:
            raise UserError(f"--devices {n}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    threads = max(1, (os.cpu_count() or 1) // n) if dev.type == "cpu" else 1
    ctx = mp.get_context("spawn")
    results = ctx.SimpleQueue()
    job = {"corpus": str(corpus), "out": str(out), "cfg": cfg, "kw": kw}
    mp.start_processes(_worker, args=(n, _free_port(), dev.type, threads, job, results), nprocs=n,
                       join=True, start_method="spawn")
    status, value = results.get()
    if status == "error":
        raise UserError(value)
    return value
