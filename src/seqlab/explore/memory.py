"""Long-range memory: can a cell remember one symbol across L steps?

The recall task: each sequence is one of K = 8 symbols, then L distractors drawn from another alphabet of 8,
then a "recall" marker; the model must output the first symbol at the marker (cross-entropy at that step
only). Inputs are one-hot ids over the 17 tokens; the model is one recurrent layer (hidden 32 by default)
and a Dense layer on its last state, trained with Adam (lr 0.01, batches of 32, gradient norm clipped at 1)
for a fixed number of steps per cell and lag, then scored on 1,000 fresh sequences (chance: 1/8).

    result = recall_accuracy(cells=("rnn", "gru", "lstm"), lags=(2, 5, 10, 20, 50, 100), hidden=32)
    result["lags"], result["chance"], result["accuracy"]["lstm"]     # the lags, 0.125, (len(lags),)
    result["loss"]["lstm"]     # (len(lags),) mean training loss over the last tenth of the steps
    result["steps"], result["hidden"]   # the settings
    fig = draw_memory(result)

Cells as in seqlab.explore.gradients ("lstm": forget bias 0, "lstm-fb1": 1), float32.
"""

from __future__ import annotations

import numpy as np

from seqlab.engine import Adam, Dense, clip_by_global_norm, softmax_cross_entropy
from seqlab.errors import UserError
from seqlab.explore.figures import new_figure
from seqlab.explore.gradients import CELLS, COLORS, LABELS, make_cell
from seqlab.explore.threads import one_blas_thread

K = 8               # symbols to remember
DISTRACTORS = 8     # the other alphabet
MARKER = K + DISTRACTORS
VOCAB = K + DISTRACTORS + 1
DEFAULT_LAGS = (2, 5, 10, 20, 50, 100)
DEFAULT_CELLS = ("rnn", "gru", "lstm")
DEFAULT_STEPS = 3000
BATCH = 32
LR = 0.01
EVAL = 1000


def recall_batch(rng: np.random.Generator, lag: int, batch: int) -> tuple[np.ndarray, np.ndarray]:
    """(ids (lag + 2, batch) int64, targets (batch,)): the symbol, `lag` distractors, the marker."""
    target = rng.integers(0, K, batch)
    ids = np.empty((lag + 2, batch), np.int64)
    ids[0] = target
    ids[1:-1] = rng.integers(K, K + DISTRACTORS, (lag, batch))
    ids[-1] = MARKER
    return ids, target


class RecallModel:
    """One recurrent layer over one-hot ids (T, B), a Dense layer on its last state -> logits (B, K)."""

    def __init__(self, cell: str, hidden: int, rng: np.random.Generator):
        self.rnn = make_cell(cell, VOCAB, hidden, rng, dtype=np.float32)
        self.dense = Dense(hidden, K, dtype=np.float32, rng=rng)
        self.layers = [self.rnn, self.dense]

    def logits(self, ids: np.ndarray, cache: bool = True) -> np.ndarray:
        _, last = self.rnn.forward(ids, cache=cache)
        h = last[0] if isinstance(last, tuple) else last
        return self.dense.forward(h, cache=cache)

    def train_step(self, ids: np.ndarray, target: np.ndarray, opt: Adam, clip: float = 1.0) -> float:
        """One Adam step on the mean cross-entropy at the marker; returns that loss (nats)."""
        loss, count, dlogits = softmax_cross_entropy(self.logits(ids), target)
        dh = self.dense.backward((dlogits / count).astype(np.float32))
        self.rnn.backward(None, (dh, None) if self.rnn.has_cell else dh, need_dx=False)
        clip_by_global_norm(self.layers, clip)
        opt.step()
        return loss / count

    def accuracy(self, ids: np.ndarray, target: np.ndarray) -> float:
        return float(np.mean(self.logits(ids, cache=False).argmax(axis=1) == target))


def train_recall(cell: str, lag: int, hidden: int = 32, steps: int = DEFAULT_STEPS, seed: int = 0) -> dict:
    """Train one cell at one lag; {"accuracy": on EVAL fresh sequences, "loss": mean over the last tenth}."""
    rng = np.random.default_rng([seed, CELLS.index(cell), lag])
    model = RecallModel(cell, hidden, rng)
    opt = Adam(model.layers, lr=LR)
    losses = [model.train_step(*recall_batch(rng, lag, BATCH), opt) for _ in range(steps)]
    test = recall_batch(np.random.default_rng([seed, 10_000 + lag]), lag, EVAL)
    return {"accuracy": model.accuracy(*test), "loss": float(np.mean(losses[-max(1, steps // 10):]))}


def check_options(cells, lags, hidden: int, steps: int) -> None:
    if not cells:
        raise UserError("no cells given; expected some of " + ", ".join(CELLS))
    for c in cells:
        if c not in CELLS:
            raise UserError(f"unknown cell {c!r}; expected one of {', '.join(CELLS)}")
    if not lags:
        raise UserError("no lags given; expected whole numbers >= 1")
    for lag in lags:
        if int(lag) != lag or lag < 1:
            raise UserError(f"a lag must be a whole number of at least 1, got {lag}")
    for name, v in (("hidden", hidden), ("steps", steps)):
        if int(v) != v or v < 1:
            raise UserError(f"{name} must be a whole number of at least 1, got {v}")


@one_blas_thread
def recall_accuracy(cells=DEFAULT_CELLS, lags=DEFAULT_LAGS, hidden: int = 32, steps: int = DEFAULT_STEPS,
                    seed: int = 0, progress=None) -> dict:
    """{"lags", "chance", "accuracy": {cell: [per lag]}, "loss": {cell: [per lag]}}; progress(cell, lag, r)
    is called after each training if given."""
    cells, lags = list(cells), [int(v) for v in lags]
    check_options(cells, lags, hidden, steps)
    acc = {c: [] for c in cells}
    loss = {c: [] for c in cells}
    for c in cells:
        for lag in lags:
            r = train_recall(c, lag, hidden, steps, seed)
            acc[c].append(r["accuracy"])
            loss[c].append(r["loss"])
            if progress:
                progress(c, lag, r)
    return {"lags": lags, "chance": 1.0 / K, "accuracy": acc, "loss": loss, "steps": steps, "hidden": hidden}


def draw_memory(result: dict, title: str | None = None):
    """A matplotlib Figure: accuracy against lag (log axis), one line per cell, chance dashed."""
    fig, ax = new_figure(7.0, 4.2)
    lags = result["lags"]
    for name, acc in result["accuracy"].items():
        ax.plot(lags, acc, "o-", color=COLORS.get(name), lw=2, label=LABELS.get(name, name))
    ax.axhline(result["chance"], color="#777", ls="--", lw=1.2, label=f"chance ({result['chance']:.3f})")
    if len(lags) > 1 and min(lags) > 0:
        ax.set_xscale("log")
    ax.set_xticks(lags)
    ax.set_xticklabels([str(v) for v in lags])
    ax.minorticks_off()
    ax.set_ylim(0, 1.04)
    ax.set_xlabel("lag L: distractor steps between the symbol and the recall marker")
    ax.set_ylabel("recall accuracy on fresh sequences")
    setting = f" (hidden {result['hidden']}, {result['steps']} training steps)" if "steps" in result else ""
    ax.set_title(title or "Remembering one of 8 symbols across L steps" + setting, fontsize=10.5)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="center left")
    fig.tight_layout()
    return fig
