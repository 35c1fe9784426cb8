"""The course's jazz network: one LSTM of n_a units reading one-hot values, a softmax Dense over the values.

Training reads x⟨0⟩ = 0 and then the window's values shifted by one, and predicts each value of the window;
the loss is, as in the course's Keras model, the sum over the Tx steps of the batch-mean cross-entropy.
Generation starts from x = 0, a = c = 0 and feeds each chosen value back in, one step at a time.
For 90 values and n_a = 64: LSTM 4·64·(90 + 64 + 1) = 39,680 parameters, Dense 64·90 + 90 = 5,850; 45,530 in all.
"""

from __future__ import annotations

import numpy as np

from seqlab.engine import LSTM, Dense, softmax_cross_entropy
from seqlab.engine.activations import log_softmax
from seqlab.engine.base import load_named_arrays, named_arrays, one_hot


class JazzModel:
    """LSTM(n_values -> n_a) + Dense(n_a -> n_values). `layers` is what the optimizer updates."""

    def __init__(self, n_values: int, n_a: int = 64, *, rng: np.random.Generator | None = None,
                 dtype=np.float32):
        rng = np.random.default_rng(0) if rng is None else rng
        self.n_values, self.n_a = int(n_values), int(n_a)
        self.dtype = np.dtype(dtype)
        # Keras' LSTM (the course's) starts its forget gate at 1.0 (unit_forget_bias)
        self.lstm = LSTM(self.n_values, self.n_a, dtype=dtype, rng=rng, forget_bias=1.0)
        self.dense = Dense(self.n_a, self.n_values, dtype=dtype, rng=rng)
        self.layers = [self.lstm, self.dense]

    @classmethod
    def from_layers(cls, lstm, dense) -> "JazzModel":
        """A model around existing (trained) layers, shared, not copied."""
        if dense.in_features != lstm.hidden_size or dense.out_features != lstm.input_size:
            raise ValueError(f"dense: expected ({lstm.hidden_size} -> {lstm.input_size}) to match the LSTM, "
                             f"got ({dense.in_features} -> {dense.out_features})")
        self = cls.__new__(cls)
        self.n_values, self.n_a, self.dtype = lstm.input_size, lstm.hidden_size, lstm.dtype
        self.lstm, self.dense, self.layers = lstm, dense, [lstm, dense]
        return self

    @property
    def num_params(self) -> int:
        return sum(layer.num_params for layer in self.layers)

    def named_layers(self) -> list[tuple[str, object]]:
        return [("lstm", self.lstm), ("dense", self.dense)]

    def loss_and_grads(self, x_ids: np.ndarray, y_ids: np.ndarray) -> float:
        """x_ids, y_ids int (Tx, m) (-1 in x_ids: the zero vector) -> Σ_t mean_b NLL; sets every layer's grads."""
        Tx, m = y_ids.shape
        if x_ids.shape != (Tx, m):
            raise ValueError(f"x_ids: expected shape {(Tx, m)} like y_ids, got {x_ids.shape}")
        a, _ = self.lstm.forward(one_hot(x_ids, self.n_values, self.dtype))      # (Tx, m, n_a)
        logits = self.dense.forward(a)                                            # (Tx, m, n_values)
        loss, _, dlogits = softmax_cross_entropy(logits.reshape(-1, self.n_values), y_ids.reshape(-1))
        dlogits = (dlogits / m).astype(self.dtype).reshape(logits.shape)
        self.lstm.backward(self.dense.backward(dlogits), need_dx=False, need_dstate=False)   # x is data
        return loss / m

    def step(self, x: np.ndarray, state=None):
        """One generation step: x (B, n_values) one-hot or zeros, state (a, c) or None ->
        (log-probabilities (B, n_values) float64, new state), as the text model's `step`."""
        a, state = self.lstm.forward(x[None].astype(self.dtype), state, cache=False)
        return log_softmax(self.dense.forward(a[0], cache=False).astype(np.float64)), state

    def arrays(self) -> dict[str, np.ndarray]:
        """The weights by name (copies): lstm.W_x (n_values, 4n_a), lstm.W_h (n_a, 4n_a), lstm.b (4n_a,),
        dense.W (n_a, n_values), dense.b (n_values,)."""
        return named_arrays(self.named_layers())

    def load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Copy the weights in (names as in `arrays()`); ValueError on a missing or misshapen one."""
        load_named_arrays(self.named_layers(), arrays)
