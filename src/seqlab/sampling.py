"""Choosing the next symbol from a model's distribution: the one sampler of seqlab (text and music use it).

From log-probabilities (B, V) over V symbols: divide by the temperature, keep the top k, keep the nucleus
(the smallest set of the likeliest whose probability reaches top_p), renormalise, and draw one symbol per row
by inverse CDF with one uniform per row. Temperature 0 takes the most likely symbol and draws nothing.
"""

from __future__ import annotations

import math

import numpy as np

from seqlab.engine.activations import softmax
from seqlab.errors import UserError
from seqlab.values import is_number, is_whole


def check_options(temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None) -> None:
    """UserError for a temperature < 0 (0 means the most likely), a top-k < 1 or a top-p outside (0, 1];
    also for values that are not numbers (a NaN temperature would pick symbol 0 every time)."""
    if not is_number(temperature) or not math.isfinite(temperature) or temperature < 0:
        raise UserError(f"temperature must be a number >= 0, got {temperature!r}")
    if top_k is not None and (not is_whole(top_k) or top_k < 1):
        raise UserError(f"top-k must be a whole number of at least 1, got {top_k!r}")
    if top_p is not None and (not is_number(top_p) or not 0.0 < top_p <= 1.0):
        raise UserError(f"top-p must be in (0, 1], got {top_p!r}")


def nucleus(p: np.ndarray, top_p: float) -> np.ndarray:
    """p (B, V) probabilities -> the same with everything outside each row's nucleus set to 0 (not renormalised).

    A row's nucleus is its likeliest symbols, in order, up to and including the one at which their summed
    probability first reaches top_p; among equal probabilities the lower index comes first.
    """
    order = np.argsort(-p, axis=1, kind="stable")
    sorted_p = np.take_along_axis(p, order, axis=1)
    before = np.cumsum(sorted_p, axis=1) - sorted_p        # mass of the likelier symbols
    keep_sorted = before < top_p * p.sum(axis=1, keepdims=True)
    keep_sorted[:, 0] = True
    keep = np.empty_like(keep_sorted)
    np.put_along_axis(keep, order, keep_sorted, axis=1)
    return np.where(keep, p, 0.0)


def next_distribution(log_probs: np.ndarray, temperature: float = 1.0, top_k: int | None = None,
                      top_p: float | None = None) -> np.ndarray:
    """log_probs (B, V) -> probabilities (B, V) after the temperature (> 0), the top k and the top p."""
    check_options(temperature, top_k, top_p)
    if temperature == 0:
        raise UserError("temperature 0 has no distribution: it takes the most likely symbol (see choose)")
    return _distribution(log_probs, temperature, top_k, top_p)


def _distribution(log_probs, temperature, top_k, top_p):
    """next_distribution without the checks (choose has made them)."""
    z = log_probs / temperature
    if top_k is not None and top_k < z.shape[1]:
        # The k-th largest value of each row; everything below it is removed (ties at the cut are kept).
        kth = np.partition(z, -top_k, axis=1)[:, -top_k][:, None]
        z = np.where(z >= kth, z, -np.inf)
    p = softmax(z, axis=1)
    if top_p is not None and top_p < 1.0:
        p = nucleus(p, top_p)
        p /= p.sum(axis=1, keepdims=True)
    return p


def draw(p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One index per row of p (B, V) by inverse CDF with one uniform per row: ids (B,)."""
    cdf = np.cumsum(p, axis=1)
    u = rng.random(p.shape[0])[:, None] * cdf[:, -1:]
    return np.minimum((cdf <= u).sum(axis=1), p.shape[1] - 1)


def choose(log_probs: np.ndarray, rng: np.random.Generator, temperature: float = 1.0,
           top_k: int | None = None, top_p: float | None = None) -> np.ndarray:
    """The next symbol of each row of log_probs (B, V): ids (B,). Temperature 0: argmax, rng untouched."""
    check_options(temperature, top_k, top_p)
    if temperature == 0:
        return np.argmax(log_probs, axis=1)
    return draw(_distribution(log_probs, temperature, top_k, top_p), rng)
