"""Where a training step's time goes, at the applications' shapes: matrix products, elementwise gate work,
Python and per-call overhead, loss, optimizer.

One training step is: recurrent forward over x (T, B, D) -> Dense(H, V) -> softmax cross-entropy -> Dense and
recurrent backward -> clipping by global norm -> Adam. Each part is timed on its own (medians of many steps);
the recurrent forward + backward is then split three ways:

- matrix products: every np.matmul the layer makes is recorded once (shapes, operand layouts) and replayed
  alone at full size, minus the same replay with every dimension 1 (that is call overhead, counted below);
- Python and per-call overhead: the same layer code at B = D = H = 1 and the same T, where no call has work;
- elementwise gate work: what remains.

"loss+Dense" is the output layer's forward and backward with the softmax cross-entropy; "clip+Adam" the
global-norm clipping and the Adam step. Shares are of the parts' sum (the parts are timed one by one).

    PYTHONPATH=src python bench/profile_step.py [--cells lstm,gru,rnn] [--shapes dinos,jazz,poem] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

from seqlab.bench import APP_SHAPES
from seqlab.engine import GRU, LSTM, RNN, Adam, Dense, clip_by_global_norm, softmax_cross_entropy

CELLS = {"lstm": LSTM, "gru": GRU, "rnn": RNN}
VOCAB = {"dinos": 27, "jazz": 90, "poem": 38}   # each application's output size V


def _median_ms(fn, repeats: int) -> float:
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def _layout(a: np.ndarray) -> str:
    return "C" if a.flags.c_contiguous else ("F" if a.flags.f_contiguous else "C")


def record_matmuls(fn) -> list[tuple]:
    """Runs fn() once with np.matmul wrapped; returns [(shape_a, layout_a, shape_b, layout_b, has_out)]."""
    calls, real = [], np.matmul

    def spy(a, b, out=None, **kw):
        calls.append((a.shape, _layout(a), b.shape, _layout(b), out is not None))
        return real(a, b, out=out, **kw)

    np.matmul = spy
    try:
        fn()
    finally:
        np.matmul = real
    return calls


def replay(calls: list[tuple], unit: bool = False):
    """A function that makes the recorded products again (every dimension 1 with unit=True)."""
    rng = np.random.default_rng(0)

    def make(shape, layout):
        shape = tuple(1 for _ in shape) if unit else shape
        a = rng.standard_normal(shape).astype(np.float32)
        return np.asfortranarray(a) if layout == "F" else a

    ops = []
    for sa, la, sb, lb, has_out in calls:
        a, b = make(sa, la), make(sb, lb)
        out = np.matmul(a, b) if has_out else None
        ops.append((a, b, out))

    def run():
        for a, b, out in ops:
            np.matmul(a, b, out=out)
    return run


def make_layer(cell: str, D: int, H: int):
    return CELLS[cell](D, H, rng=np.random.default_rng(0))


def profile(cell: str, name: str, repeats: int) -> dict:
    s = APP_SHAPES[name]
    T, B, D, H, V = s["T"], s["B"], s["D"], s["H"], VOCAB[name]
    rng = np.random.default_rng(0)
    layer = make_layer(cell, D, H)
    dense = Dense(H, V, rng=rng)
    opt = Adam([layer, dense], lr=1e-3)
    x = rng.standard_normal((T, B, D)).astype(np.float32)
    targets = rng.integers(0, V, T * B)
    held = {}

    def rec_forward():
        held["h"], _ = layer.forward(x)

    def loss():
        logits = dense.forward(held["h"])
        _, count, dlogits = softmax_cross_entropy(logits.reshape(T * B, V), targets)
        dlogits *= 1.0 / count
        held["dh"] = dense.backward(dlogits.reshape(T, B, V))

    def rec_backward():
        layer.backward(held["dh"], need_dx=False, need_dstate=False)   # as a training step

    def optimizer():
        clip_by_global_norm([layer, dense], 5.0)
        opt.step()

    def step():
        rec_forward()
        loss()
        rec_backward()
        optimizer()

    step_ms = _median_ms(step, repeats)
    # The parts on their own (each needs the one before it to have run: time them in step order).
    parts = {"forward": [], "loss": [], "backward": [], "optimizer": []}
    for _ in range(3):
        step()
    for _ in range(repeats):
        for key, fn in (("forward", rec_forward), ("loss", loss), ("backward", rec_backward),
                        ("optimizer", optimizer)):
            t0 = time.perf_counter()
            fn()
            parts[key].append(time.perf_counter() - t0)
    parts = {k: 1e3 * statistics.median(v) for k, v in parts.items()}
    recurrent_ms = parts["forward"] + parts["backward"]

    dh = held["dh"]

    def fwd_bwd():
        layer.forward(x)
        layer.backward(dh, need_dx=False, need_dstate=False)

    calls = record_matmuls(fwd_bwd)
    matmul_ms = max(_median_ms(replay(calls), repeats) - _median_ms(replay(calls, unit=True), repeats), 0.0)
    tiny = make_layer(cell, 1, 1)
    x1 = rng.standard_normal((T, 1, 1)).astype(np.float32)
    d1 = rng.standard_normal((T, 1, 1)).astype(np.float32)

    def fwd_bwd_tiny():
        tiny.forward(x1)
        tiny.backward(d1, need_dx=False, need_dstate=False)

    overhead_ms = _median_ms(fwd_bwd_tiny, repeats)
    elementwise_ms = max(recurrent_ms - matmul_ms - overhead_ms, 0.0)
    return {"cell": cell, "shape": name, "T": T, "B": B, "D": D, "H": H, "V": V,
            "step_ms": round(step_ms, 3), "recurrent_ms": round(recurrent_ms, 3),
            "matmul_ms": round(matmul_ms, 3), "elementwise_ms": round(elementwise_ms, 3),
            "overhead_ms": round(overhead_ms, 3), "loss_ms": round(parts["loss"], 3),
            "optimizer_ms": round(parts["optimizer"], 3), "matmul_calls": len(calls)}


PARTS = ("matmul_ms", "elementwise_ms", "overhead_ms", "loss_ms", "optimizer_ms")


def format_rows(rows: list[dict]) -> str:
    """One line per (shape, cell): the step's median and each part in ms with its share of the parts' sum."""
    head = (f"{'shape':<7}{'cell':<6}{'step ms':>9}{'matmul':>15}{'elementwise':>15}{'overhead':>15}"
            f"{'loss+Dense':>15}{'clip+Adam':>15}")
    lines = [head]
    for r in rows:
        total = sum(r[k] for k in PARTS)

        def cell(key):
            return f"{r[key]:7.2f} ({100 * r[key] / total:3.0f}%)"
        lines.append(f"{r['shape']:<7}{r['cell']:<6}{r['step_ms']:>9.2f}" + "".join(
            f"{cell(k):>15}" for k in PARTS))
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    ap.add_argument("--cells", default="lstm,gru,rnn")
    ap.add_argument("--shapes", default=",".join(APP_SHAPES))
    ap.add_argument("--repeats", type=int, default=31)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    rows = []
    with threadpool_limits(limits=args.threads, user_api="blas"):
        for name in args.shapes.split(","):
            for cell in args.cells.split(","):
                rows.append(profile(cell, name, args.repeats))
    print(json.dumps(rows) if args.json else format_rows(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
