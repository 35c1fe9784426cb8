"""A run that runs away with finite numbers: its training loss has stayed far above a uniform guess.

A model that spreads its probability evenly over V symbols scores ln V nats per symbol, and a fresh model starts
near that. A run whose training loss stays above

    FACTOR · ln V   (3 × ln V)   for WINDOW optimizer steps in a row

has learned nothing and is getting worse: a learning rate far too high, no clipping. Its numbers may never
become NaN (`seqlab train --lr 1e30 --clip 0` climbs to 1e31 nats/char and stays finite), so the NaN check
alone lets it finish and write a useless model. The trainers stop such a run as they stop a NaN (Diverged,
exit status 3, the last good checkpoint kept) unless they are told to allow it (`--allow-divergence`), when
they warn once and go on.

    watch = Runaway(vocab_size)
    each step:  if watch.update(loss_sum, count): stop (or warn once)
                watch.climbing: the loss of the last step was above the line (no checkpoint is written then)
"""

from __future__ import annotations

import math

WINDOW = 100     # optimizer steps in a row above the line
FACTOR = 3.0


class Runaway:
    """Counts the steps in a row whose loss per symbol is above FACTOR · ln V (V: the vocabulary size)."""

    def __init__(self, vocab_size: int, window: int = WINDOW):
        self.vocab_size, self.window = vocab_size, window
        self.limit = FACTOR * math.log(vocab_size)   # nats per symbol
        self.steps = 0        # steps in a row above the limit, up to the last one
        self.last = 0.0       # the last step's loss per symbol

    def update(self, loss_sum: float, count: int) -> bool:
        """Record one step (loss summed over `count` predicted symbols); True once the run has stayed above
        the limit for `window` steps (and at every step after, while it stays there)."""
        self.last = loss_sum / max(count, 1)
        self.steps = self.steps + 1 if self.last > self.limit else 0
        return self.steps >= self.window

    @property
    def climbing(self) -> bool:
        """Whether the last step was above the limit: parameters not worth a checkpoint."""
        return self.steps > 0

    def why(self, unit: str = "nats/char") -> str:
        """The rule, as one clause: "the training loss has stayed above 3 × ln 27 = 9.89 nats/char ..."."""
        return (f"the training loss has stayed above {FACTOR:g} × ln {self.vocab_size} = {self.limit:.2f} {unit} "
                f"(far worse than a uniform guess) for {self.window} steps, {self.last:.3g} at the last")
