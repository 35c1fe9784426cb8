"""Mean negative log-likelihood, in nats per predicted character, of a text under a LanguageModel.

lines mode: each non-empty line (stripped) is read from a fresh state as '\\n' + line and must predict
line + '\\n', so a line of L characters counts L + 1 predictions (the end of the line included).
stream mode: the whole normalised text is one sequence, state carried; its N characters give N − 1
predictions (each character from those before it).
"""

from __future__ import annotations

import os

import numpy as np

from seqlab.engine.base import sizes
from seqlab.errors import UserError
from seqlab.text.batching import pad_lines
from seqlab.text.corpus import read_text
from seqlab.text.model import LanguageModel


def lines_nll(lm: LanguageModel, lines: list[str], batch_size: int = 256) -> tuple[float, int]:
    """(summed NLL in nats, predicted characters) over `lines` (already normalised, non-empty)."""
    sizes(batch_size=batch_size)   # a negative one scored nothing: (0.0, 0), silently

    encoded = [lm.vocab.encode(s) for s in lines]
    total, count = 0.0, 0
    order = np.argsort([len(e) for e in encoded], kind="stable")  # similar lengths together: less padding
    for i in range(0, len(order), batch_size):
        ids_in, target, mask = pad_lines([encoded[j] for j in order[i:i + batch_size]], lm.start_id)
        lp, _ = lm.model.log_probs(ids_in)                       # (T, B, V)
        picked = np.take_along_axis(lp, target[..., None], axis=2)[..., 0]
        total -= float(picked[mask].sum())
        count += int(mask.sum())
    return total, count


def stream_losses(lm: LanguageModel, ids: np.ndarray, chunk: int = 1000) -> np.ndarray:
    """−log p(ids[k+1] | ids[:k+1]) for each k, (N−1,) float64: ids (N,) read as one sequence, in chunks of
    `chunk` with the state carried."""
    sizes(chunk=chunk)
    if ids.size < 2:
        raise UserError("the text needs at least 2 characters to score a stream model")
    out, states = [], None
    for s in range(0, ids.size - 1, chunk):
        x = ids[s:min(s + chunk, ids.size - 1)]
        y = ids[s + 1:s + 1 + x.size]
        lp, states = lm.model.log_probs(x[:, None], states)
        out.append(-lp[np.arange(x.size), 0, y])
    return np.concatenate(out)


def stream_nll(lm: LanguageModel, ids: np.ndarray, chunk: int = 1000) -> tuple[float, int]:
    """(summed NLL, predictions) of ids (N,) read as one sequence, in chunks with the state carried."""
    return float(stream_losses(lm, ids, chunk).sum()), int(ids.size - 1)


def evaluate_text(lm: LanguageModel, text: str) -> dict:
    """{"nats_per_char": mean NLL, "chars": predicted characters} of `text` (raw; normalised here)."""
    text = lm.normalize(text)
    if lm.mode == "lines":
        lines = [s for s in (line.strip() for line in text.split("\n")) if s]
        if not lines:
            raise UserError("the text has no non-empty lines to score")
        lm.vocab.encode("".join(lines))  # one UserError naming every unknown character
        total, count = lines_nll(lm, lines)
    else:
        total, count = stream_nll(lm, lm.vocab.encode(text))
    return {"nats_per_char": total / count, "chars": count}


def evaluate_file(lm: LanguageModel, path: str | os.PathLike) -> dict:
    """`evaluate_text` of a UTF-8 file (bad files are a UserError, as seqlab.text.corpus.read_text says)."""

    return evaluate_text(lm, read_text(path))
