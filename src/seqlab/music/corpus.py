"""The training corpus of a solo: its values in order, their vocabulary, and random training windows.

The course's `load_music_utils` equivalent. The values of all measures are concatenated into one sequence
(the course's corpus); the vocabulary is its sorted set of distinct values (78 to 90 in the course). Each
training example is a window of Tx consecutive values: the model reads a zero vector and then the window's
values shifted by one, and predicts every value of the window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seqlab.music.events import Chord, Note, Section
from seqlab.music.grammar import measure_values


@dataclass
class MusicCorpus:
    """values: the whole solo as value strings; measures: the values per measure; vocab: sorted distinct values;
    chords: each measure's chords (what generation plays over); training: the solo's notes (absolute offsets)."""

    values: list[str]
    measures: list[list[str]]
    vocab: list[str]
    chords: list[list[Chord]]
    training: list[Note]
    beats: float

    @property
    def n_values(self) -> int:
        return len(self.vocab)

    @property
    def index(self) -> dict[str, int]:
        """value -> index in the vocabulary (the course's `values_indices`)."""
        return {v: i for i, v in enumerate(self.vocab)}

    def indices(self) -> np.ndarray:
        """The corpus as vocabulary indices: int64 (len(values),)."""
        idx = self.index
        return np.array([idx[v] for v in self.values], dtype=np.int64)


def build_corpus(section: Section) -> MusicCorpus:
    """Values of every measure of `section` over its chords."""
    measures = [measure_values(notes, chords) for notes, chords in zip(section.measures, section.chords)]
    values = [v for m in measures for v in m]
    return MusicCorpus(values, measures, sorted(set(values)), section.chords, section.solo_notes(), section.beats)


def training_windows(indices: np.ndarray, m: int = 60, Tx: int = 30,
                     rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """m random windows of Tx values from the corpus `indices` (int (N,), N > Tx).

    Returns (x_ids, y_ids), both int64 (Tx, m), time-major: y_ids[t] is the window's t-th value and
    x_ids[t] the one before it, with x_ids[0] = -1 meaning "the zero vector".
    """
    indices = np.asarray(indices)
    if indices.ndim != 1 or not np.issubdtype(indices.dtype, np.integer):
        raise TypeError(f"indices: expected a 1-D integer array, got {indices.dtype} {indices.shape}")
    if len(indices) <= Tx:
        raise ValueError(f"indices: expected more than Tx={Tx} values, got {len(indices)}")
    rng = np.random.default_rng(0) if rng is None else rng
    starts = rng.integers(0, len(indices) - Tx + 1, size=m)
    y = np.stack([indices[s:s + Tx] for s in starts], axis=1)
    x = np.concatenate([np.full((1, m), -1, dtype=np.int64), y[:-1]], axis=0)
    return x, y.astype(np.int64)

