"""Softmax cross-entropy with a mask, by log-sum-exp."""

from __future__ import annotations

import numpy as np


def softmax_cross_entropy(logits: np.ndarray, targets: np.ndarray, mask: np.ndarray | None = None):
    """Summed negative log-likelihood of `targets` under softmax(logits).

    logits (N, V) float; targets (N,) ints in [0, V); mask (N,) bool/0-1 or None (all rows count).
    Returns (loss_sum, count, dlogits): loss_sum in nats over the counted rows, count = number of counted
    rows, dlogits (N, V) = d loss_sum / d logits (softmax − onehot on counted rows, 0 elsewhere).
    """
    if not isinstance(logits, np.ndarray) or logits.ndim != 2:
        raise ValueError(f"logits must have shape (N, V), got {getattr(logits, 'shape', type(logits).__name__)}")
    N, V = logits.shape
    targets = np.asarray(targets)
    if targets.shape != (N,) or not np.issubdtype(targets.dtype, np.integer):
        raise ValueError(f"targets must be integers of shape ({N},), got {targets.dtype} {targets.shape}")
    if N and (targets.min() < 0 or targets.max() >= V):
        raise ValueError(f"targets must lie in [0, {V}), got values in [{targets.min()}, {targets.max()}]")
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    sums = exp.sum(axis=1, keepdims=True)
    rows = np.arange(N)
    nll = np.log(sums[:, 0]) - shifted[rows, targets]
    dlogits = exp
    dlogits /= sums
    dlogits[rows, targets] -= 1.0
    if mask is None:
        return float(nll.sum()), N, dlogits
    mask = np.asarray(mask)
    if mask.shape != (N,):
        raise ValueError(f"mask must have shape ({N},), got {mask.shape}")
    if mask.dtype != bool and not np.isin(mask, (0, 1)).all():   # a 2 or a -1 would weight the loss, silently
        raise ValueError("mask must be bool or 0/1, one entry a row")
    m = mask.astype(logits.dtype)
    dlogits *= m[:, None]
    return float((nll * m).sum()), int(np.count_nonzero(mask)), dlogits
