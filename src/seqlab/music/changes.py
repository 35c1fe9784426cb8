"""Chord changes as jazz players write them: "Dm7 G7 | Cmaj7 | %", parsed with music21's harmony module.

Notation: measures are separated by `|` (and by newlines); the chords of a measure share its beats equally
("Dm7 G7" is two beats each in 4/4); `%` repeats the previous measure; `#` at the start of a line or after a
space or bar line starts a comment (elsewhere it is a sharp: F#m7, C7#9); a bar line at the start or end of a
line is optional. A symbol is a root (A-G, then `b`/`#`), a quality (maj7, m7, 7, m7b5, dim7, 6, m6, sus4,
7#9, 7b9, 9, 13, m(maj7), ... anything music21's ChordSymbol reads, plus the spellings jazz players use that
it does not: -7, ø, o7, Δ, 6/9, mi7, 9sus, 7alt, alterations in brackets as in 7(b9, #11), where a space
inside the brackets belongs to the symbol), and an optional slash bass (C7/E).

The root is split off before music21 sees the symbol, because music21 reads "Bb7" as B with a flat seventh:
here Bb7 is B♭-D-F-A♭. A 13th chord leaves out the natural 11th (it clashes with the major third), as
players voice it.

    parse_changes("Dm7 G7 | Cmaj7 | %")   -> [[Dm7, G7], [Cmaj7], [Cmaj7]]   (ChordSymbol lists)
    CHANGES["blues"]                      -> the notation of a built-in progression
    to_chords(measures)                   -> per-measure Chords (MIDI voicings) for improvising over
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from seqlab.errors import UserError
from seqlab.music.events import Chord, snap
from seqlab.values import is_number

MAX_BYTES = 1 << 20   # a changes file is a few lines; a larger one is refused before reading (/dev/zero too)

# music21 is imported inside the functions that use it: it takes about a second to import, and most callers
# (the command line's --help, the text models, the tests of other parts) never need it.

CHANGES: dict[str, str] = {
    "blues": "F7 | Bb7 | F7 | Cm7 F7 | Bb7 | Bdim7 | F7 | D7 | Gm7 | C7 | F7 D7 | Gm7 C7",
    "minor-blues": "Cm7 | Fm7 | Cm7 | Cm7 | Fm7 | Fm7 | Cm7 | Cm7 | Ab7 | G7 | Cm7 | Dm7b5 G7b9",
    "ii-v-i": "Dm7 | G7 | Cmaj7 | Cmaj7",
    "rhythm": "Bb6 G7 | Cm7 F7 | Bb6 G7 | Cm7 F7 | Fm7 Bb7 | Eb6 Edim7 | Bb6/F F7 | Bb6",
}
TITLES: dict[str, str] = {
    "blues": "12-bar jazz blues in F",
    "minor-blues": "12-bar minor blues in C",
    "ii-v-i": "ii-V-I in C major, 4 bars",
    "rhythm": "rhythm changes in B♭, the A section (8 bars)",
}

EXPECTED = ("expected a root A-G (with b or #) and a quality such as maj7, m7, 7, m7b5, dim7, 6, m6, sus4, "
            "7#9, 7b9, 9, 13, m(maj7), optionally /bass")
_ROOT = re.compile(r"^([A-G])([b#]*)(.*)$")
_BASS = re.compile(r"^(.*)/([A-G][b#]*)$")
# spellings players use that music21 does not read, as music21 abbreviations (checked in this order)
_ALIASES = [
    (re.compile(r"^(?:m|mi|min|-)\(?(?:maj7|M7|Maj7|Δ7?|\^7?)\)?$"), "mM7"),
    (re.compile(r"^(?:maj|Δ|\^)9$"), "M9"),
    (re.compile(r"^(?:Δ|\^)7?$"), "maj7"),
    (re.compile(r"^(?:ø|Ø)7?$"), "m7b5"),
    (re.compile(r"^(?:o|°)7$"), "dim7"),
    (re.compile(r"^(?:o|°)$"), "dim"),
    (re.compile(r"^(?:6/9|69)$"), "6add9"),
    (re.compile(r"^(?:-|mi(?!n))(.*)$"), r"m\1"),
    (re.compile(r"^sus$"), "sus4"),
    (re.compile(r"^9sus4?$"), "7sus4add9"),
    (re.compile(r"^7?alt$"), "7#5#9"),       # the altered dominant, voiced with its raised fifth and ninth
]
_COMMENT = re.compile(r"(?:^|[\s|])#.*$")    # a sharp follows a letter or digit: "F#m7" holds no comment
_IN_BRACKETS = re.compile(r"\([^()|]*\)")    # "7(b9, #11)": the space belongs to the symbol
# a quality's brackets: each closed, none nested or empty, commas only between alterations inside them
_BRACKETS_OK = re.compile(r"^[^(),]*(?:\([^(),]+(?:,[^(),]+)*\)[^(),]*)*$")
BASS_RANGE = (36, 48)    # the bass note: C2 up to B2
UPPER_FROM = 52          # the other chord tones, closed, from E3 up: a comping voice below the solo


@dataclass(frozen=True)
class ChordSymbol:
    """One chord symbol: its text as written, root and bass pitch classes (0 = C), its pitch classes and
    music21's name for its kind ("dominant-seventh", ...)."""

    text: str
    root: int
    bass: int
    pitch_classes: frozenset[int]
    kind: str

    def __repr__(self) -> str:
        return f"ChordSymbol({self.text!r})"

    def voicing(self) -> tuple[int, ...]:
        """MIDI pitches to sound: the bass in C2-B2, the other tones in close position from E3 (sorted)."""
        lo = BASS_RANGE[0]
        bass = lo + (self.bass - lo) % 12
        upper = sorted(UPPER_FROM + (pc - UPPER_FROM) % 12 for pc in self.pitch_classes if pc != self.bass)
        return (bass, *upper)

    def __str__(self) -> str:
        return self.text


def _m21_note(name: str) -> str:
    """Jazz spelling of a note (Bb, F#) -> music21's (B-, F#)."""
    return name[0] + name[1:].replace("b", "-")


def _quality(text: str) -> str | None:
    """music21's spelling of a quality; None for malformed brackets ("7(b9", "7,")."""
    q = text.replace("♭", "b").replace("♯", "#")
    if not _BRACKETS_OK.match(q):
        return None
    for pattern, repl in _ALIASES:
        if pattern.match(q):
            return pattern.sub(repl, q)
    return re.sub(r"[(),]", "", q)   # 7(b9,#11) -> 7b9#11, as music21 reads alterations


@lru_cache(maxsize=512)
def _parse(text: str) -> ChordSymbol | None:
    from music21 import harmony
    from music21.exceptions21 import Music21Exception

    t = text.replace("♭", "b").replace("♯", "#")
    body, bass = t, None
    if m := _BASS.match(t):
        body, bass = m.group(1), m.group(2)
    m = _ROOT.match(body)
    if not m:
        return None
    letter, accidentals, quality = m.groups()
    quality = _quality(quality)
    if quality is None:
        return None
    figure = _m21_note(letter + accidentals) + quality
    if bass is not None:
        figure += "/" + _m21_note(bass)
    try:
        cs = harmony.ChordSymbol(figure)
    except (ValueError, IndexError, Music21Exception):  # what music21 raises for what it cannot read
        return None
    if not cs.chordKind or len(cs.pitches) < 2:
        return None  # music21 guessed at it ("C7b" is C-B♭, "C12" C-G): not a symbol we know
    root, kind = cs.root().pitchClass, cs.chordKind or ""
    pcs = {p.pitchClass for p in cs.pitches}
    if kind in ("dominant-13th", "major-13th"):
        pcs.discard((root + 5) % 12)
    return ChordSymbol(text, root, cs.bass().pitchClass, frozenset(pcs), kind)


def parse_symbol(text: str, measure: int | None = None, source: str = "") -> ChordSymbol:
    """The ChordSymbol for `text` ("Bb7", "C7/E"); UserError naming it (and its measure, 1-based, of `source`)
    if unknown."""
    cs = _parse(text.strip())
    if cs is None:
        where = f" in measure {measure}" if measure is not None else ""
        where += f" of {source}" if source and measure is not None else ""
        raise UserError(f"unknown chord symbol {text!r}{where}; {EXPECTED}")
    return cs


def parse_changes(text: str, source: str = "the changes") -> list[list[ChordSymbol]]:
    """Notation (see the module docstring) -> a list of measures, each a non-empty list of ChordSymbols.

    UserError (one line) for empty changes, a measure with no chord, `%` with nothing before it, or an unknown
    symbol; `source` names where the text came from in the messages ("--chords", a file name).
    """
    measures: list[list[ChordSymbol]] = []
    for line in str(text).splitlines():
        line = _IN_BRACKETS.sub(lambda m: "".join(m.group().split()), line)
        line = _COMMENT.sub("", line).strip()
        if not line:
            continue
        for bar in line.removeprefix("|").removesuffix("|").split("|"):
            symbols = bar.split()
            n = len(measures) + 1
            if not symbols:
                raise UserError(f"measure {n} of {source} has no chord; expected chord symbols between the "
                                f"bar lines, e.g. \"Dm7 G7 | Cmaj7\"")
            if symbols == ["%"]:
                if not measures:
                    raise UserError(f"measure 1 of {source} is %, but there is no measure before it to repeat")
                measures.append(list(measures[-1]))
                continue
            measures.append([parse_symbol(s, n, source) for s in symbols])
    if not measures:
        raise UserError(f"{source} is empty; expected chord symbols, measures separated by |, e.g. "
                        f"\"Dm7 G7 | Cmaj7 | Cmaj7\"")
    return measures


def read_changes(path) -> list[list[ChordSymbol]]:
    """parse_changes of a text file; UserError if it is missing or not text."""
    p = Path(path)
    try:
        if p.exists() and not p.is_dir() and not p.is_file():
            raise UserError(f"{p} is not a regular file; expected a text file of chord symbols")
        if p.is_file() and p.stat().st_size > MAX_BYTES:
            raise UserError(f"{p} is {p.stat().st_size:,} bytes; expected a text file of chord symbols of at "
                            f"most {MAX_BYTES:,}")
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{p}: no such file; expected a text file of chord symbols") from None
    except IsADirectoryError:
        raise UserError(f"{p} is a directory; expected a text file of chord symbols") from None
    except UnicodeDecodeError:
        raise UserError(f"{p} is not UTF-8 text; expected a text file of chord symbols") from None
    except OSError as exc:
        raise UserError(f"{p}: cannot read ({exc.strerror or exc})") from None
    return parse_changes(text, p.name)


def builtin(name: str) -> list[list[ChordSymbol]]:
    """The built-in progression `name`; UserError listing the names when there is none by that name."""
    if name not in CHANGES:
        raise UserError(f"no built-in changes named {name!r}; expected one of {', '.join(CHANGES)}")
    return parse_changes(CHANGES[name], name)


def to_chords(measures: list[list[ChordSymbol]], beats: float = 4.0) -> list[list[Chord]]:
    """Chords per measure, offsets from the bar line: the chords of a measure share its `beats` equally;
    each carries its symbol as `name` and its voicing as `pitches`."""
    if not (is_number(beats) and 0 < beats < float("inf")):
        raise ValueError(f"beats must be a positive number, got {beats!r}")   # 0 made chords of no length
    out = []
    for n, symbols in enumerate(measures, 1):
        if not symbols or not all(isinstance(cs, ChordSymbol) for cs in symbols):
            raise ValueError(f"measure {n}: expected a non-empty list of ChordSymbols (parse_changes' measures), "
                             f"got {symbols!r}")
        share = beats / len(symbols)
        out.append([Chord(snap(k * share), snap(share), cs.voicing(), name=cs.text)
                    for k, cs in enumerate(symbols)])
    return out


def name_progression(progression: list[list[Chord]]) -> str:
    """A voiced progression (per-measure Chords, as a MIDI file holds them) written in this notation as well
    as music21 can name the voicings (its chordSymbolFigureFromChord), flats as b: what the Jazz panel shows for
    the model's own chords. A chord repeated within a measure is named once. For reading: a voicing music21
    names oddly ("G#addG,A#") does not parse back."""
    from music21 import chord as m21chord
    from music21 import harmony

    measures = []
    for m in progression:
        names: list[str] = []
        for c in m:
            figure = harmony.chordSymbolFigureFromChord(m21chord.Chord(list(c.pitches)))
            name = re.sub(r"M(?=\d)", "maj", re.sub(r"([A-G])-", r"\1b", figure))   # B-M9 -> Bbmaj9
            if not names or names[-1] != name:
                names.append(name)
        measures.append(" ".join(names))
    return " | ".join(measures)
