"""deepjazz's grammar: a measure of melody as abstract "values", and back to concrete notes.

A value is a string "K,D" or "K,D,<UP,DOWN>":
- K: the note's class over the chord sounding at its onset (C chord, S scale, A approach, X other; R rest);
- D: its length in quarter notes, three decimals;
- <UP,DOWN>: for every note after the first of its measure, the range the interval from the previous note
  falls in: that interval plus and minus a minor third, named like music21 ("m2", "P-4"). The pitch is
  left open, so a value can be replayed over other chords.

`realize` turns values back into pitches over a measure's chords; `tidy` rounds to a standard rhythmic grid
and makes the line monophonic.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from seqlab.music.events import Chord, Note, chord_at, snap
from seqlab.music.harmony import note_class

# music21 is imported inside the functions that use it: it takes about a second to import, and most callers
# (the command line's --help, the text models, the tests of other parts) never need it.

SPREAD = 3                     # a minor third either side of the actual interval
REGISTER = (48, 84)            # default pitch range of a realized solo: C3 to C6
KINDS = ("C", "S", "A", "X", "R")


@dataclass(frozen=True)
class Value:
    """A parsed value: kind, duration (quarter notes) and, when given, the interval range (semitones)."""

    kind: str
    duration: float
    up: int | None = None
    down: int | None = None

    def __str__(self) -> str:
        text = f"{self.kind},{self.duration:.3f}"
        if self.up is not None:
            text += f",<{interval_name(self.up)},{interval_name(self.down)}>"
        return text


@lru_cache(maxsize=256)
def interval_name(semitones: int) -> str:
    """music21's directed name of an interval of `semitones` ("m2", "P-4", "P1")."""
    from music21 import interval

    return interval.Interval(int(semitones)).directedName


@lru_cache(maxsize=1024)
def interval_semitones(name: str) -> int:
    from music21 import interval

    return int(interval.Interval(name).semitones)


def parse_value(text: str) -> Value:
    """The Value for a string like "S,0.250,<m3,m-3>"; ValueError naming the string if malformed."""
    parts = text.split(",", 2)
    try:
        kind, duration = parts[0], float(parts[1])
        if kind not in KINDS or not duration > 0:
            raise ValueError
        if len(parts) == 2:
            return Value(kind, duration)
        up, down = parts[2].strip("<>").split(",")
        return Value(kind, duration, interval_semitones(up), interval_semitones(down))
    except Exception:
        raise ValueError(f"value {text!r}: expected 'K,D' or 'K,D,<UP,DOWN>' with K in {KINDS}") from None


def measure_values(notes: list[Note], chords: list[Chord]) -> list[str]:
    """One measure of solo (offsets from the bar line, rests included) -> its values, in order.

    `chords` are the measure's chords (offsets from the bar line, sorted, non-empty).
    """
    out = []
    prev: int | None = None
    for n in notes:
        if n.is_rest:
            out.append(str(Value("R", n.duration)))
            continue
        kind = note_class(n.pitch, chord_at(chords, n.offset).pitches)
        if prev is None:
            out.append(str(Value(kind, n.duration)))
        else:
            step = n.pitch - prev
            out.append(str(Value(kind, n.duration, step + SPREAD, step - SPREAD)))
        prev = n.pitch
    return out


def grid_round(t: float) -> float:
    """`t` on the nearest point of the standard grid: sixteenth notes (k/4) or eighth-note triplets (k/3)."""
    q, tr = round(t * 4) / 4, round(t * 3) / 3
    return snap(q if abs(q - t) <= abs(tr - t) else tr)


def _pick(candidates: list[int], prev: int | None, rng: np.random.Generator, profile=None) -> int:
    """A random candidate, avoiding a repeat of `prev` when there is a choice; with a `profile` (12 weights
    by pitch class) candidates are drawn in proportion to their pitch class's weight."""
    fresh = [p for p in candidates if p != prev] or candidates
    if profile is None:
        return int(fresh[rng.integers(len(fresh))])
    w = np.array([profile[p % 12] for p in fresh], dtype=np.float64)
    return int(fresh[rng.choice(len(fresh), p=w / w.sum())])


def _fits(kind: str, pitch: int, chord: tuple[int, ...]) -> bool:
    if kind == "X":
        return True  # "other": any pitch will do
    return note_class(pitch, chord) == kind


def choose_pitch(value: Value, chord: tuple[int, ...], prev: int | None, rng: np.random.Generator,
                 register: tuple[int, int] = REGISTER, home: int = 67, profile=None) -> int:
    """A pitch for `value` over `chord`: of the value's class, within its interval range from `prev`.

    Without a range (first note of a measure) it stays within a fourth of `prev` (of `home` when there is
    no previous note). When nothing in range fits, the nearest pitch of the class is taken. `profile`
    (12 positive weights by pitch class, e.g. the training solo's) makes the tones of the piece's key likelier.
    """
    lo_reg, hi_reg = register
    anchor = home if prev is None else prev
    if value.up is not None and prev is not None:
        lo, hi = prev + value.down, prev + value.up
    else:
        lo, hi = anchor - 5, anchor + 5
    lo, hi = max(lo, lo_reg), min(hi, hi_reg)
    candidates = [p for p in range(lo, hi + 1) if _fits(value.kind, p, chord)]
    if candidates:
        return _pick(candidates, prev, rng, profile)
    anchor = min(max(anchor, lo_reg), hi_reg)
    for d in range(1, 13):  # nearest pitch of the class, inside the register
        near = [p for p in (anchor - d, anchor + d) if lo_reg <= p <= hi_reg and _fits(value.kind, p, chord)]
        if near:
            return _pick(near, prev, rng, profile)
    return anchor


def realize(values: list[str], chords: list[Chord], rng: np.random.Generator, beats: float = 4.0,
            prev: int | None = None, register: tuple[int, int] = REGISTER, home: int = 67,
            profile=None) -> list[Note]:
    """Values of one measure -> notes and rests over its chords, offsets from the bar line.

    Durations are rounded to the grid first (at least a sixteenth); values past the end of the measure are
    dropped and the last one is cut at the bar line. `prev` is the pitch before the measure, if any;
    `register`, `home` and `profile` go to `choose_pitch`.
    """
    out: list[Note] = []
    t = 0.0
    last = prev
    first = True
    for text in values:
        if t >= beats:
            break
        v = parse_value(text)
        dur = snap(min(max(grid_round(v.duration), 0.25), beats - t))
        if v.kind == "R":
            out.append(Note(t, dur, None))
        else:
            if first and v.up is not None:  # a measure's first note keeps to the neighbourhood of the last
                v = Value(v.kind, v.duration)
            pitch = choose_pitch(v, chord_at(chords, t).pitches, last, rng, register, home, profile)
            out.append(Note(t, dur, pitch))
            last = pitch
            first = False
        t = snap(t + dur)
    return out


def tidy(notes: list[Note]) -> list[Note]:
    """A monophonic line on the standard grid: no zero lengths, collisions, overlaps or repeated notes.

    Onsets and ends go to the nearest grid point; of notes starting together the first is kept; a note
    overlapping the next is cut at the next onset; a note repeating the pitch just before it, with no gap,
    is merged into it. Rests are dropped (silence is the gaps). Offsets are absolute or per measure, as given.
    """
    placed = []
    for n in notes:
        if n.is_rest:
            continue
        a, b = grid_round(n.offset), grid_round(n.offset + n.duration)
        if b > a:
            placed.append(Note(a, snap(b - a), n.pitch))
    placed.sort(key=lambda n: n.offset)  # stable: the first of colliding notes stays first
    line: list[Note] = []
    for n in placed:
        if line and n.offset == line[-1].offset:
            continue  # colliding
        if line and line[-1].end > n.offset:
            prev = line[-1]  # overlapping: cut the earlier note
            line[-1] = Note(prev.offset, snap(n.offset - prev.offset), prev.pitch)
        if line and line[-1].pitch == n.pitch and line[-1].end == n.offset:
            prev = line[-1]  # repeated: one longer note
            line[-1] = Note(prev.offset, snap(n.end - prev.offset), prev.pitch)
            continue
        line.append(n)
    return line
