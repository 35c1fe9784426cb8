"""Training a character model with the engine its settings name: what the faces and the model builder call.

    train(corpus, out, cfg, **kw) = seqlab.text.trainer.train(corpus, out, cfg, engine=engine_for(cfg), **kw)

The trainer (seqlab.text) computes its steps with the Engine it is given and imports no backend; PyTorch's
(seqlab.torch_backend, which imports the trainer, not the other way round) is chosen here, above both, by
cfg.backend: "numpy" is seqlab's own engine, "torch" PyTorch's on cfg.device, launching cfg.devices
processes when there are several.
"""

from __future__ import annotations

from seqlab.text.train_config import TrainConfig
from seqlab.text.trainer import NUMPY, Engine
from seqlab.text.trainer import train as train_with

__all__ = ["engine_for", "train"]


def engine_for(cfg: TrainConfig | None) -> Engine:
    """The Engine of cfg.backend (NUMPY for no cfg). A resumed run continues on its caller's backend."""
    if cfg is None or cfg.backend == "numpy":
        return NUMPY
    from seqlab.torch_backend.distributed import torch_engine  # PyTorch itself only when a step needs it

    return torch_engine()


def train(corpus, out, cfg: TrainConfig | None = None, **kw) -> dict:
    """seqlab.text.trainer.train on the engine of cfg.backend; the same arguments and summary."""
    return train_with(corpus, out, cfg, engine=engine_for(cfg), **kw)
