"""Data-parallel training on one machine: seqlab starts N processes itself and joins them with torch.distributed.

Each process runs the same training loop on the same batches (seqlab's batches are a function of the seed and
the step), computes its own slice of every batch on its device (cuda:RANK with NCCL, or the CPU with gloo) and
DistributedDataParallel averages the gradients (seqlab.torch_backend.train_step). The parameters stay equal in
every process, so each evaluates, samples and decides alike; only process 0 prints and writes the checkpoint
(the others write theirs to a temporary folder that is removed at the end).

Stopping (Ctrl-C, SIGTERM). A Ctrl-C reaches the terminal's whole process group, a `kill` perhaps only the
process that started the others (the parent); so the workers ignore SIGINT and SIGTERM and the parent alone
decides, as `seqlab train` in one process does (seqlab.stopping), telling the workers through shared memory:

    first signal            the parent sets `stop`; after each step the workers agree whether any of them has
                            seen it (an all_reduce, MAX, of one number), so all stop after the same step (one
                            that went on alone would wait forever in the next step's collectives); process 0
                            writes the resumable checkpoint and the parent prints the usual line
    again, while process 0  noted and waited for: process 0 marks its writes in `phase`, which the parent's
    writes a checkpoint     StopFlag reads (saving_elsewhere)
    again, at another time  the workers are ended at once (SIGKILL, taken only with `lock`, which process 0
                            holds while it writes: never in the middle of a write); the last checkpoint stays
    the parent killed       the workers die with it (PR_SET_PDEATHSIG): none is left behind

A worker that fails ends the run: the others are stopped and the parent reports it in one line.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime
import importlib.util
import os
import signal
import socket
import sys
import tempfile
import time
from multiprocessing.connection import wait
from pathlib import Path

from seqlab.errors import UserError
from seqlab.text.trainer import Engine, train

SIGNALS = {signal.SIGINT, signal.SIGTERM}
WRITING, LAST = 1, 2   # phase: process 0 is writing a checkpoint; it is writing (or has written) its last one
POLL = 0.05            # seconds between the parent's looks at its stop flag


def torch_engine() -> Engine:
    """The trainer's Engine for cfg.backend == "torch" (seqlab.training.train gives it): the steps of
    seqlab.torch_backend.train_step on cfg.device; with cfg.devices > 1 it launches the processes, and inside
    one of them (a worker) it takes the group's share of each batch and leaves OUT.lock to the parent."""
    worker = importlib.util.find_spec("torch") is not None and world() is not None
    return Engine("torch", _make_step, _check_device, launch=None if worker else launch, worker=worker)


def _make_step(run, check):
    from seqlab.torch_backend.train_step import make_step  # imports PyTorch: after _check_device

    return make_step(run, check, world())


def _check_device(cfg) -> None:
    from seqlab.torch_backend import resolve_device

    resolve_device(cfg.device)   # PyTorch installed, and the device here


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


class _Shared:
    """What the parent and its workers share (see the module docstring): `stop` (parent -> workers), `phase`
    (process 0 -> parent) and `lock` (process 0's writes)."""

    def __init__(self, ctx):
        self.stop = ctx.RawValue("b", 0)
        self.phase = ctx.RawValue("b", 0)
        self.lock = ctx.Lock()


class _AgreedStop:
    """A worker's should_stop: whether the parent asked any of the processes to stop, agreed by all of them.

    Each call is a collective (the trainer asks once before each step, in every process alike, so the calls
    pair up); `saving_now` is the trainer's mark around a checkpoint write (seqlab.text.trainer._save)."""

    def __init__(self, shared: _Shared, rank: int, device):
        self.shared, self.rank, self.device = shared, rank, device
        self.stopping = False

    def __call__(self) -> bool:
        import torch
        import torch.distributed as dist

        flag = torch.tensor([float(self.shared.stop.value)], device=self.device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        self.stopping = bool(flag.item())
        return self.stopping

    @contextlib.contextmanager
    def saving_now(self):
        if self.rank:   # writes into the scratch folder: nothing to protect
            yield
            return
        with self.shared.lock:
            self.shared.phase.value = LAST if self.stopping else WRITING
            try:
                yield
            finally:
                if not self.stopping:   # after the last write a second signal still only waits for the end
                    self.shared.phase.value = 0


def _die_with_parent(parent: int) -> None:
    """SIGKILL this process when its parent ends, however it ends (Linux; elsewhere nothing is done)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)   # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:   # it ended before the call above
        os._exit(1)


def _worker(rank: int, size: int, port: int, device: str, threads: int, job: dict, shared: _Shared,
            results) -> None:
    for s in SIGNALS:   # the parent's to handle; they were held (blocked) until now, see _signals_held
        signal.signal(s, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)
    _die_with_parent(job["parent"])
    import torch
    import torch.distributed as dist

    torch.set_num_threads(threads)
    cuda = device.startswith("cuda")
    if cuda:
        torch.cuda.set_device(rank)
    dist.init_process_group("nccl" if cuda else "gloo", init_method=f"tcp://127.0.0.1:{port}",
                            rank=rank, world_size=size, timeout=datetime.timedelta(minutes=10))
    try:
        out = job["out"] if rank == 0 else str(Path(job["scratch"]) / f"rank{rank}-{Path(job['out']).name}")
        kw = dict(job["kw"])
        if rank:
            kw.update(progress=False, log=lambda *a, **k: None, plot=False)
        cfg = job["cfg"]
        cfg.device = f"cuda:{rank}" if cuda else "cpu"
        result = train(job["corpus"], out, cfg, should_stop=_AgreedStop(shared, rank, cfg.device),
                       engine=torch_engine(), **kw)
        if rank == 0:
            results.put(("ok", result))
    except UserError as exc:   # the same in every process; Diverged keeps its class (exit status 3)
        if rank == 0:
            results.put(("error", exc))
    finally:
        dist.destroy_process_group()
    # Done: the files are written and the result sent. Skip the interpreter's teardown, seconds with PyTorch
    # loaded, which the parent would wait for (an exception above still ends the usual way, with its traceback).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


@contextlib.contextmanager
def _signals_held():
    """SIGINT and SIGTERM blocked in this thread meanwhile (delivered after): processes started here inherit
    the mask, so none takes a signal before it has set them aside."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def launch(n: int, corpus, out, cfg, should_stop=None, **kw) -> dict:
    """Run seqlab.text.trainer.train(corpus, out, cfg, **kw) in `n` processes joined by torch.distributed
    (torch_engine's `launch`).

    cfg.device is "cpu" (gloo, the CPU's cores shared out) or "cuda" (one GPU a process, NCCL). should_stop
    (polled here, in this process) stops all of them after the same step; a StopFlag's second signal is
    handled as the module docstring says. Returns process 0's summary; a UserError in the processes comes
    back as one."""
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
    shared, results = _Shared(ctx), ctx.SimpleQueue()   # made first: they start multiprocessing's helper
    port = _free_port()
    watching = hasattr(should_stop, "saving_elsewhere")
    with tempfile.TemporaryDirectory(prefix="seqlab-ranks") as scratch:
        job = {"corpus": str(corpus), "out": str(out), "cfg": cfg, "kw": kw, "scratch": scratch,
               "parent": os.getpid()}
        procs = [ctx.Process(target=_worker, args=(rank, n, port, dev.type, threads, job, shared, results),
                             name=f"seqlab-rank{rank}") for rank in range(n)]
        if watching:
            should_stop.saving_elsewhere = lambda: shared.phase.value != 0
        try:
            with _signals_held():
                for p in procs:
                    p.start()
            status, value = _supervise(procs, shared, results, should_stop)
        except BaseException:   # a second signal (KeyboardInterrupt) or a failure: no worker outlives this
            _end(procs, shared)
            raise
        finally:
            if watching:
                should_stop.saving_elsewhere = None
    if status == "error":
        raise value
    return value


def _supervise(procs, shared: _Shared, results, should_stop) -> tuple[str, object]:
    """Wait for the workers, passing a stop request on; process 0's ("ok", summary) or ("error", UserError)."""
    outcome = None
    while True:
        if should_stop is not None and should_stop():
            shared.stop.value = 1
        while not results.empty():
            outcome = results.get()
        for rank, p in enumerate(procs):
            if p.exitcode:   # failed: its own message (a traceback) is above
                how = f"was killed by signal {-p.exitcode} ({signal.strsignal(-p.exitcode)})" if p.exitcode < 0 \
                    else f"failed with exit status {p.exitcode}"
                raise UserError(f"--devices {len(procs)}: process {rank} {how}; the run was stopped there")
        alive = [p for p in procs if p.exitcode is None]
        if not alive:
            break
        wait([p.sentinel for p in alive], timeout=POLL)
    while not results.empty():   # sent just before it ended
        outcome = results.get()
    if outcome is None:
        raise UserError(f"--devices {len(procs)}: process 0 ended without a result")
    return outcome


def _end(procs, shared: _Shared) -> None:
    """End the workers now, but not in the middle of process 0's checkpoint write (it holds shared.lock)."""
    locked = _write_lock(shared, procs[0])
    try:
        started = [p for p in procs if p.pid is not None]
        if shared.phase.value == LAST:   # the last checkpoint is written: they are about to finish anyway
            for p in started:
                p.join(timeout=30)
        for p in started:
            if p.is_alive():
                p.kill()
        for p in started:
            p.join()
    finally:
        if locked:
            shared.lock.release()


def _write_lock(shared: _Shared, first, patience: float = 60.0) -> bool:
    """Whether shared.lock was taken: at once, or when process 0 (`first`) finishes the write it is in;
    False when that process has ended (it may have died holding the lock) or is stuck past `patience` s."""
    deadline = time.monotonic() + patience
    while first.pid is not None and first.is_alive() and time.monotonic() < deadline:
        if shared.lock.acquire(timeout=POLL):
            return True
    return False
