"""From a player's settings to a solo and its files in one call: what `seqlab jazz` and the playground's Jazz
panel both run.

    take = perform(changes="Dm7 G7 | Cmaj7 | %", choruses=2, bpm=160, instrument="Trumpet", swing=2/3)
    write_take(take, midi="solo.mid", wav="solo.wav", png="solo.png")

Every argument is checked (UserError, one line) before anything is generated, and nothing is written until
`write_take`. The solo is made on the straight grid (its quality figures are measured there); swing is applied
to what is written and heard.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqlab.errors import UserError
from seqlab.music import quality
from seqlab.music.bundle import JazzBundle, load_bundle
from seqlab.music.changes import ChordSymbol, parse_changes, to_chords
from seqlab.music.events import Chord, Note
from seqlab.music.harmony import chord_scale
from seqlab.music.improvise import Solo, improvise
from seqlab.music.midi import load_melody
from seqlab.music.render import (
    INSTRUMENT,
    TEMPO,
    find_instrument,
    swung,
    write_midi,
    write_png,
    write_wav,
)
from seqlab.values import is_number, is_whole

BPM = (40, 300)
SWING = (0.5, 0.75)          # straight eighths to dotted-eighth-and-sixteenth
MAX_MEASURES = 1000
PRIMER_MEASURES = 2          # how much of a primer melody opens the solo


@dataclass
class Take:
    """A solo and how to play it. solo: notes on the straight grid over its chords (with their symbols);
    changes: the written changes, None for the bundle's own progression; primer_measures: how many opening
    measures are the primer's."""

    solo: Solo
    bpm: float
    instrument: str
    swing: float
    changes: list[list[ChordSymbol]] | None
    choruses: int | None
    primer_measures: int = 0

    @property
    def measures(self) -> int:
        return len(self.solo.values)

    def heard(self) -> list[Note]:
        """The solo as played: with its swing."""
        return swung(self.solo.notes, self.swing)


def changes_profile(progression: list[list[Chord]]) -> np.ndarray:
    """(12,) pitch-class weights for written changes: the time each pitch class spends in the chords' scales
    (the piece's key, as the training solo's profile is its piece's), plus a small floor."""
    w = np.full(12, 0.01)
    for measure in progression:
        for c in measure:
            for pc in chord_scale(c.pitches):
                w[pc] += c.duration
    return w / w.sum()


def _check_range(name: str, value: float, lo: float, hi: float, what: str) -> None:
    if not lo <= value <= hi:
        raise UserError(f"{name} must be between {lo:g} and {hi:g} ({what}), got {value:g}")


def check(*, changes=None, choruses: int | None = None, measures: int = 16, bpm: float = TEMPO,
          instrument: str = INSTRUMENT, swing: float = 0.5, primer=None, temperature: float = 0.0,
          seed: int = 0) -> dict:
    """`perform`'s settings checked and resolved (UserError, one line, for the first bad one): changes parsed,
    the primer read, the instrument named as music21 names it. The result can be passed to `perform` again."""
    _check_range("bpm", bpm, *BPM, "beats per minute")
    _check_range("swing", swing, *SWING, "0.5 straight, 2/3 triplet swing, 0.75 dotted")
    if choruses is not None and (not is_whole(choruses) or choruses < 1):
        raise UserError(f"choruses must be a whole number of at least 1, got {choruses!r}")
    if not is_whole(measures) or not 1 <= measures <= MAX_MEASURES:
        raise UserError(f"measures must be a whole number between 1 and {MAX_MEASURES}, got {measures!r}")
    if not is_number(temperature) or not 0 <= temperature < float("inf"):   # inf sampled uniformly
        raise UserError(f"temperature must be 0 (the likeliest value) or positive, got {temperature!r}")
    if not is_whole(seed) or seed < 0:
        raise UserError(f"seed must be a whole number of at least 0, got {seed!r}")
    instrument = find_instrument(instrument).instrumentName
    if isinstance(changes, str):
        changes = parse_changes(changes)
    elif changes is not None and not changes:
        raise UserError("the changes are empty; expected at least one measure of chord symbols")
    if changes is not None and (choruses or 1) * len(changes) > MAX_MEASURES:
        raise UserError(f"the solo would last {(choruses or 1) * len(changes)} measures; expected at most "
                        f"{MAX_MEASURES} (fewer choruses)")
    if primer is not None and not isinstance(primer, list):
        primer = load_melody(primer, PRIMER_MEASURES)
    elif primer is not None and not all(isinstance(m, list) and all(isinstance(n, Note) for n in m)
                                        for m in primer):
        raise UserError("primer: expected a MIDI file or measures (lists) of Notes")
    return dict(changes=changes, choruses=choruses, measures=measures, bpm=float(bpm), instrument=instrument,
                swing=float(swing), primer=primer[:PRIMER_MEASURES] if primer else None,
                temperature=float(temperature), seed=int(seed))


def perform(bundle: JazzBundle | None = None, **settings) -> Take:
    """A solo by `bundle` (default: the bundled model), with these settings (all keywords, all optional):
    changes: chord notation ("Dm7 G7 | Cmaj7"), or measures of ChordSymbols (parse_changes'), or None for the
      bundle's own progression. The solo lasts the changes times `choruses` (default 1); over the bundle's
      progression it lasts `measures` (default 16), or the progression times `choruses` when that is given.
    bpm: 40-300 (default 130); instrument: a pitched General MIDI instrument as music21 names it (default
      Electric Guitar); swing: 0.5 (straight, default) to 0.75; primer: a MIDI file (path) or measures of
      Notes, whose first PRIMER_MEASURES open the solo; temperature: 0 (default) takes the likeliest value,
      T > 0 samples softmax(logits / T); seed: the random seed (default 0).
    """
    s = check(**settings)
    bundle = load_bundle() if bundle is None else bundle
    changes, choruses, primer = s["changes"], s["choruses"], s["primer"] or []
    if changes is None:
        progression, profile = bundle.progression, None
        total = s["measures"] if choruses is None else choruses * len(progression)
    else:
        progression = to_chords(changes, bundle.beats)
        profile = changes_profile(progression)
        total = (choruses or 1) * len(progression)
    if total > MAX_MEASURES:
        raise UserError(f"the solo would last {total} measures; expected at most {MAX_MEASURES} "
                        f"(fewer choruses)")
    solo = improvise(bundle, total, s["seed"], s["temperature"], progression=progression, primer=primer,
                     profile=profile)
    return Take(solo, s["bpm"], s["instrument"], s["swing"], changes, choruses, min(len(primer), total - 1))


def figures(take: Take, bundle: JazzBundle) -> dict:
    """The take's quality figures: quality.report's (chord_tone_fraction, key, key_correlation,
    longest_copied_run against the bundle's training solo) plus measures, notes, monophonic, lowest and highest
    pitch, and the training solo's register. Needs at least one sounding note."""
    solo = take.solo
    pitches = [n.pitch for n in solo.notes if not n.is_rest]
    return {**quality.report(solo.notes, solo.chords, bundle.training), "measures": take.measures,
            "notes": len(pitches), "monophonic": quality.is_monophonic(solo.notes), "lowest": min(pitches),
            "highest": max(pitches), "register": list(bundle.register)}


def write_take(take: Take, midi=None, wav=None, png=None) -> list[Path]:
    """Write the take as MIDI (tracks Solo on its instrument and Chords, at its tempo), WAV (16-bit mono,
    22.05 kHz, the chords as a soft comping voice) and a piano-roll PNG with the chord symbols, each where a
    path is given. Each file is written beside its target and renamed over it. Returns the paths written."""
    notes, chords = take.heard(), take.solo.chords
    out = []
    if midi is not None:
        out.append(write_midi(midi, notes, chords, take.bpm, take.instrument))
    if wav is not None:
        out.append(write_wav(wav, notes, chords, take.bpm))
    if png is not None:
        out.append(write_png(png, notes, chords, take.solo.beats))
    return out
