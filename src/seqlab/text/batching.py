"""Minibatches for training, each a deterministic function of (seed, step) so a resumed run sees the same data.

lines mode: B lines per batch, drawn without replacement from a fresh permutation of all lines each epoch;
each line is read as '\\n' + line and predicts line + '\\n'; shorter lines are padded and masked out.
stream mode: the text is cut into B equal parallel streams; batch k of an epoch is steps
[k·seq_len, (k+1)·seq_len) of every stream, and the recurrent state is carried from batch to batch
(truncated backpropagation through time), reset at the start of each epoch.
"""

from __future__ import annotations

import numpy as np

from seqlab.engine.base import sizes


def pad_lines(encoded: list[np.ndarray], start_id: int):
    """Lines as ids (L_b,) each -> (ids_in (T, B), targets (T, B), mask (T, B) bool), T = max L_b + 1.

    Column b: ids_in = [start, line...], targets = [line..., start] (start doubles as end of line); padding
    positions hold the start id with mask False.
    """
    B = len(encoded)
    T = max(len(e) for e in encoded) + 1
    ids_in = np.full((T, B), start_id, np.int64)
    targets = np.full((T, B), start_id, np.int64)
    mask = np.zeros((T, B), bool)
    for b, e in enumerate(encoded):
        L = len(e)
        ids_in[1:L + 1, b] = e
        targets[:L, b] = e
        mask[:L + 1, b] = True
    return ids_in, targets, mask


class LinesBatches:
    """Batches of whole lines. lines: list of ids arrays (L_i,); batch(step) -> (ids_in, targets, mask)."""

    def __init__(self, lines: list[np.ndarray], batch_size: int, start_id: int, seed: int = 0):
        sizes(batch_size=batch_size)
        if not lines:
            raise ValueError("lines: expected at least one line")
        self.lines, self.start_id, self.seed = lines, int(start_id), int(seed)
        self.batch_size = min(int(batch_size), len(lines))
        self._perms: dict[int, np.ndarray] = {}

    def _perm(self, epoch: int) -> np.ndarray:
        if epoch not in self._perms:
            if len(self._perms) > 4:
                self._perms.clear()
            self._perms[epoch] = np.random.default_rng([self.seed, 7, epoch]).permutation(len(self.lines))
        return self._perms[epoch]

    def indices(self, step: int) -> np.ndarray:
        """The line indices of batch `step` (positions step·B … step·B + B − 1 of the epoch permutations)."""
        N, B = len(self.lines), self.batch_size
        pos = np.arange(step * B, step * B + B)
        return np.array([self._perm(p // N)[p % N] for p in pos])

    def batch(self, step: int):
        return pad_lines([self.lines[i] for i in self.indices(step)], self.start_id)

    def resets_state(self, step: int) -> bool:  # every line starts from zeros
        return True


class StreamBatches:
    """Truncated-BPTT batches of one long text. ids (N,); batch(step) -> (ids_in (S, B), targets (S, B), None)."""

    def __init__(self, ids: np.ndarray, batch_size: int, seq_len: int):
        # seq_len=0 used to become 1, silently; a short corpus still shortens both, below
        sizes(batch_size=batch_size, seq_len=seq_len)
        ids = np.asarray(ids, np.int64)
        B = max(1, min(int(batch_size), (ids.size - 1) // 2))
        L = (ids.size - 1) // B                     # predictions per stream
        if L < 1:
            raise ValueError(f"ids: the text is too short ({ids.size} characters) for stream batches")
        self.batch_size, self.seq_len = B, max(1, min(int(seq_len), L))
        self.chunks = L // self.seq_len             # batches per epoch (the tail of each stream is dropped)
        n = self.chunks * self.seq_len
        self.inputs = np.stack([ids[b * L:b * L + n] for b in range(B)], axis=1)           # (n, B)
        self.targets = np.stack([ids[b * L + 1:b * L + n + 1] for b in range(B)], axis=1)  # (n, B)

    def batch(self, step: int):
        k = step % self.chunks
        s = slice(k * self.seq_len, (k + 1) * self.seq_len)
        return self.inputs[s], self.targets[s], None

    def resets_state(self, step: int) -> bool:
        """Whether batch `step` starts its streams from zeros (the first batch of an epoch)."""
        return step % self.chunks == 0
