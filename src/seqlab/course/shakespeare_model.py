"""The course's poem-writer network, built from engine layers.

    x (m, Tx, n_x) → LSTM(n_a, every step) → Dropout(0.5) → LSTM(n_a, last step) → Dropout(0.5)
      → Dense(n_y) → softmax → ŷ (m, n_y)

The course (Keras) is batch-major, (m, Tx, n_x); the engine is time-major, (Tx, m, n_x): arrays are
transposed once on the way in. Keras 2's LSTM defaults are kept: recurrent activation hard_sigmoid, forget-gate
bias 1, Glorot-uniform input weights, orthogonal recurrent weights, zero biases. Training is Keras' `fit`:
categorical cross-entropy averaged over the batch, Adam(lr=0.001), shuffled batches of 128.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from seqlab.engine import LSTM, Adam, Dense, Dropout, activations, softmax_cross_entropy


class CourseModel:
    """The two-layer LSTM classifier of the next character after a window of Tx characters.

    Layers: `lstm1` (n_x → n_a), `lstm2` (n_a → n_a), `dense` (n_a → n_y); `drop1`, `drop2` between them.
    """

    def __init__(self, n_x: int = 38, n_a: int = 128, n_y: int | None = None, *, dropout: float = 0.5,
                 recurrent_activation: str = "hard_sigmoid", forget_bias: float = 1.0, learning_rate: float = 1e-3,
                 dtype=np.float32, seed: int | None = 0):
        n_y = n_x if n_y is None else n_y
        rng = np.random.default_rng(seed)
        self.n_x, self.n_a, self.n_y = int(n_x), int(n_a), int(n_y)
        self.dtype = np.dtype(dtype)
        kw = dict(dtype=dtype, rng=rng, recurrent_activation=recurrent_activation, forget_bias=forget_bias)
        self.lstm1 = LSTM(self.n_x, self.n_a, **kw)
        self.drop1 = Dropout(dropout, rng)
        self.lstm2 = LSTM(self.n_a, self.n_a, **kw)
        self.drop2 = Dropout(dropout, rng)
        self.dense = Dense(self.n_a, self.n_y, dtype=dtype, rng=rng)
        self.layers = [self.lstm1, self.lstm2, self.dense]
        self.learning_rate = float(learning_rate)
        self.optimizer: Adam | None = None  # made on the first fit and kept, as Keras keeps its compiled optimizer
        self.rng = rng

    # --- shapes --------------------------------------------------------------------------------------------
    def _time_major(self, x) -> np.ndarray:
        """x (m, Tx, n_x), bool or float -> ids (Tx, m) when every row is one-hot (as `vectorization` makes
        them: the first layer then looks its input projections up instead of multiplying), else (Tx, m, n_x)
        contiguous in the model's dtype."""
        x = np.asarray(x)
        if x.ndim != 3 or x.shape[2] != self.n_x or x.shape[0] < 1 or x.shape[1] < 1:
            raise ValueError(f"x must have shape (m, Tx, {self.n_x}), got {x.shape}")
        xt = x.transpose(1, 0, 2)
        if (np.count_nonzero(xt, axis=2) == 1).all() and (x.dtype == bool or (xt.max(axis=2) == 1).all()):
            return xt.argmax(axis=2)
        return np.ascontiguousarray(xt, dtype=self.dtype)

    def _targets(self, y, m: int) -> np.ndarray:
        """y one-hot (m, n_y) or ids (m,) -> ids int64 (m,)."""
        y = np.asarray(y)
        if y.shape == (m, self.n_y):
            return y.argmax(axis=1)
        if y.shape == (m,) and np.issubdtype(y.dtype, np.integer):
            return y.astype(np.int64)
        raise ValueError(f"y must be one-hot of shape ({m}, {self.n_y}) or integer ids of shape ({m},), "
                         f"got {y.dtype} {y.shape}")

    # --- forward and backward --------------------------------------------------------------------------
    def logits(self, xt: np.ndarray, training: bool = False) -> np.ndarray:
        """xt (Tx, m, n_x) time-major -> z (m, n_y), the Dense output before the softmax."""
        a1, _ = self.lstm1.forward(xt, cache=training)
        a1 = self.drop1.forward(a1, training=training)
        _, (a_last, _) = self.lstm2.forward(a1, cache=training)   # only a⟨Tx⟩ of the second layer is used
        a_last = self.drop2.forward(a_last, training=training)
        return self.dense.forward(a_last, cache=training)

    def loss_and_grads(self, x, y) -> float:
        """Mean cross-entropy (nats) of one training batch with dropout on; sets every layer's grads.

        x (m, Tx, n_x), y (m, n_y) one-hot or (m,) ids.
        """
        xt = self._time_major(x)
        m = xt.shape[1]
        targets = self._targets(y, m)
        z = self.logits(xt, training=True)
        loss_sum, _, dz = softmax_cross_entropy(z, targets)
        dz /= m
        da_last = self.drop2.backward(self.dense.backward(dz))
        da1, _ = self.lstm2.backward(None, (da_last, None), need_dstate=False)
        self.lstm1.backward(self.drop1.backward(da1), need_dx=False, need_dstate=False)   # x is data
        return loss_sum / m

    def train_on_batch(self, x, y) -> float:
        """One Adam step on one batch; returns the batch's mean loss before the step."""
        if self.optimizer is None:
            self.optimizer = Adam(self.layers, lr=self.learning_rate)
        loss = self.loss_and_grads(x, y)
        self.optimizer.step()
        return loss

    # --- the Keras-style calls -------------------------------------------------------------------------
    def fit(self, x, y, batch_size: int = 128, epochs: int = 1, shuffle: bool = True, verbose: int = 1,
            on_epoch_end=None) -> dict[str, list[float]]:
        """Trains on windows x (m, Tx, n_x) with next characters y (m, n_y) one-hot or (m,) ids.

        Each epoch visits the windows once in shuffled batches (the last one may be smaller).
        `on_epoch_end(epoch, logs)` is called after each epoch with logs = {"loss": mean loss}.
        Returns the history {"loss": [mean loss of each epoch]}.
        """
        x = np.asarray(x)
        m = x.shape[0] if x.ndim == 3 else -1
        self._time_major(x[:1])                   # shape check before any work
        targets = self._targets(y, m)
        history = {"loss": []}
        for epoch in range(epochs):
            start = time.perf_counter()
            order = self.rng.permutation(m) if shuffle else np.arange(m)
            total = 0.0
            for lo in range(0, m, batch_size):
                idx = order[lo:lo + batch_size]
                total += self.train_on_batch(x[idx], targets[idx]) * len(idx)
            loss = total / m
            history["loss"].append(loss)
            if verbose:
                print(f"Epoch {epoch + 1}/{epochs} - {m} windows - {time.perf_counter() - start:.1f}s - "
                      f"loss: {loss:.4f}", file=sys.stdout, flush=True)
            if on_epoch_end is not None:
                on_epoch_end(epoch, {"loss": loss})
        return history

    def predict(self, x, batch_size: int = 1024) -> np.ndarray:
        """x (m, Tx, n_x) -> softmax probabilities (m, n_y), dropout off."""
        xt = self._time_major(x)
        return np.concatenate([activations.softmax(self.logits(xt[:, lo:lo + batch_size]), axis=1)
                               for lo in range(0, xt.shape[1], batch_size)])

    def evaluate(self, x, y, batch_size: int = 1024) -> float:
        """Mean negative log-likelihood (nats per character) of y given x, dropout off.

        x (m, Tx, n_x); y (m, n_y) one-hot or (m,) ids.
        """
        xt = self._time_major(x)
        m = xt.shape[1]
        targets = self._targets(y, m)
        total = 0.0
        for lo in range(0, m, batch_size):
            z = self.logits(xt[:, lo:lo + batch_size]).astype(np.float64)
            total += softmax_cross_entropy(z, targets[lo:lo + batch_size])[0]
        return total / m
