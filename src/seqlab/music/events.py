"""The plain data the music code passes around: solo notes, chords and a section cut into measures.

Times are in quarter notes (music21's quarterLength), as floats snapped to a 1/48 grid so that sums of
triplets and sixteenths compare exactly. Pitches are MIDI numbers (60 = middle C).
"""

from __future__ import annotations

from dataclasses import dataclass, field

GRID = 48  # ticks per quarter note for snapping times; divisible by 3 and 16


def snap(t: float) -> float:
    """`t` rounded to the nearest 1/48 of a quarter note."""
    return round(float(t) * GRID) / GRID


@dataclass(frozen=True)
class Note:
    """One event of the solo: a note (pitch = MIDI number) or a rest (pitch = None)."""

    offset: float
    duration: float
    pitch: int | None = None

    @property
    def is_rest(self) -> bool:
        return self.pitch is None

    @property
    def end(self) -> float:
        return snap(self.offset + self.duration)


@dataclass(frozen=True)
class Chord:
    """A chord of the accompaniment: onset, length and its MIDI pitches (sorted, at least one)."""

    offset: float
    duration: float
    pitches: tuple[int, ...]
    carried: bool = False  # True: not struck here, the chord still sounding from the previous measure
    name: str = ""         # its chord symbol ("Bb7") when it came from written changes

    @property
    def pitch_classes(self) -> frozenset[int]:
        return frozenset(p % 12 for p in self.pitches)


@dataclass
class Section:
    """A solo and its chords cut into measures of `beats` quarter notes.

    measures[i]: the solo's events in measure i, offsets relative to the measure start, non-overlapping,
      rests filling the gaps, so their durations add up to `beats`.
    chords[i]: the chords of measure i, offsets relative to the measure start; the first one is at 0 (the chord
      still sounding from before the bar line when the measure's own first chord comes later).
    """

    measures: list[list[Note]]
    chords: list[list[Chord]]
    beats: float = 4.0
    source: dict = field(default_factory=dict)  # where it came from: file, parts, offsets (for messages)

    def __post_init__(self):
        if len(self.measures) != len(self.chords):
            raise ValueError(f"measures and chords: expected equal lengths, got {len(self.measures)} "
                             f"and {len(self.chords)}")

    def __len__(self) -> int:
        return len(self.measures)

    def solo_notes(self) -> list[Note]:
        """Every sounding note (no rests) with offsets from the start of the section."""
        return [Note(snap(i * self.beats + n.offset), n.duration, n.pitch)
                for i, m in enumerate(self.measures) for n in m if not n.is_rest]

    def all_chords(self) -> list[Chord]:
        """The chords with offsets from the start of the section: each struck chord, and the one sounding at
        the very start (which may have been struck before the section began)."""
        return [Chord(snap(i * self.beats + c.offset), c.duration, c.pitches, name=c.name)
                for i, cs in enumerate(self.chords) for c in cs if i == 0 or not c.carried]


def chord_at(chords: list[Chord], t: float) -> Chord:
    """The chord sounding at time `t`: the last one starting at or before `t` (the first one if none does).

    `chords` is sorted by offset and non-empty.
    """
    current = chords[0]
    for c in chords:
        if c.offset <= t + 1e-9:
            current = c
        else:
            break
    return current
