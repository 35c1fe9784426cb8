"""Improvising: the model writes values measure by measure, and each measure becomes notes over its chords.

From x = 0 and a zero state the network proposes the next value; the course takes the argmax
(temperature 0), otherwise the value is sampled from softmax(logits / T) by seqlab.sampling.choose. Values
are produced until their durations fill the measure, then the next measure follows with the LSTM state
carried on. Measure i plays over chord measure i of the progression (the bundle's or another, cycling when
the solo is longer than it).
A primer phrase opens the solo as it is, and its values are read by the LSTM first, to set its state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from seqlab.music.bundle import JazzBundle
from seqlab.music.events import Chord, Note, snap
from seqlab.music.grammar import grid_round, measure_values, parse_value, realize, tidy
from seqlab.sampling import choose

MAX_VALUES_PER_MEASURE = 64


@dataclass
class Solo:
    """A new solo: notes and chords with offsets from its start, and the values each measure came from."""

    notes: list[Note]
    chords: list[Chord]
    values: list[list[str]]
    beats: float


def generate_values(bundle: JazzBundle, measures: int, rng: np.random.Generator,
                    temperature: float = 0.0, start: list[int] | None = None) -> list[list[str]]:
    """`measures` lists of values, each filling (at least) one measure. `start`: vocabulary indices read
    first (a primer phrase) to set the LSTM's state; what follows continues from them."""
    model, vocab = bundle.model, bundle.vocab
    steps = [max(grid_round(parse_value(v).duration), 0.25) for v in vocab]  # time each value advances
    x = np.zeros((1, model.n_values), dtype=model.dtype)
    state = None
    for k in start or []:
        _, state = model.step(x, state)
        x = np.zeros_like(x)
        x[0, k] = 1
    out = []
    for _ in range(measures):
        values, t = [], 0.0
        while t < bundle.beats and len(values) < MAX_VALUES_PER_MEASURE:
            logp, state = model.step(x, state)
            k = int(choose(logp, rng, temperature)[0])
            values.append(vocab[k])
            t = snap(t + steps[k])
            x = np.zeros_like(x)
            x[0, k] = 1
        out.append(values)
    return out


def nearest_value(text: str, vocab: list[str]) -> int:
    """Index of the vocabulary value closest to `text`: the same kind if the vocabulary has it, then the
    nearest duration, then the nearest interval range (a value with a range is never matched to one without,
    when there is a choice). How a primer phrase's values are read by a model that may not know them."""
    v = parse_value(text)
    parsed = [parse_value(u) for u in vocab]

    def distance(u) -> tuple:
        ranged = (u.up is None) != (v.up is None)
        shift = 0 if u.up is None or v.up is None else abs(u.up - v.up) + abs(u.down - v.down)
        return (u.kind != v.kind, ranged, abs(u.duration - v.duration), shift)

    return min(range(len(vocab)), key=lambda i: distance(parsed[i]))


def progression_chords(progression: list[list[Chord]], measures: int) -> list[list[Chord]]:
    """Chords for each of `measures` measures, cycling through the progression."""
    return [progression[i % len(progression)] for i in range(measures)]


def realize_solo(values: list[list[str]], chords: list[list[Chord]], beats: float, rng: np.random.Generator,
                 register: tuple[int, int], home: int, profile=None,
                 given: list[list[Note]] | None = None) -> Solo:
    """Values per measure over chords per measure -> a tidy monophonic solo with absolute offsets.

    `given`: the first measures' notes as they are (a primer phrase, offsets from each bar line); `values`
    then holds the measures after them."""
    given = given or []
    notes, timeline, prev = [], [], None
    measures = [("given", m) for m in given] + [("values", v) for v in values]
    for i, ((source, content), cs) in enumerate(zip(measures, chords)):
        bar = i * beats
        played = content if source == "given" else realize(content, cs, rng, beats, prev, register, home,
                                                            profile)
        for n in played:
            notes.append(Note(snap(bar + n.offset), n.duration, n.pitch))
            if not n.is_rest:
                prev = n.pitch
        for c in cs:
            # a chord held over the bar line is struck again only when it is not what was sounding
            # (the first measure, or where the progression starts over)
            if not c.carried or not timeline or timeline[-1].pitches != c.pitches:
                timeline.append(Chord(snap(bar + c.offset), c.duration, c.pitches, name=c.name))
    return Solo(tidy(notes), timeline, values, beats)


def improvise(bundle: JazzBundle, measures: int = 16, seed: int = 0, temperature: float = 0.0,
              progression: list[list[Chord]] | None = None, primer: list[list[Note]] | None = None,
              profile=None) -> Solo:
    """A new solo of `measures` measures over `progression` (chords per measure; default: the bundle's),
    cycling through it.

    `primer`: measures of a melody (offsets from each bar line) that open the solo as they are, at most
    measures - 1 of them so that the model always adds something; the LSTM reads their values (over the
    progression's chords, each mapped to the nearest value it knows) and continues from there.
    `profile`: 12 weights by pitch class for choosing among fitting pitches (default: the training solo's).
    """
    if measures < 1:
        raise ValueError(f"measures: expected at least 1, got {measures}")

    progression = bundle.progression if progression is None else progression
    if not progression or not all(progression):     # cycling through nothing divided by zero
        raise ValueError("progression: expected at least one measure, each with at least one Chord")
    chords = progression_chords(progression, measures)
    given = list(primer or [])[:measures - 1]
    index = {v: i for i, v in enumerate(bundle.vocab)}
    start = [index[v] if v in index else nearest_value(v, bundle.vocab)
             for m, cs in zip(given, chords) for v in measure_values(m, cs)]
    rng = np.random.default_rng(seed)
    with threadpool_limits(limits=1, user_api="blas"):  # one value at a time: threads only add overhead
        values = generate_values(bundle, measures - len(given), rng, temperature, start)
    profile = bundle.profile if profile is None else profile
    solo = realize_solo(values, chords, bundle.beats, rng, bundle.register, bundle.home, profile, given)
    solo.values = [measure_values(m, cs) for m, cs in zip(given, chords)] + values
    return solo
