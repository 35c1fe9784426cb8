"""Forward + backward timing of seqlab's recurrent layers against PyTorch's, side by side.

Same CPU, same threads, same shapes, float32; runs alternate between the two and medians are compared. `run`
times both in one process; `run_processes` times each in fresh processes of its own, which on several threads
is the fair comparison (in one process each library's idle threads spin on the cores the other needs). With
device="cuda" PyTorch's side runs on the GPU (cuDNN) and seqlab's stays on the CPU.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

from seqlab.engine import GRU, LSTM, RNN
from seqlab.torch_backend import require_torch, resolve_device

BLOCKS = {"lstm": 4, "gru": 3, "rnn": 1}
# The shapes the three applications train at (the bundled recipes): T, B, input D, hidden H.
APP_SHAPES = {
    "dinos": {"T": 20, "B": 32, "D": 32, "H": 128},
    "jazz": {"T": 30, "B": 60, "D": 90, "H": 64},
    "poem": {"T": 100, "B": 32, "D": 64, "H": 256},
}


def shape_label(T: int, B: int, D: int, H: int) -> str:
    return f"T={T} B={B} input={D} hidden={H}"


def flops(cell: str, T: int, B: int, D: int, H: int) -> float:
    """Matrix-product FLOPs of forward + backward: 3 × 2·T·B·G·H·(D + H) (forward, input grads, weight grads)."""
    return 6.0 * T * B * BLOCKS[cell] * H * (D + H)


def _median_pair(run_a, run_b, repeats: int) -> tuple[float, float]:
    for _ in range(2):  # warm-up: allocations, thread start-up, lazy initialisation
        run_a()
        run_b()
    a, b = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run_a()
        a.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        run_b()
        b.append(time.perf_counter() - t0)
    return float(np.median(a)), float(np.median(b))


def matmul_gflops(B: int, H: int, G: int, repeats: int = 200) -> float:
    """GFLOP/s NumPy reaches on one step's recurrent product, (B, H) @ (H, G·H), float32."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((B, H)).astype(np.float32)
    w = rng.standard_normal((H, G * H)).astype(np.float32)
    out = np.empty((B, G * H), np.float32)
    for _ in range(10):
        np.matmul(a, w, out=out)
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(repeats):
            np.matmul(a, w, out=out)
        times.append((time.perf_counter() - t0) / repeats)
    return 2.0 * B * H * G * H / float(np.median(times)) / 1e9


def run(cells=("lstm", "gru", "rnn"), T=100, B=64, D=64, H=256, repeats=9, threads=None,
        device: str = "cpu") -> list[dict]:
    """Times each cell; returns one dict per cell with times in ms, the ratio and GFLOP/s figures.

    device: where PyTorch's side runs ("cpu", "cuda", "cuda:N"; on a GPU that is cuDNN's fused kernels);
    seqlab's always runs on this CPU."""

    torch = require_torch("seqlab bench")
    dev = resolve_device(device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)

    threads = threads or torch.get_num_threads()
    torch.set_num_threads(threads)
    results = []
    with threadpool_limits(limits=threads, user_api="blas"):
        for cell in cells:
            cls = {"lstm": LSTM, "gru": GRU, "rnn": RNN}[cell]
            tcls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cell]
            rng = np.random.default_rng(0)
            layer = cls(D, H, rng=rng)
            module = tcls(D, H).to(dev)
            x = rng.standard_normal((T, B, D)).astype(np.float32)
            dout = rng.standard_normal((T, B, H)).astype(np.float32)
            xt = torch.from_numpy(x).to(dev).requires_grad_()
            dt = torch.from_numpy(dout).to(dev)

            def ours():
                layer.forward(x)
                layer.backward(dout, need_dstate=False)   # PyTorch is not asked for h0's gradient either

            def theirs():
                out, _ = module(xt)
                out.backward(dt)
                sync()   # CUDA calls return before the work is done

            ours_s, theirs_s = _median_pair(ours, theirs, repeats)
            results.append(_row(cell, ours_s, theirs_s, T, B, D, H, threads, str(dev),
                                matmul_gflops(B, H, BLOCKS[cell])))
    return results


# What each process of `run_processes` runs: argv = library, cell, T, B, D, H, threads, repeats; it prints the
# median time of one forward + backward in ms. It imports one library only.
CHILD = r"""
import sys, time
import numpy as np
lib, cell = sys.argv[1], sys.argv[2]
T, B, D, H, threads, repeats = map(int, sys.argv[3:])
rng = np.random.default_rng(0)
x = rng.standard_normal((T, B, D)).astype(np.float32)
dout = rng.standard_normal((T, B, H)).astype(np.float32)
if lib == "seqlab":
    from threadpoolctl import threadpool_limits
    from seqlab.engine import GRU, LSTM, RNN
    threadpool_limits(limits=threads, user_api="blas")
    layer = {"lstm": LSTM, "gru": GRU, "rnn": RNN}[cell](D, H, rng=rng)
    def step():
        layer.forward(x)
        layer.backward(dout, need_dstate=False)   # PyTorch is not asked for the initial state's gradient either
else:
    import torch
    torch.set_num_threads(threads)
    module = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cell](D, H)
    xt, dt = torch.from_numpy(x).requires_grad_(), torch.from_numpy(dout)
    def step():
        out, _ = module(xt)
        out.backward(dt)
for _ in range(10):
    step()
times = []
for _ in range(repeats):
    t0 = time.perf_counter()
    step()
    times.append(time.perf_counter() - t0)
print(float(np.median(times)) * 1e3)
"""


def own_process_ms(lib: str, cell: str, T: int, B: int, D: int, H: int, threads: int, repeats: int) -> float:
    """Median ms of one forward + backward of `lib` ("seqlab" or "torch") in a fresh process of its own."""
    args = [sys.executable, "-c", CHILD, lib, cell, *(str(v) for v in (T, B, D, H, threads, repeats))]
    return float(subprocess.run(args, check=True, capture_output=True, text=True).stdout)


def run_processes(cells=("lstm", "gru", "rnn"), T=100, B=64, D=64, H=256, repeats=9, threads=None,
                  rounds: int = 3) -> list[dict]:
    """As `run`, each measurement in a fresh process of one library: `rounds` processes each, alternating
    which goes first, and the medians of their medians compared."""
    torch = require_torch("seqlab bench --processes")
    threads = threads or torch.get_num_threads()
    results = []
    for cell in cells:
        ours, theirs = [], []
        for r in range(rounds):
            for lib in (("seqlab", "torch") if r % 2 == 0 else ("torch", "seqlab")):
                (ours if lib == "seqlab" else theirs).append(own_process_ms(lib, cell, T, B, D, H, threads, repeats))
        ours_s, theirs_s = statistics.median(ours) / 1e3, statistics.median(theirs) / 1e3
        with threadpool_limits(limits=threads, user_api="blas"):
            matmul = matmul_gflops(B, H, BLOCKS[cell])
        results.append(_row(cell, ours_s, theirs_s, T, B, D, H, threads, "cpu", matmul, processes=rounds))
    return results


def _row(cell, ours_s, theirs_s, T, B, D, H, threads, device, matmul, processes=0) -> dict:
    return {
        "cell": cell,
        "seqlab_ms": round(ours_s * 1e3, 4),
        "torch_ms": round(theirs_s * 1e3, 4),
        "ratio": round(ours_s / theirs_s, 4),
        "seqlab_gflops": round(flops(cell, T, B, D, H) / ours_s / 1e9, 1),
        "torch_gflops": round(flops(cell, T, B, D, H) / theirs_s / 1e9, 1),
        "matmul_gflops": round(matmul, 1),
        "threads": threads,
        "device": device,
        "processes": processes,
    }


def format_table(results: list[dict], shape: str) -> str:
    where = results[0].get("device", "cpu")
    torch_col = "torch ms" if where == "cpu" else f"torch@{where} ms"
    rounds = results[0].get("processes", 0)
    how = f"medians of {rounds} alternating processes each" if rounds else "medians of alternating runs"
    title = f"forward + backward, float32, {shape}, {results[0]['threads']} threads, {how}"
    lines = [title + ("" if where == "cpu" else f"; seqlab on the CPU, PyTorch on {where}"),
             f"{'cell':<6}{'seqlab ms':>11}{torch_col:>{max(10, len(torch_col) + 2)}}{'ratio':>8}"
             f"{'seqlab GFLOP/s':>16}{'torch GFLOP/s':>15}"
             f"{'matmul GFLOP/s':>16}"]
    for r in results:
        lines.append(f"{r['cell']:<6}{r['seqlab_ms']:>11.1f}{r['torch_ms']:>{max(10, len(torch_col) + 2)}.1f}"
                     f"{r['ratio']:>8.2f}"
                     f"{r['seqlab_gflops']:>16.1f}{r['torch_gflops']:>15.1f}{r['matmul_gflops']:>16.1f}")
    return "\n".join(lines)
