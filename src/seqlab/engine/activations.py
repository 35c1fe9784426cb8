"""Activation functions, written to work in place on preallocated buffers.

The recurrent layers store activated gate values and differentiate through them, so gate derivatives are
expressed in terms of the *output* y (σ' = y(1 − y), tanh' = 1 − y²).
"""

from __future__ import annotations

import numpy as np

RECURRENT_ACTIVATIONS = ("sigmoid", "hard_sigmoid")


def sigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """σ(x) = 1 / (1 + e^−x), computed as ½·tanh(x/2) + ½ (no overflow for large |x|). Any shape."""
    out = np.multiply(x, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def hard_sigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Keras 2's piecewise-linear sigmoid: clip(0.2·x + 0.5, 0, 1). Any shape."""
    out = np.multiply(x, 0.2, out=out)
    out += 0.5
    np.clip(out, 0.0, 1.0, out=out)
    return out


def gate(kind: str):
    """The recurrent activation named `kind` ("sigmoid" or "hard_sigmoid")."""
    if kind == "sigmoid":
        return sigmoid
    if kind == "hard_sigmoid":
        return hard_sigmoid
    raise ValueError(f"recurrent_activation must be one of {RECURRENT_ACTIVATIONS}, got {kind!r}")


def gate_grad_inplace(kind: str, y: np.ndarray, dy: np.ndarray, scratch: np.ndarray) -> None:
    """y := dy ∗ gate'(x) for y = gate(x), from the output y alone; scratch is a buffer shaped like y.

    sigmoid: σ' = y(1 − y); hard_sigmoid: 0.2 where 0 < y < 1, else 0 (the clip's flat parts).
    """
    if kind == "sigmoid":
        np.subtract(1.0, y, out=scratch)
        scratch *= y
    else:
        np.greater(y, 0.0, out=scratch)            # bools cast to 0/1
        scratch *= y < 1.0
        scratch *= 0.2
    np.multiply(dy, scratch, out=y)


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax along `axis` (subtracts the max first). Any shape."""
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """log softmax by log-sum-exp: z − max − log Σ exp(z − max). Any shape."""
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
