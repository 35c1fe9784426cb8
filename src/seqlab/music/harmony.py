"""What a pitch is over a chord: chord tone, scale tone, approach tone or other (deepjazz's classes).

- C: its pitch class is one of the chord's;
- S: it is in the chord's scale: the diatonic collection holding most of the chord's pitch classes, preferring
  the major scale on the chord's root for major chords and the Dorian scale on the root for the others;
- A: a half step from a chord tone (and neither of the above);
- X: anything else.
Pitches are MIDI numbers; chords are tuples of MIDI numbers.
"""

from __future__ import annotations

from functools import lru_cache

# music21 is imported inside the functions that use it: it takes about a second to import, and most callers
# (the command line's --help, the text models, the tests of other parts) never need it.

CLASSES = ("C", "S", "A", "X")
_MAJOR = (0, 2, 4, 5, 7, 9, 11)  # pitch classes of C major; Dorian on D is the same collection


@lru_cache(maxsize=4096)
def _root_and_quality(pitches: tuple[int, ...]) -> tuple[int, str]:
    from music21 import chord

    c = chord.Chord(list(pitches))
    return c.root().pitchClass, c.quality


@lru_cache(maxsize=4096)
def chord_scale(pitches: tuple[int, ...]) -> frozenset[int]:
    """Pitch classes of the chord's scale (7 of them)."""
    pcs = {p % 12 for p in pitches}
    root, quality = _root_and_quality(tuple(sorted(pitches)))
    preferred = root if quality == "major" else (root - 2) % 12  # Dorian on r = major scale on r - 2

    def score(k: int) -> tuple[int, int]:
        collection = {(k + d) % 12 for d in _MAJOR}
        return (-len(pcs & collection), (k - preferred) % 12)

    best = min(range(12), key=score)
    return frozenset((best + d) % 12 for d in _MAJOR)


@lru_cache(maxsize=4096)
def approach_tones(pitches: tuple[int, ...]) -> frozenset[int]:
    """Pitch classes a half step above or below a chord tone."""
    return frozenset((p + d) % 12 for p in pitches for d in (-1, 1))


def note_class(pitch: int, pitches: tuple[int, ...]) -> str:
    """'C', 'S', 'A' or 'X' for MIDI `pitch` over the chord `pitches`."""
    if is_chord_tone(pitch, pitches):
        return "C"
    pc = pitch % 12
    if pc in chord_scale(pitches):
        return "S"
    if pc in approach_tones(pitches):
        return "A"
    return "X"


def is_chord_tone(pitch: int, pitches: tuple[int, ...]) -> bool:
    return pitch % 12 in {p % 12 for p in pitches}
