"""The course's "Jazz improvisation with LSTM" functions, with its names, arguments and array layouts.

Layouts are the course's (Keras'): X (m, Tx, n_values) one-hot, batch-major; Y (Ty, m, n_values), time-major;
x_initializer (1, 1, n_values), a_initializer and c_initializer (1, n_a). The network runs on the engine's
LSTM and Dense (seqlab.music.model); the music (grammar, chords, MIDI) is seqlab.music.

    X, Y, n_values, indices_values = load_music_utils()
    model = djmodel(Tx=30, n_a=64, n_values=n_values)
    model.fit([X, a0, c0], list(Y), epochs=100)
    inference_model = music_inference_model(model.LSTM_cell, model.densor, n_values, 64, Ty=50)
    results, indices = predict_and_sample(inference_model, x_initializer, a_initializer, c_initializer)
    out_stream = generate_music(inference_model)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seqlab import data
from seqlab.engine.base import one_hot
from seqlab.music.bundle import JazzBundle
from seqlab.music.corpus import MusicCorpus, build_corpus, training_windows
from seqlab.music.improvise import improvise
from seqlab.music.midi import load_section
from seqlab.music.model import JazzModel
from seqlab.music.render import to_score, write_midi
from seqlab.music.train import fit

__all__ = ["load_music_utils", "load_music_corpus", "djmodel", "music_inference_model", "predict_and_sample",
           "generate_music", "DJModel", "InferenceModel"]


def load_music_corpus(file=None) -> MusicCorpus:
    """The values, vocabulary and chords of the solo in `file` (default: the cached Metheny MIDI)."""

    return build_corpus(load_section(data.path("metheny") if file is None else file))


def load_music_utils(file=None, m: int = 60, Tx: int = 30, seed: int = 0):
    """(X, Y, n_values, indices_values) as the course: m random windows of Tx values.

    X bool (m, Tx, n_values): X[:, 0] is all zeros, X[:, t] the value before Y[t];
    Y bool (Tx, m, n_values): the window's values; indices_values: index -> value string.
    """
    corpus = load_music_corpus(file)
    x_ids, y_ids = training_windows(corpus.indices(), m=m, Tx=Tx, rng=np.random.default_rng(seed))
    V = corpus.n_values
    X = one_hot(x_ids.T, V, dtype=bool)  # batch-major, as the course
    Y = one_hot(y_ids, V, dtype=bool)
    return X, Y, V, dict(enumerate(corpus.vocab))


def _ids(onehot: np.ndarray) -> np.ndarray:
    """one-hot (..., V) -> ids (...), -1 where the vector is all zeros."""
    onehot = np.asarray(onehot)
    return np.where(onehot.any(axis=-1), onehot.argmax(axis=-1), -1).astype(np.int64)


class DJModel:
    """The training network of `djmodel`: LSTM_cell and densor applied at each of Tx steps."""

    def __init__(self, Tx: int, n_a: int, n_values: int, rng: np.random.Generator | None = None):
        self.Tx = int(Tx)
        self.net = JazzModel(n_values, n_a, rng=rng)
        self.LSTM_cell, self.densor = self.net.lstm, self.net.dense

    def count_params(self) -> int:
        return self.net.num_params  # Keras' name

    def fit(self, inputs, outputs, epochs: int = 100, lr: float = 0.01, decay: float = 0.01,
            batch_size: int = 32, seed: int = 0, verbose: bool = True) -> list[float]:
        """inputs [X (m, Tx, n_values), a0 (m, n_a), c0 (m, n_a)] (a0, c0 must be zeros), outputs Y (Tx, m,
        n_values) or its list; Adam(lr, β1=0.9, β2=0.999, decay) like the course. Returns the epoch losses."""

        X, a0, c0 = inputs
        if np.any(a0) or np.any(c0):
            raise ValueError("a0 and c0: expected zeros (the course starts every window from a zero state)")
        Y = np.asarray(outputs)
        if X.shape[1] != self.Tx or Y.shape[0] != self.Tx:
            raise ValueError(f"X (m, Tx, n_values) and Y (Tx, m, n_values): expected Tx = {self.Tx}, "
                             f"got X {X.shape} and Y {Y.shape}")
        x_ids, y_ids = _ids(X).T.copy(), _ids(Y)

        def log(epoch, loss):
            if verbose:
                print(f"Epoch {epoch + 1}/{epochs} - loss: {loss:.4f}")

        return fit(self.net, x_ids, y_ids, lr=lr, decay=decay, batch_size=batch_size, epochs=epochs,
                   rng=np.random.default_rng(seed), log=log)


def djmodel(Tx: int, n_a: int, n_values: int, rng: np.random.Generator | None = None) -> DJModel:
    """The course's training model: 45,530 parameters for n_a = 64 and 90 values."""
    return DJModel(Tx, n_a, n_values, rng)


class InferenceModel:
    """Ty steps from one input: each step's argmax, one-hot, is the next step's input (the course's)."""

    def __init__(self, LSTM_cell, densor, n_values: int, n_a: int, Ty: int):
        self.net = JazzModel.from_layers(LSTM_cell, densor)
        if (self.net.n_values, self.net.n_a) != (n_values, n_a):
            raise ValueError(f"n_values, n_a: the layers have {self.net.n_values}, {self.net.n_a}, "
                             f"got {n_values}, {n_a}")
        self.LSTM_cell, self.densor = LSTM_cell, densor
        self.n_values, self.n_a, self.Ty = n_values, n_a, int(Ty)

    def predict(self, inputs) -> list[np.ndarray]:
        """[x_initializer (1, 1, n_values), a_initializer (1, n_a), c_initializer (1, n_a)] ->
        Ty softmax outputs, each (1, n_values)."""
        x0, a0, c0 = (np.asarray(v, dtype=self.net.dtype) for v in inputs)
        x, state = x0.reshape(1, self.n_values), (a0.reshape(1, self.n_a), c0.reshape(1, self.n_a))
        outputs = []
        for _ in range(self.Ty):
            lp, state = self.net.step(x, state)
            p = np.exp(lp)
            outputs.append(p)
            x = np.zeros_like(x)
            x[0, int(np.argmax(p))] = 1
        return outputs


def music_inference_model(LSTM_cell, densor, n_values: int = 90, n_a: int = 64, Ty: int = 100) -> InferenceModel:
    return InferenceModel(LSTM_cell, densor, n_values, n_a, Ty)


def predict_and_sample(inference_model: InferenceModel, x_initializer=None, a_initializer=None,
                       c_initializer=None):
    """(results, indices): results float32 (Ty, n_values), the one-hot of each step's most likely value;
    indices int64 (Ty, 1). Initialisers default to zeros."""
    V, n_a = inference_model.n_values, inference_model.n_a
    x0 = np.zeros((1, 1, V)) if x_initializer is None else x_initializer
    a0 = np.zeros((1, n_a)) if a_initializer is None else a_initializer
    c0 = np.zeros((1, n_a)) if c_initializer is None else c_initializer
    pred = inference_model.predict([x0, a0, c0])
    indices = np.argmax(np.stack(pred)[:, 0], axis=-1).astype(np.int64)[:, None]
    results = np.zeros((len(pred), V), dtype=np.float32)
    results[np.arange(len(pred)), indices[:, 0]] = 1
    return results, indices


def generate_music(inference_model: InferenceModel, corpus: MusicCorpus | None = None,
                   path="output/my_music.midi", measures: int | None = None, seed: int = 0,
                   temperature: float = 0.0):
    """Improvise over the corpus's chords (default: the Metheny solo's; one pass through them) and write MIDI.

    Returns the music21 Score that was written (parts "Solo" and "Chords", 130 bpm).
    """

    corpus = load_music_corpus() if corpus is None else corpus
    if corpus.n_values != inference_model.n_values:
        raise ValueError(f"corpus: its {corpus.n_values} values do not match the model's "
                         f"{inference_model.n_values}")
    bundle = JazzBundle(inference_model.net, corpus.vocab, corpus.chords, corpus.beats, corpus.training)
    solo = improvise(bundle, measures or len(corpus.chords), seed, temperature)
    print("Predicting new values for different set of chords.")
    for i, values in enumerate(solo.values):
        bar = i * solo.beats
        n = sum(1 for note in solo.notes if bar <= note.offset < bar + solo.beats)
        print(f'Generated {n} sounds using the predicted values for the set of chords ("{i + 1}") '
              f"and after pruning")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_midi(path, solo.notes, solo.chords)
    print(f"Your generated music is saved in {path}")
    return to_score(solo.notes, solo.chords)
