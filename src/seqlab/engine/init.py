"""Weight initializers. Each takes a np.random.Generator and returns a new array of the given dtype."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import numpy as np

_state = threading.local()


@contextmanager
def skipped():
    """Inside, glorot_uniform, orthogonal and normal return zeros and draw nothing: for building a model whose
    weights are loaded right after. Loading the bundled poem model spent 70 of its 86 ms on the QRs of two
    orthogonal initialisations it then overwrote."""
    before = getattr(_state, "skip", False)
    _state.skip = True
    try:
        yield
    finally:
        _state.skip = before


def _skipping() -> bool:
    return getattr(_state, "skip", False)


def glorot_uniform(rng: np.random.Generator, shape: tuple[int, int], dtype=np.float32) -> np.ndarray:
    """U(−l, l) with l = √(6 / (fan_in + fan_out)), for a (fan_in, fan_out) matrix (Keras' default)."""
    if _skipping():
        return np.zeros(shape, dtype)
    limit = np.sqrt(6.0 / (shape[0] + shape[1]))
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


def normal(rng: np.random.Generator, shape: tuple[int, ...], dtype=np.float32, scale: float = 0.1) -> np.ndarray:
    """N(0, scale²) (the embedding table's initial rows)."""
    if _skipping():
        return np.zeros(shape, dtype)
    return (rng.standard_normal(shape) * scale).astype(dtype)


def orthogonal(rng: np.random.Generator, shape: tuple[int, int], dtype=np.float32, gain: float = 1.0) -> np.ndarray:
    """A (rows, cols) matrix with orthonormal rows or columns, from the QR of a Gaussian matrix (Saxe et al.)."""
    if _skipping():
        return np.zeros(shape, dtype)
    rows, cols = shape
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))  # makes the distribution uniform over orthogonal matrices
    if rows < cols:
        q = q.T
    return (gain * q[:rows, :cols]).astype(dtype)


def orthogonal_blocks(rng: np.random.Generator, hidden: int, blocks: int, dtype=np.float32) -> np.ndarray:
    """A (hidden, blocks·hidden) recurrent matrix: one orthogonal (hidden, hidden) block per gate."""
    return np.concatenate([orthogonal(rng, (hidden, hidden), dtype) for _ in range(blocks)], axis=1)


def course_randn(rng: np.random.Generator, shape: tuple[int, ...], dtype=np.float64) -> np.ndarray:
    """The course's `np.random.randn(*shape) * 0.01`."""
    return (rng.standard_normal(shape) * 0.01).astype(dtype)


def course_init(layers, rng: np.random.Generator) -> None:
    """Re-initialises every weight matrix of `layers` as the course does (randn · 0.01) and zeroes every bias.

    Parameters whose name starts with "b" are biases. Containers with a `.layers` list are walked.
    """
    for layer in layers:
        if hasattr(layer, "layers"):
            course_init(layer.layers, rng)
        for name, p in getattr(layer, "params", {}).items():
            p[...] = 0.0 if name.startswith("b") else course_randn(rng, p.shape, p.dtype)
