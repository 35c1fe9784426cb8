"""Text from a LanguageModel: sampling (temperature, top-k, top-p, a seed), beam search, a prefix to continue,
a length cap, and the characters one at a time as they are chosen (`stream`).

All requested samples run side by side as one batch (B = n), so n lines cost about as much as the longest.
The next-character rule is seqlab.sampling's, the one the music uses too.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from seqlab import sampling
from seqlab.errors import UserError
from seqlab.sampling import next_distribution
from seqlab.text.model import START, LanguageModel
from seqlab.text.ngrams import WordNgrams, check_no_repeat, enders, mask_repeats
from seqlab.values import is_number, is_whole

# What one call may ask for: far above real use (`names -n 1000` takes a tenth of a second), low enough that a
# typo such as -n 1000000000 is an error rather than an allocation of hundreds of gigabytes.
MAX_SAMPLES = 100_000       # samples drawn side by side
MAX_LEN = 1_000_000         # characters of one sample (a poem's length)
MAX_CHARS = 10_000_000      # samples x length: generate()'s buffer, 80 MB of int64
MAX_BEAM = 1_000


def check_options(temperature: float, top_k: int | None, max_len: int, top_p: float | None = None) -> None:
    """UserError for a temperature <= 0, a top-k < 1, a top-p outside (0, 1] or a max length outside
    [1, MAX_LEN]."""
    if not is_number(temperature) or not np.isfinite(temperature) or temperature <= 0:
        raise UserError(f"temperature must be a positive number, got {temperature!r}")
    sampling.check_options(temperature, top_k, top_p)
    check_length(max_len)


def check_length(max_len: int, name: str = "the maximum length") -> None:
    if not is_whole(max_len) or not 1 <= max_len <= MAX_LEN:
        raise UserError(f"{name} must be between 1 and {MAX_LEN:,}, got {max_len}")


def check_count(n: int, max_len: int, names: tuple[str, str] = ("the number of samples", "the maximum length"),
                ) -> None:
    """UserError for n outside [1, MAX_SAMPLES] or n x max_len above MAX_CHARS; `names` as the caller's
    user typed them (flags on the command line)."""
    if not is_whole(n) or not 1 <= n <= MAX_SAMPLES:
        raise UserError(f"{names[0]} must be between 1 and {MAX_SAMPLES:,}, got {n}")
    if n * max_len > MAX_CHARS:
        raise UserError(f"{names[0]} {n:,} times {names[1]} {max_len:,} is {n * max_len:,} characters; "
                        f"expected at most {MAX_CHARS:,} (fewer samples, or shorter ones)")


def _read_prefix(lm: LanguageModel, prefix: str, n: int):
    """Read '\n' + prefix once with B = 1; its last log-probabilities and state copied n times."""
    if lm.mode == "lines" and START in prefix:   # "a\nb" gave names that held a line break
        raise UserError(f"the prefix {prefix!r} holds a line end; a lines-mode model writes one line (a name) "
                        f"after its prefix")
    context = lm.encode(prefix)                              # UserError on unknown characters
    ids = np.concatenate([[lm.start_id], context]).astype(np.int64)
    lp, states = lm.model.log_probs(ids[:, None])
    return np.repeat(lp[-1], n, axis=0), _take(states, np.zeros(n, np.int64))


def _take(states, rows: np.ndarray):
    """The states of the given batch rows (a row may be repeated): one entry per layer, h or (h, c)."""
    return [tuple(a[rows] for a in s) if isinstance(s, tuple) else s[rows] for s in states]


def sample_steps(lm: LanguageModel, n: int = 1, *, prefix: str = "", max_len: int = 100,
                 temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
                 seed: int | None = None, stop_at_newline: bool = False,
                 rng: np.random.Generator | None = None,
                 no_repeat_ngram: int | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The chosen character ids (n,) of each step, with a mask (n,) of the rows whose line ends there.

    At most max_len steps; with stop_at_newline, a row's first '\n' ends it (its later ids are still drawn
    but mean nothing) and the steps stop when every row has ended. Breaking out of the loop early is fine.
    no_repeat_ngram=N: no row completes a word N-gram it already holds, its prefix's words included
    (seqlab.text.ngrams). Bad options and prefixes are UserErrors raised by this call itself, before any step is taken.
    """
    check_options(temperature, top_k, max_len, top_p)   # bad options fail here, before the first step
    check_count(n, max_len)
    check_no_repeat(no_repeat_ngram, "no_repeat_ngram")
    rng = rng if rng is not None else np.random.default_rng(seed)
    last, states = _read_prefix(lm, prefix, n)
    guards = None if no_repeat_ngram is None else [WordNgrams(no_repeat_ngram, lm.normalize(prefix))
                                                   for _ in range(n)]
    return _steps(lm, last, states, rng, max_len, temperature, top_k, top_p, stop_at_newline, guards)


def _steps(lm, last, states, rng, max_len, temperature, top_k, top_p, stop_at_newline, guards=None):
    n = last.shape[0]
    done = np.zeros(n, bool)
    ender_ids = enders(lm.vocab.chars)
    for t in range(max_len):
        if guards is not None:
            last = mask_repeats(last, guards, ender_ids)
        nxt = sampling.choose(last, rng, temperature, top_k, top_p)
        if guards is not None:
            for g, i in zip(guards, nxt.tolist()):
                g.push(lm.vocab.chars[i])
        ended = ~done & (nxt == lm.start_id) if stop_at_newline else np.zeros(n, bool)
        yield nxt, ended
        done |= ended
        if done.all():
            return
        if t + 1 < max_len:
            last, states = lm.model.step(nxt, states)


def generate(lm: LanguageModel, n: int = 1, *, prefix: str = "", max_len: int = 100,
             temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
             seed: int | None = None, stop_at_newline: bool | None = None,
             rng: np.random.Generator | None = None, no_repeat_ngram: int | None = None) -> list[str]:
    """n continuations of `prefix` (the prefix itself not included), each at most max_len characters.

    The model first reads '\n' (the start of a line) and then the normalised prefix; a prefix character
    outside the vocabulary is a UserError. stop_at_newline (default: True for "lines" models) ends a sample
    at its first '\n', which is not included. Same seed (or same rng state) -> same samples.
    """
    if stop_at_newline is None:
        stop_at_newline = lm.mode == "lines"
    steps = sample_steps(lm, n, prefix=prefix, max_len=max_len, temperature=temperature, top_k=top_k,
                         top_p=top_p, seed=seed, stop_at_newline=stop_at_newline, rng=rng,
                         no_repeat_ngram=no_repeat_ngram)   # checks n first
    out = np.empty((n, max_len), np.int64)
    length = np.full(n, max_len)
    for t, (nxt, ended) in enumerate(steps):
        out[:, t] = nxt
        length[ended] = t
    return lm.vocab.decode_rows(out, length)


def stream(lm: LanguageModel, *, prefix: str = "", max_len: int = 100, **options) -> Iterator[str]:
    """One continuation of `prefix`, character by character as each is chosen (options as `generate`'s)."""
    stop = options.pop("stop_at_newline", None)
    stop = lm.mode == "lines" if stop is None else stop
    for nxt, ended in sample_steps(lm, 1, prefix=prefix, max_len=max_len, stop_at_newline=stop, **options):
        if ended[0]:
            return
        yield lm.vocab.chars[int(nxt[0])]


def check_beam(beam: int, name: str = "--beam") -> None:
    if not is_whole(beam) or not 1 <= beam <= MAX_BEAM:
        raise UserError(f"{name} must be between 1 and {MAX_BEAM:,}, got {beam}")


def beam_search(lm: LanguageModel, prefix: str = "", max_len: int = 100, beam: int = 4, *,
                stop_at_newline: bool | None = None, min_len: int = 0,
                max_blank_lines: int | None = None, no_repeat_ngram: int | None = None) -> list[tuple[str, float]]:
    """The likeliest continuations of `prefix` found by a beam of `beam`: (text, log-probability), best first.

    Each step extends every kept continuation by every character and keeps the `beam` likeliest. With
    stop_at_newline (default: True for "lines" models) a continuation ends with its first '\n' at or after
    min_len characters (that '\n' is the text's last character and its probability counts); otherwise,
    and for those that never end, continuations have max_len characters. The search stops early once an
    ended continuation is likelier than every open one (log-probabilities only fall). Deterministic: ties
    go to the lower index. With beam >= V^(max_len - 1) it is exhaustive (the most likely of all V^max_len).

    max_blank_lines: at most this many empty lines in a row (None: no limit), the prefix's own included (the
    model reads a '\n' before it). A newline is a likely character, and once one follows another the next
    is likelier still (the sonnets part with three empty lines), so a beam would otherwise pick a run of
    empty lines over a line of verse.

    no_repeat_ngram=N: no continuation completes a word N-gram it (or the prefix) already holds
    (seqlab.text.ngrams); without it a beam's likeliest poem loops ("to thee to thee to thee").
    """
    check_beam(beam, "the beam width")
    check_length(max_len)
    check_no_repeat(no_repeat_ngram, "no_repeat_ngram")
    if stop_at_newline is None:
        stop_at_newline = lm.mode == "lines"
    last, states = _read_prefix(lm, prefix, 1)
    scores = np.zeros(1)
    seqs: list[list[int]] = [[]]
    ended: list[tuple[float, list[int]]] = []
    V = lm.vocab.size
    newline = lm.start_id
    start = START + lm.normalize(prefix)
    runs = np.array([len(start) - len(start.rstrip(START))])         # each continuation's trailing newlines
    guards = None if no_repeat_ngram is None else [WordNgrams(no_repeat_ngram, start)]
    ender_ids = enders(lm.vocab.chars)
    for t in range(max_len):
        if guards is not None:
            last = mask_repeats(last, guards, ender_ids)
        cand = scores[:, None] + last
        if max_blank_lines is not None:
            cand[runs > max_blank_lines, newline] = -np.inf             # one more would be one empty line too many
        cand = cand.ravel()                                              # (k·V,)
        order = np.argsort(-cand, kind="stable")[:2 * beam]
        keep_rows, keep_ids, keep_scores, rank = [], [], [], 0
        for j in order.tolist():
            if cand[j] == -np.inf:                                       # only forbidden ones from here on
                break
            row, ch = divmod(j, V)
            if stop_at_newline and ch == newline and t + 1 >= min_len:
                if rank < beam:
                    ended.append((float(cand[j]), seqs[row] + [ch]))
            elif len(keep_rows) < beam:
                keep_rows.append(row)
                keep_ids.append(ch)
                keep_scores.append(cand[j])
            rank += 1
            if len(keep_rows) == beam and rank >= beam:
                break
        if not keep_rows or (ended and max(s for s, _ in ended) >= keep_scores[0]):
            break
        seqs = [seqs[r] + [c] for r, c in zip(keep_rows, keep_ids)]
        runs = np.array([runs[r] + 1 if c == newline else 0 for r, c in zip(keep_rows, keep_ids)])
        if guards is not None:
            guards = [guards[r].copy() for r in keep_rows]
            for g, c in zip(guards, keep_ids):
                g.push(lm.vocab.chars[c])
        scores = np.array(keep_scores)
        if t + 1 < max_len:
            last, states = lm.model.step(np.array(keep_ids), _take(states, np.array(keep_rows)))
    else:
        ended += [(float(s), q) for s, q in zip(scores, seqs)]
    ended.sort(key=lambda e: -e[0])                                      # stable: earlier first on ties
    return [(lm.vocab.decode(np.array(q, np.int64)), s) for s, q in ended]


def sample_lines(lm: LanguageModel, n: int = 1, *, prefix: str = "", max_len: int = 100,
                 temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
                 seed: int | None = None) -> list[str]:
    """n whole lines (normalised prefix + continuation) from a "lines" model."""
    start = lm.normalize(prefix)
    return [start + s for s in generate(lm, n, prefix=prefix, max_len=max_len, temperature=temperature,
                                        top_k=top_k, top_p=top_p, seed=seed, stop_at_newline=True)]


def novelty(lines: list[str], training_lines) -> int:
    """How many distinct lines of `lines` are not lines of the training data (a set of normalised lines): a
    name drawn twice is one new name."""
    return sum(1 for s in set(lines) if s not in training_lines)


def novelty_summary(count: int, distinct: int, new: int) -> str:
    """One line on `count` samples holding `distinct` different lines, `new` of them not training lines."""
    if distinct == count:
        return f"{new} of {count} not in the training data"
    which = f"all {new}" if new == distinct else f"{new} of them"
    return f"{distinct} distinct of {count}, {which} not in the training data"


__all__ = ["generate", "stream", "beam_search", "sample_lines", "sample_steps", "next_distribution", "novelty",
           "novelty_summary", "check_options", "START"]
