"""A poem in a form (a sonnet, a quatrain, a couplet, any rhyme scheme): every line written by the character
model, constrained and chosen.

The prompt is line 1; its last word sets rhyme a. Each further line is searched for in one batch: B candidate
lines are sampled side by side from the state the poem so far leaves, with the next-character distribution
masked so that
  - every word is a dictionary word (CMUdict, seqlab.text.prosody): a word's letters are masked to a trie of
    the dictionary, and a word may only end where it is one;
  - the syllables stay within target ± 1: a word that would leave no room for the line's last word cannot
    end, and once the line holds `target` syllables the next word is masked to the end-word trie;
  - the line can end (a newline, perhaps after one mark of punctuation) only on an end word: a real rhyme of
    the words its letter already has (never one of them again; on the first pronunciations of both while
    the tries last but one), or, for a letter's first line, a word with rhymes enough to be answered that
    rhymes with no other letter's word.
Of the candidates that reach a line end, the one the model itself finds likeliest (mean log-probability per
character, unmasked, at temperature 1) is kept, its line fed to the model, and the next line searched from
there. A candidate that repeats a line, or copies a run of `avoid` (the training text, when given), is not
kept. When no candidate of `tries` batches ends, the line's rhyme is let go (the report says so).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import numpy as np
from threadpoolctl import threadpool_limits

from seqlab import sampling
from seqlab.errors import UserError
from seqlab.text import prosody
from seqlab.text.model import START, LanguageModel
from seqlab.text.poem_report import line_syllables, longest_copied_run
from seqlab.text.sampling import _read_prefix, _take
from seqlab.text.wordtrie import WordTrie

SCHEMES = {"sonnet": "ababcdcdefefgg", "quatrain": "abab", "couplet": "aa"}
PUNCT = ",;:.!?"          # may follow a line's last word, then the line end
MID_PUNCT = ",;:"         # may follow a word within a line, then a space
MAX_LINE = 90             # characters of a candidate line
MIN_PARTNERS = 8          # a letter's first word must have more short rhymes than this to be answered
SHORT = 2                 # syllables of a short rhyme
COPY_LIMIT = 30           # a candidate may copy at most this many characters in a row of `avoid`
MAX_SCHEME = 40
TOLERANCE = 1             # syllables either side of the target


@dataclass
class FormLine:
    """One line of the poem: its text, rhyme letter, syllables and last word; `partner` the earlier word of
    its letter it rhymes with (None for a letter's first line) and `held` whether that rhyme is real;
    `nats` the model's -log-probability of the line and its newline, `chars` their count."""
    text: str
    letter: str
    syllables: int
    word: str
    partner: str | None = None
    held: bool | None = None
    nats: float = 0.0
    chars: int = 0


def parse_scheme(scheme: str) -> str:
    """"abab cdcd efef gg" -> "ababcdcdefefgg" (spaces are readers' stanza marks); UserError when it is not
    2 to MAX_SCHEME lower-case letters."""
    letters = scheme.replace(" ", "")
    if not letters.isascii() or not letters.isalpha() or not letters.islower() \
            or not 2 <= len(letters) <= MAX_SCHEME:
        raise UserError(f"--rhyme-scheme must be 2 to {MAX_SCHEME} lower-case letters such as 'abab cdcd', "
                        f"got {scheme!r}")
    return letters


@cache
def _lexicon(chars: str, only: frozenset[str] | None = None) -> tuple[WordTrie, frozenset[str]]:
    """The words the model may write: CMUdict's that it can spell (and that are in `only`, when given)."""
    words = [w for w in prosody.dictionary_words() if set(w) <= set(chars) and (only is None or w in only)]
    return WordTrie(words, chars), frozenset(words)


@cache
def _answerable(chars: str, only: frozenset[str] | None = None) -> frozenset[str]:
    """The words a letter's first line may end on: stressed, with more than MIN_PARTNERS strict rhymes of at
    most SHORT syllables among the words the model may write (a line's last word is mostly short: "-ented"
    has many rhymes but few a line can end on)."""
    _, words = _lexicon(chars, only)
    count: dict[str, int] = {}
    for w in words:
        if prosody.syllables(w) <= SHORT:
            count[prosody.first_part(w)] = count.get(prosody.first_part(w), 0) + 1
    return frozenset(w for w in words if prosody.stressed(w) and len(w) > 1
                     and count.get(prosody.first_part(w), 0) > MIN_PARTNERS)


class _Ends:
    """The words a line may end on, as tries by the syllables they may have."""

    def __init__(self, words, chars):
        self.by_syl: dict[int, list[str]] = {}
        for w in words:
            self.by_syl.setdefault(prosody.syllables(w), []).append(w)
        self.words = frozenset(words)
        self.chars = chars
        self._tries: dict[tuple[int, int], WordTrie] = {}

    def trie(self, lo: int, hi: int) -> WordTrie:
        key = (max(lo, 1), hi)
        if key not in self._tries:
            self._tries[key] = WordTrie([w for s in range(key[0], hi + 1) for w in self.by_syl.get(s, ())],
                                        self.chars)
        return self._tries[key]


def _end_words(chars, letter_words: list[str], other_parts: set[str], used: set[str],
               only: frozenset[str] | None, strict: bool = True) -> frozenset[str]:
    """Where a line of a letter may end: rhymes of its earlier words (strict: on the first pronunciations of
    both), or (its first line) an answerable word rhyming with no other letter."""
    _, words = _lexicon(chars, only)
    if letter_words:
        first = letter_words[0]
        found = prosody.rhyme_partners(first, words)
        rhyme = prosody.rhymes_strictly if strict else prosody.rhymes
        return frozenset(w for w in found if prosody.stressed(w) and w not in used
                         and all(rhyme(w, v) for v in letter_words))
    return frozenset(w for w in _answerable(chars, only) if w not in used
                     and not prosody.rhyming_parts(w) & other_parts)


def _search(lm: LanguageModel, last, states, lex: WordTrie, ends: _Ends, target: int, n: int, rng, temperature,
            top_p):
    """n candidate lines sampled side by side from (last (1, V), states) under the masks: [(text, word,
    syllables, log-probability)] of those that reach a line end. On one BLAS thread: a step of a few hundred
    rows is too small to share, and two threads on a busy machine spend the time spinning (about 7x slower
    measured at 128 rows)."""
    with threadpool_limits(1):
        return _sample_lines(lm, last, states, lex, ends, target, n, rng, temperature, top_p)


def _sample_lines(lm, last, states, lex, ends, target, n, rng, temperature, top_p):
    chars = lm.vocab.chars
    V = len(chars)
    ids = {c: i for i, c in enumerate(chars)}
    space, newline = ids[" "], lm.start_id
    punct = np.zeros(V, bool)
    punct[[ids[c] for c in PUNCT if c in ids]] = True
    mid_punct = np.zeros(V, bool)
    mid_punct[[ids[c] for c in MID_PUNCT if c in ids]] = True
    anything = np.ones(V, bool)
    lo, hi = target - TOLERANCE, target + TOLERANCE

    last = np.repeat(last, n, axis=0)
    states = _take(states, np.zeros(n, np.int64))
    text = [""] * n
    word = [""] * n
    syl = [0] * n
    forced = [False] * n          # this word must be an end word
    after = [None] * n            # after a word: (may go on, may end) while a punctuation mark may follow
    last_word = [""] * n
    alive = [True] * n
    done = [False] * n
    logp = np.zeros(n)
    for _ in range(MAX_LINE):
        masks = []
        for b in range(n):
            if not alive[b] or done[b]:
                masks.append(anything)
                continue
            if word[b]:                                           # inside a word
                trie = ends.trie(lo - syl[b], hi - syl[b]) if forced[b] else lex
                m = trie.next_mask(word[b])
                w = word[b]
                if w in trie:
                    s = syl[b] + prosody.syllables(w)
                    go_on = not forced[b] and s + 1 <= hi
                    end = (forced[b] or w in ends.words) and lo <= s <= hi
                    if go_on:
                        m = m | mid_punct
                        m[space] = True
                    if end:
                        m = m | punct
                        m[newline] = True
                masks.append(m)
            elif after[b] is not None:                            # after a punctuation mark
                go_on, end = after[b]
                m = np.zeros(V, bool)
                m[space] = go_on
                m[newline] = end
                masks.append(m)
            else:                                                 # at a word's start
                forced[b] = syl[b] + 1 > hi - 1
                trie = ends.trie(lo - syl[b], hi - syl[b]) if forced[b] else lex
                masks.append(trie.next_mask(""))
            if not masks[-1].any():
                alive[b] = False
                masks[-1] = anything
        mask = np.stack(masks)
        nxt = sampling.choose(np.where(mask, last, -np.inf), rng, temperature, None, top_p)
        for b, i in enumerate(nxt.tolist()):
            if not alive[b] or done[b]:
                continue
            c = chars[i]
            logp[b] += last[b, i]
            if i == newline:
                done[b] = True
                if word[b]:                                        # the line's last word ends with it
                    syl[b], last_word[b] = syl[b] + prosody.syllables(word[b]), word[b]
                continue
            text[b] += c
            if c.isalpha() or c == "'":
                word[b] += c
                continue
            if word[b]:                                            # c ends the word
                w = word[b]
                s = syl[b] + prosody.syllables(w)
                after[b] = (not forced[b] and s + 1 <= hi and c in MID_PUNCT + " ",
                            (forced[b] or w in ends.words) and lo <= s <= hi)
                syl[b], last_word[b], word[b] = s, w, ""
            if c == " ":
                after[b] = None
        if all(d or not a for d, a in zip(done, alive)):
            break
        last, states = lm.model.step(nxt, states)
    return [(text[b], last_word[b], syl[b], float(logp[b])) for b in range(n) if alive[b] and done[b]]


def write_form(lm: LanguageModel, first_line: str, scheme: str, syllables: int = 10, *, candidates: int = 128,
               temperature: float = 0.8, top_p: float | None = None, seed: int | None = None, tries: int = 3,
               avoid: str | None = None, words=None) -> Iterator[FormLine]:
    """The poem line by line: first_line (normalised) as given, then one line per further letter of
    `scheme`, each yielded as soon as it is chosen. avoid: a text (the training sonnets) of which no
    candidate line may copy more than COPY_LIMIT characters in a row. words: the only words to write (those
    of the training text, say), within CMUdict's; None: all of CMUdict's."""
    letters = parse_scheme(scheme)
    if not 4 <= syllables <= 20:
        raise UserError(f"--syllables must be between 4 and 20, got {syllables}")
    if not 1 <= candidates <= 4096:
        raise UserError(f"--candidates must be between 1 and 4,096, got {candidates}")
    sampling.check_options(temperature, None, top_p)
    first = lm.normalize(first_line).strip()
    if START in first:
        raise UserError("the first line holds a line end; a form's prompt is its first line")
    said = prosody.words_of(first)
    if not said:
        raise UserError(f"the first line {first_line!r} has no word; its last word sets the first rhyme")
    chars = "".join(lm.vocab.chars)
    only = None if words is None else frozenset(words)
    lex, _ = _lexicon(chars, only)
    rng = np.random.default_rng(seed)
    last, states = _read_prefix(lm, first + START, 1)             # UserError on an unknown character
    poem = [FormLine(first, letters[0], line_syllables(first), said[-1])]
    yield poem[0]
    for letter in letters[1:]:
        kin = [ln.word for ln in poem if ln.letter == letter]
        other = {p for ln in poem if ln.letter != letter for p in prosody.rhyming_parts(ln.word)}
        used = {ln.word for ln in poem}
        chosen = None
        for attempt in range(tries + 1):      # strict rhymes, then any pronunciation's, then the rhyme let go
            ends = _Ends(_end_words(chars, kin if attempt < tries else [], other, used, only,
                                    strict=attempt < tries - 1), chars)
            found = _search(lm, last, states, lex, ends, syllables, candidates, rng, temperature, top_p)
            found = [f for f in found if _keep(f[0], poem, avoid)]
            if found:
                chosen = max(found, key=lambda f: f[3] / (len(f[0]) + 1))
                break
        if chosen is None:
            raise UserError(f"no candidate line ended on a word for rhyme {letter!r} in {tries + 1} batches of "
                            f"{candidates}; try more --candidates or another --seed")
        text, word, syl, lp = chosen
        line = FormLine(text, letter, syl, word, kin[0] if kin else None,
                        prosody.rhymes(kin[0], word) if kin else None, -lp, len(text) + 1)
        poem.append(line)
        yield line
        lp_all, states = lm.model.log_probs(lm.encode(text + START)[:, None], states)
        last = lp_all[-1]


def _keep(text: str, poem: list[FormLine], avoid: str | None) -> bool:
    if any(text == ln.text for ln in poem):
        return False
    if avoid is None:
        return True
    return longest_copied_run(text, avoid)[0] <= COPY_LIMIT
