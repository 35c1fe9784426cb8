"""A corpus prepared for training, and everything in which the two corpus modes differ.

    lines   one example per line (names, titles): random lines held out; batches of whole padded lines, each
            from a fresh state; scored line by line; samples are short lines.
    stream  one continuous text (prose, verse): the end of the text held out; truncated-BPTT batches of
            parallel streams with the recurrent state carried; scored as one sequence; samples are passages.

`prepare_data` returns a `LinesData` or a `StreamData`. Both have the same members, which are all the trainer
asks of a mode: `vocab`, `train`, `heldout`, `sha256`, `training_lines`, `carries_state`, `batches(...)`,
`heldout_nll(lm)` and `samples(lm, step, rng)`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seqlab.errors import UserError
from seqlab.text.batching import LinesBatches, StreamBatches
from seqlab.text.corpus import check_distinct, lines_corpus, read_text, sha256_of
from seqlab.text.evaluate import lines_nll, stream_nll
from seqlab.text.model import START, LanguageModel
from seqlab.text.sampling import generate
from seqlab.text.train_config import TrainConfig
from seqlab.text.vocab import Vocabulary, normalize


@dataclass
class LinesData:
    """Lines mode. train: ids (L_i,) per training line; heldout: the held-out lines (text; may be empty)."""

    vocab: Vocabulary
    train: list[np.ndarray]
    heldout: list[str]
    training_lines: list[str]   # the training lines as text (the novelty count compares with them)
    sha256: str
    carries_state = False       # every line starts from zeros

    def batches(self, cfg: TrainConfig, start_id: int) -> LinesBatches:
        return LinesBatches(self.train, cfg.batch_size, start_id, cfg.seed)

    def heldout_nll(self, lm: LanguageModel) -> float | None:
        """Mean nats per predicted character on the held-out lines, or None without any."""
        if not self.heldout:
            return None
        total, count = lines_nll(lm, self.heldout)
        return total / count

    def samples(self, lm: LanguageModel, step: int, rng: np.random.Generator) -> tuple[list[str], str]:
        """(samples, the line that shows them) for the training log: three lines."""
        shown = generate(lm, 3, max_len=80, rng=rng)
        return shown, f"  step {step} samples: " + " | ".join(shown)


@dataclass
class StreamData:
    """Stream mode. train: ids (N,) of the first part of the text; heldout: ids of the rest, or None."""

    vocab: Vocabulary
    train: np.ndarray
    heldout: np.ndarray | None
    sha256: str
    training_lines = None       # no novelty count for passages
    carries_state = True        # truncated BPTT: batch k+1 continues where batch k stopped

    def batches(self, cfg: TrainConfig, start_id: int) -> StreamBatches:
        return StreamBatches(self.train, cfg.batch_size, cfg.seq_len)

    def heldout_nll(self, lm: LanguageModel) -> float | None:
        """Mean nats per predicted character on the held-out end of the text, or None without one."""
        if self.heldout is None:
            return None
        total, count = stream_nll(lm, self.heldout)
        return total / count

    def samples(self, lm: LanguageModel, step: int, rng: np.random.Generator) -> tuple[list[str], str]:
        """(samples, the line that shows them) for the training log: one passage of 200 characters."""
        shown = generate(lm, 1, max_len=200, rng=rng)
        return shown, f"  step {step} sample: {shown[0]!r}"


def vocabulary(text: str, cfg: TrainConfig, source: str) -> Vocabulary:
    """The corpus's characters and START, or those of the file cfg.vocab_from (normalised alike) and START."""
    if not cfg.vocab_from:
        return Vocabulary.from_text(text + START)
    from seqlab.data import resolve_corpus

    try:
        chars = normalize(read_text(resolve_corpus(cfg.vocab_from, suffix=".txt")), lower=cfg.lower)
    except UserError as exc:
        raise UserError(f"--vocab-from: {exc}") from None
    vocab = Vocabulary.from_text(chars + START)
    extra = vocab.unknown(text)
    if extra:
        raise UserError(f"{source} has characters outside the given vocabulary: {' '.join(map(repr, extra))} "
                        f"(vocabulary of --vocab-from {cfg.vocab_from}: {''.join(vocab.chars)!r})")
    return vocab


def prepare_data(path, cfg: TrainConfig) -> LinesData | StreamData:
    """Read, normalise, encode and split the corpus (bad files are UserErrors, before anything is written)."""
    source = str(path)
    text = normalize(read_text(path), lower=cfg.lower)
    sha = sha256_of(path)
    if cfg.mode == "lines":
        lines = lines_corpus(text, source)
        vocab = vocabulary("\n".join(lines), cfg, source)
        n_hold = int(round(cfg.holdout * len(lines))) if len(lines) >= 2 else 0
        n_hold = min(n_hold, len(lines) - 1)
        held = set(np.random.default_rng([cfg.seed, 3]).permutation(len(lines))[:n_hold].tolist())
        train = [s for i, s in enumerate(lines) if i not in held]
        heldout = [lines[i] for i in sorted(held)]
        return LinesData(vocab, [vocab.encode(s) for s in train], heldout, train, sha)
    check_distinct(text, source)
    vocab = vocabulary(text, cfg, source)
    ids = vocab.encode(text)
    cut = ids.size - int(round(cfg.holdout * ids.size))
    if cut < 3 or (cut < ids.size and ids.size - cut < 2):
        cut = ids.size
    return StreamData(vocab, ids[:cut], ids[cut:] if cut < ids.size else None, sha)
