"""Improvising: the model writes values measure by measure, and each measure becomes notes over its chords.

From x = 0 and a zero state the network proposes the next value; the course takes the argmax
(temperature 0), otherwise the value is sampled from softmax(logits / T). Values are produced until their
durations fill the measure, then the next measure follows with the LSTM state carried on. Measure i plays
over chord measure i of the progression (cycling when the solo is longer than it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seqlab.music.bundle import JazzBundle
from seqlab.music.events import Chord, Note, snap
from seqlab.music.grammar import grid_round, parse_value, realize, tidy

MAX_VALUES_PER_MEASURE = 64


@dataclass
class Solo:
    """A new solo: notes and chords with offsets from its start, and the values each measure came from."""

    notes: list[Note]
    chords: list[Chord]
    values: list[list[str]]
    beats: float


def choose(p: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    """Index from probabilities p (V,): argmax when temperature <= 0, else a draw from p^(1/T), renormalised."""
    if temperature <= 0:
        return int(np.argmax(p))
    logp = np.log(np.maximum(p, 1e-300)) / temperature
    logp -= logp.max()
    q = np.exp(logp)
    return int(rng.choice(len(q), p=q / q.sum()))


def generate_values(bundle: JazzBundle, measures: int, rng: np.random.Generator,
                    temperature: float = 0.0) -> list[list[str]]:
    """`measures` lists of values, each filling (at least) one measure."""
    model, vocab = bundle.model, bundle.vocab
    steps = [max(grid_round(parse_value(v).duration), 0.25) for v in vocab]  # time each value advances
    x = np.zeros((1, model.n_values), dtype=model.dtype)
    state = None
    out = []
    for _ in range(measures):
        values, t = [], 0.0
        while t < bundle.beats and len(values) < MAX_VALUES_PER_MEASURE:
            p, state = model.step(x, state)
            k = choose(p[0], temperature, rng)
            values.append(vocab[k])
            t = snap(t + steps[k])
            x = np.zeros_like(x)
            x[0, k] = 1
        out.append(values)
    return out


def progression_chords(progression: list[list[Chord]], measures: int) -> list[list[Chord]]:
    """Chords for each of `measures` measures, cycling through the progression."""
    return [progression[i % len(progression)] for i in range(measures)]


def realize_solo(values: list[list[str]], chords: list[list[Chord]], beats: float, rng: np.random.Generator,
                 register: tuple[int, int], home: int, profile=None) -> Solo:
    """Values per measure over chords per measure -> a tidy monophonic solo with absolute offsets."""
    notes, timeline, prev = [], [], None
    for i, (vals, cs) in enumerate(zip(values, chords)):
        bar = i * beats
        for n in realize(vals, cs, rng, beats, prev, register, home, profile):
            notes.append(Note(snap(bar + n.offset), n.duration, n.pitch))
            if not n.is_rest:
                prev = n.pitch
        for c in cs:
            # a chord held over the bar line is struck again only when it is not what was sounding
            # (the first measure, or where the progression starts over)
            if not c.carried or not timeline or timeline[-1].pitches != c.pitches:
                timeline.append(Chord(snap(bar + c.offset), c.duration, c.pitches))
    return Solo(tidy(notes), timeline, values, beats)


def improvise(bundle: JazzBundle, measures: int = 16, seed: int = 0, temperature: float = 0.0) -> Solo:
    """A new solo of `measures` measures over the bundle's chord progression."""
    if measures < 1:
        raise ValueError(f"measures: expected at least 1, got {measures}")
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(seed)
    with threadpool_limits(limits=1, user_api="blas"):  # one value at a time: threads only add overhead
        values = generate_values(bundle, measures, rng, temperature)
    chords = progression_chords(bundle.progression, measures)
    return realize_solo(values, chords, bundle.beats, rng, bundle.register, bundle.home, bundle.profile)
