"""The learning-rate schedule: linear warm-up, then cosine decay, then flat (a function of the step alone, so a
resumed run gets the same rates)."""

from __future__ import annotations

import math

from seqlab.text.train_config import TrainConfig


def learning_rate(cfg: TrainConfig, step: int) -> float:
    """The learning rate of step `step` (0-based): cfg.lr·(step+1)/warmup during the warm-up, then cosine decay
    from cfg.lr to cfg.lr·min_lr_ratio over decay_steps (none when 0), then flat."""
    lr = cfg.lr
    if cfg.warmup and step < cfg.warmup:
        return lr * (step + 1) / cfg.warmup
    if cfg.decay_steps:
        t = min(1.0, (step - cfg.warmup) / cfg.decay_steps)
        lr *= cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * t))
    return lr
