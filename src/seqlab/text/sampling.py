"""Sampling text from a LanguageModel: temperature, top-k, a seed, a prefix to continue, a length cap.

All requested samples run side by side as one batch (B = n), so n lines cost about as much as the longest.
"""

from __future__ import annotations

import numpy as np

from seqlab.engine.activations import softmax
from seqlab.errors import UserError
from seqlab.text.model import START, LanguageModel


def check_options(temperature: float, top_k: int | None, max_len: int) -> None:
    """UserError for a temperature <= 0, a top-k < 1 or a max length < 1."""
    if not np.isfinite(temperature) or temperature <= 0:
        raise UserError(f"temperature must be a positive number, got {temperature}")
    if top_k is not None and top_k < 1:
        raise UserError(f"top-k must be at least 1, got {top_k}")
    if max_len < 1:
        raise UserError(f"the maximum length must be at least 1, got {max_len}")


def next_distribution(log_probs: np.ndarray, temperature: float = 1.0, top_k: int | None = None) -> np.ndarray:
    """log_probs (B, V) -> probabilities (B, V) after dividing by the temperature and keeping the top k."""
    z = log_probs / temperature
    if top_k is not None and top_k < z.shape[1]:
        # The k-th largest value of each row; everything below it is removed (ties at the cut are kept).
        kth = np.partition(z, -top_k, axis=1)[:, -top_k][:, None]
        z = np.where(z >= kth, z, -np.inf)
    return softmax(z, axis=1)


def _draw(p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One index per row of p (B, V) by inverse CDF with one uniform per row: ids (B,)."""
    cdf = np.cumsum(p, axis=1)
    u = rng.random(p.shape[0])[:, None] * cdf[:, -1:]
    return np.minimum((cdf <= u).sum(axis=1), p.shape[1] - 1)


def generate(lm: LanguageModel, n: int = 1, *, prefix: str = "", max_len: int = 100,
             temperature: float = 1.0, top_k: int | None = None, seed: int | None = None,
             stop_at_newline: bool | None = None, rng: np.random.Generator | None = None) -> list[str]:
    """n continuations of `prefix` (the prefix itself not included), each at most max_len characters.

    The model first reads '\\n' (the start of a line) and then the normalised prefix; a prefix character
    outside the vocabulary is a UserError. stop_at_newline (default: True for "lines" models) ends a sample
    at its first '\\n', which is not included. Same seed (or same rng state) -> same samples.
    """
    check_options(temperature, top_k, max_len)
    if n < 1:
        raise UserError(f"the number of samples must be at least 1, got {n}")
    rng = rng if rng is not None else np.random.default_rng(seed)
    if stop_at_newline is None:
        stop_at_newline = lm.mode == "lines"
    context = lm.encode(prefix)                              # UserError on unknown characters
    ids = np.concatenate([[lm.start_id], context]).astype(np.int64)
    # Read the context once with B = 1, then copy its state to the n samples.
    lp, states = lm.model.log_probs(ids[:, None])
    last = np.repeat(lp[-1], n, axis=0)                      # (n, V)
    states = [tuple(np.repeat(a, n, axis=0) for a in s) if isinstance(s, tuple) else np.repeat(s, n, axis=0)
              for s in states]
    out = np.empty((n, max_len), np.int64)
    done = np.zeros(n, bool)
    length = np.full(n, max_len)
    end_id = lm.start_id
    for t in range(max_len):
        nxt = _draw(next_distribution(last, temperature, top_k), rng)
        out[:, t] = nxt
        if stop_at_newline:
            ended = ~done & (nxt == end_id)
            length[ended] = t
            done |= ended
            if done.all():
                break
        if t + 1 < max_len:
            last, states = lm.model.step(nxt, states)
    return [lm.vocab.decode(out[i, :length[i]]) for i in range(n)]


def sample_lines(lm: LanguageModel, n: int = 1, *, prefix: str = "", max_len: int = 100,
                 temperature: float = 1.0, top_k: int | None = None, seed: int | None = None) -> list[str]:
    """n whole lines (normalised prefix + continuation) from a "lines" model."""
    start = lm.normalize(prefix)
    return [start + s for s in generate(lm, n, prefix=prefix, max_len=max_len, temperature=temperature,
                                        top_k=top_k, seed=seed, stop_at_newline=True)]


def novelty(lines: list[str], training_lines) -> int:
    """How many of `lines` are not lines of the training data (a set of normalised lines)."""
    return sum(1 for s in lines if s not in training_lines)


__all__ = ["generate", "sample_lines", "next_distribution", "novelty", "check_options", "START"]
