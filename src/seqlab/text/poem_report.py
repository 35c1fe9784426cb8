"""What a poem in a form is worth, measured: its rhyme pairs, syllables, real-word rate, the model's nats/char
of its own poem, and the longest run it copies from the training text."""

from __future__ import annotations

import numpy as np

from seqlab import data
from seqlab.text import prosody
from seqlab.text.model import START, LanguageModel


def longest_copied_run(text: str, source: str) -> tuple[int, str]:
    """The longest substring of `text` found in `source`: (its length, it). One growing check per start,
    so about len(text) substring searches."""
    best = ""
    for i in range(len(text)):
        j = i + len(best) + 1
        while j <= len(text) and text[i:j] in source:
            best = text[i:j]
            j += 1
    return len(best), best


def real_word_rate(text: str, known) -> float:
    """The share of the words of `text` that are in `known` (a set of lower-case words)."""
    words = prosody.words_of(text)
    return sum(w in known for w in words) / len(words) if words else 1.0


def nats_per_char(lm: LanguageModel, first: str, rest: str) -> float:
    """The model's -log-probability per character of `rest` after the line `first` (each line ends with
    a newline, the last included)."""
    ids = lm.encode(START + first + START + rest)
    lp, _ = lm.model.log_probs(ids[:-1, None])
    start = len(first) + 1                                    # the first predicted character of `rest`
    picked = lp[start:, 0, :][np.arange(len(ids) - 1 - start), ids[start + 1:]]
    return float(-picked.mean())


def rhyme_pairs(lines) -> list[dict]:
    """Each line whose letter came before, with the first word of its letter: {lines: [i, j] (1-based),
    words: [w_i, w_j], held: a real rhyme?, first_pronunciations: one on both words' first pronunciations?}."""
    first: dict[str, int] = {}
    pairs = []
    for j, ln in enumerate(lines):
        if ln.letter in first:
            i = first[ln.letter]
            a, b = lines[i].word, ln.word
            pairs.append({"lines": [i + 1, j + 1], "words": [a, b], "held": prosody.rhymes(a, b),
                          "first_pronunciations": prosody.rhymes_strictly(a, b)})
        else:
            first[ln.letter] = j
    return pairs


def report(lm: LanguageModel, lines, known=None, source: str | None = None, seconds: float | None = None) -> dict:
    """The report of a poem (FormLines): known, a set of real words (the training text's; None: CMUdict's);
    source, the training text for the copied run (None: not measured)."""
    first, rest = lines[0].text, "".join(ln.text + START for ln in lines[1:])
    written = "".join(ln.text + " " for ln in lines[1:])
    pairs = rhyme_pairs(lines)
    known_words = known if known is not None else set(prosody.dictionary_words())
    run = longest_copied_run(START + rest, source) if source is not None else None   # the prompt is the user's
    return {
        "lines": [ln.text for ln in lines],
        "letters": "".join(ln.letter for ln in lines),
        "syllables": [line_syllables(ln.text) for ln in lines],
        "rhyme_pairs": pairs,
        "rhymes_held": sum(p["held"] for p in pairs),
        "real_word_rate": real_word_rate(written, known_words),
        "real_words_against": "the training text" if known is not None else "CMUdict",
        "nats_per_char": nats_per_char(lm, first, rest) if lines[1:] else None,
        "longest_copied_run": None if run is None else {"chars": run[0], "text": run[1]},
        "seconds": seconds,
    }


def line_syllables(text: str) -> int:
    return sum(prosody.syllables(w) for w in prosody.words_of(text))


def reference():
    """The training text (the sonnets, lower-cased) and the words of the sonnets and the plays, when the
    datasets are in the cache: (text or None, words or None)."""
    if not data.is_present("shakespeare"):
        return None, None
    text = data.path("shakespeare").read_text(encoding="utf-8").lower()
    words = set(prosody.words_of(text))
    if data.is_present("tinyshakespeare"):
        words |= set(prosody.words_of(data.path("tinyshakespeare").read_text(encoding="utf-8")))
    return text, words


def describe(rep: dict, target: int) -> str:
    """The report in a few lines of text."""
    pairs = rep["rhyme_pairs"]
    near = sum(abs(s - target) <= 1 for s in rep["syllables"])
    run = rep["longest_copied_run"]
    lines = [
        f"{rep['form']} {rep['scheme']}, seed {rep['seed']}, {len(rep['lines'])} lines in {rep['seconds']:.1f} s "
        f"({rep['candidates']} candidates a line at temperature {rep['temperature']})",
        "  rhyme letters: " + " ".join(rep["letters"]),
        "  syllables:     " + " ".join(str(s) for s in rep["syllables"]) +
        f"  ({near} of {len(rep['syllables'])} at {target - 1}-{target + 1})",
        f"  rhymes held:   {rep['rhymes_held']} of {len(pairs)}: " +
        ", ".join(f"{a}/{b}" + ("" if p["first_pronunciations"] else " (by a second pronunciation)"
                                if p["held"] else " (not a rhyme)") for p in pairs for a, b in [p["words"]]),
        f"  real words:    {rep['real_word_rate']:.3f} (against {rep['real_words_against']})",
        f"  the model's nats/char of its own poem: {rep['nats_per_char']:.3f}",
        "  longest run copied from the sonnets: " +
        ("not measured (the shakespeare dataset is not in the cache)" if run is None else
         f"{run['chars']} characters {run['text']!r}"),
    ]
    return "\n".join(lines) + "\n"
