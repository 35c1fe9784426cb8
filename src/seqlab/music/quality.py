"""Three figures for a solo: how much of it sits on the chords, how tonal it is, and how much it copies.

- chord_tone_fraction: of the solo's sounding time, the share whose note is a tone of the chord sounding at
  the note's onset (the Metheny original: about 63%; a random melody: about 20%).
- key_correlation: music21's key analysis (Krumhansl-Schmuckler) of the solo: best key and its correlation.
- longest_copied_run: the longest run of consecutive (interval, duration) pairs that also occurs in the
  training solo; a note-for-note quotation of k+1 notes is a run of k.
"""

from __future__ import annotations

from seqlab.music.events import Chord, Note, chord_at
from seqlab.music.grammar import grid_round
from seqlab.music.harmony import is_chord_tone

# music21 is imported inside the functions that use it: it takes about a second to import, and most callers
# (the command line's --help, the text models, the tests of other parts) never need it.


def chord_tone_fraction(notes: list[Note], chords: list[Chord]) -> float:
    """Duration-weighted share of `notes` (rests ignored) that are chord tones; offsets on one time line."""
    chords = sorted(chords, key=lambda c: c.offset)
    if not chords:
        raise ValueError("chords: expected at least one chord")
    total = hit = 0.0
    for n in notes:
        if n.is_rest:
            continue
        total += n.duration
        if is_chord_tone(n.pitch, chord_at(chords, n.offset).pitches):
            hit += n.duration
    if total == 0:
        raise ValueError("notes: expected at least one sounding note")
    return hit / total


def key_correlation(notes: list[Note]) -> tuple[str, float]:
    """(key name like "F major" or "B♭ major", correlation coefficient) from music21's analyze('key') of the
    solo."""
    from music21 import note as m21note
    from music21 import stream

    s = stream.Stream()
    for n in notes:
        if not n.is_rest:
            s.insert(n.offset, m21note.Note(midi=n.pitch, quarterLength=n.duration))
    if not len(s):
        raise ValueError("notes: expected at least one sounding note")
    k = s.analyze("key")
    return f"{spell(k.tonic.name)} {k.mode}", float(k.correlationCoefficient)


def spell(name: str) -> str:
    """A note name as a musician writes it: music21's "B-" and "F#" as "B♭" and "F♯"."""
    return name[0] + name[1:].replace("-", "♭").replace("#", "♯")


def motion_pairs(notes: list[Note]) -> list[tuple[int, float]]:
    """(interval from the previous note in semitones, duration on the grid) for every note after the first."""
    line = [n for n in sorted(notes, key=lambda n: n.offset) if not n.is_rest]
    return [(b.pitch - a.pitch, grid_round(b.duration)) for a, b in zip(line, line[1:])]


def longest_copied_run(notes: list[Note], training: list[Note]) -> int:
    """Length of the longest run of `notes`' motion pairs found, consecutively, in `training`'s."""
    a, b = motion_pairs(notes), motion_pairs(training)
    best = 0
    prev = [0] * (len(b) + 1)  # longest common suffix ending at a[i-1], b[j-1]
    for i in range(1, len(a) + 1):
        cur = [0] * (len(b) + 1)
        for j in range(1, len(b) + 1):
            if a[i - 1] == b[j - 1]:
                cur[j] = prev[j - 1] + 1
                best = max(best, cur[j])
        prev = cur
    return best


def is_monophonic(notes: list[Note]) -> bool:
    """Whether the sounding notes, in time order, never overlap: one note at a time."""
    line = sorted((n for n in notes if not n.is_rest), key=lambda n: n.offset)
    return all(a.end <= b.offset for a, b in zip(line, line[1:]))


def report(notes: list[Note], chords: list[Chord], training: list[Note] | None = None) -> dict:
    """All three figures as a dict: chord_tone_fraction, key, key_correlation, longest_copied_run (or None)."""
    key, corr = key_correlation(notes)
    return {
        "chord_tone_fraction": chord_tone_fraction(notes, chords),
        "key": key,
        "key_correlation": corr,
        "longest_copied_run": None if training is None else longest_copied_run(notes, training),
    }
