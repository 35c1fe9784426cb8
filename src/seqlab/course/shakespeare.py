"""The course's "Writing like Shakespeare" helpers, with the course's names, arguments and array layouts.

The course cuts the lower-cased sonnets into windows of Tx = 40 characters, every `stride` = 3 characters,
and trains a network to predict the character that follows each window. Layouts are the course's (Keras'),
batch-major: x (m, Tx, n_x) one-hot, y (m, n_x) one-hot. The network itself is `CourseModel`
(seqlab.course.shakespeare_model), which runs on the engine's time-major layers; `load_keras_model` reads the
course's pretrained Keras file into one.
"""

from __future__ import annotations

import sys

import numpy as np

from seqlab import data
from seqlab.course.keras_h5 import load_keras_model
from seqlab.course.shakespeare_model import CourseModel
from seqlab.errors import UserError
from seqlab.sampling import choose
from seqlab.text.corpus import read_text

__all__ = ["build_data", "vectorization", "sample", "generate_output", "load_text", "char_maps",
           "CourseModel", "load_keras_model", "PROMPT_QUESTION"]

PROMPT_QUESTION = "Write the beginning of your poem, the Shakespeare machine will complete it. Your input is: "


def load_text(path=None) -> str:
    """The sonnets, lower-cased as the course reads them; `path` defaults to the cached "shakespeare" dataset."""

    return read_text(path if path is not None else data.path("shakespeare")).lower()


def char_maps(text: str) -> tuple[list[str], dict[str, int], dict[int, str]]:
    """The course's `chars` (sorted distinct characters), `char_indices` and `indices_char` of a text."""
    chars = sorted(set(text))
    return chars, {c: i for i, c in enumerate(chars)}, dict(enumerate(chars))


def build_data(text: str, Tx: int = 40, stride: int = 3) -> tuple[list[str], list[str]]:
    """Windows X[k] = text[s : s + Tx] starting at s = 0, stride, 2·stride, … < len(text) − Tx, and the
    character after each, Y[k] = text[s + Tx]. Returns (X, Y), two lists of m strings (lengths Tx and 1).
    """
    if Tx < 1 or stride < 1:
        raise ValueError(f"Tx and stride must be positive, got Tx={Tx}, stride={stride}")
    starts = range(0, len(text) - Tx, stride)
    return [text[s:s + Tx] for s in starts], [text[s + Tx] for s in starts]


def vectorization(X, Y, n_x: int, char_indices: dict[str, int], Tx: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """One-hot encodes windows and targets: X, m strings of Tx characters -> x bool (m, Tx, n_x);
    Y, m characters -> y bool (m, n_x). A character missing from char_indices is a ValueError naming it.
    """
    m = len(X)
    if len(Y) != m:
        raise ValueError(f"X and Y must have the same length, got {m} and {len(Y)}")
    if any(len(s) != Tx for s in X):
        raise ValueError(f"every window in X must have Tx = {Tx} characters")
    missing = sorted((set("".join(X)) | set("".join(Y))) - char_indices.keys())
    if missing:
        raise ValueError(f"char_indices has no entry for {', '.join(map(repr, missing))}")
    ids = np.array([[char_indices[c] for c in s] for s in X], dtype=np.int64).reshape(m, Tx)
    x = np.zeros((m, Tx, n_x), dtype=bool)
    np.put_along_axis(x, ids[..., None], True, axis=2)
    y = np.zeros((m, n_x), dtype=bool)
    y[np.arange(m), [char_indices[c] for c in Y]] = True
    return x, y


def sample(preds, temperature: float = 1.0, rng: np.random.Generator | None = None) -> int:
    """Draws an index from preds (n,) reshaped by temperature: p_k ∝ preds_k^(1/temperature).

    temperature < 1 sharpens the distribution, > 1 flattens it. Draws from `rng`, or from NumPy's global
    generator as the course does (so np.random.seed makes it repeatable).
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    with np.errstate(divide="ignore"):
        logp = np.log(np.asarray(preds, dtype=np.float64).ravel())
    return int(choose(logp[None], rng if rng is not None else np.random, temperature)[0])


def _window(sentence: str, Tx: int, char_indices: dict[str, int]) -> np.ndarray:
    """The last Tx characters as one input (1, Tx, n_x); a shorter text is padded on the left with all-zero
    steps (the course's '0' padding)."""
    x = np.zeros((1, Tx, len(char_indices)), dtype=np.float32)
    tail = sentence[-Tx:]
    offset = Tx - len(tail)
    for t, ch in enumerate(tail):
        x[0, offset + t, char_indices[ch]] = 1.0
    return x


def generate_output(model, chars, Tx: int = 40, prompt: str | None = None, length: int = 400,
                    temperature: float = 1.0, rng: np.random.Generator | None = None, file=None) -> str:
    """Completes the beginning of a poem, one sampled character at a time, and prints it as the course does.

    model: anything with predict(x (1, Tx, n_x)) -> (1, n_x) probabilities (a CourseModel, say);
    chars: the model's sorted characters (n_x). Without a prompt the beginning is asked for with input(),
    as the course does. The prompt is lower-cased for the model and shown as typed; each new character is
    predicted from the last Tx characters. Returns the prompt followed by `length` generated characters.
    A prompt character outside `chars` is a UserError naming it.
    """
    file = sys.stdout if file is None else file
    char_indices = {c: i for i, c in enumerate(chars)}
    if prompt is None:
        prompt = input(PROMPT_QUESTION)
    sentence = prompt.lower()
    missing = sorted(set(sentence) - char_indices.keys())
    if missing:
        raise UserError(f"the poem's beginning has character(s) the model does not know: "
                        f"{' '.join(map(repr, missing))}; expected only {''.join(chars)!r}")
    file.write("\n\nHere is your poem: \n\n" + prompt)
    generated = prompt
    for _ in range(length):
        preds = np.asarray(model.predict(_window(sentence, Tx, char_indices)))[0]
        next_char = chars[sample(preds, temperature, rng)]
        generated += next_char
        sentence = (sentence + next_char)[-Tx:]
        file.write(next_char)
    file.write("\n")
    file.flush()
    return generated
