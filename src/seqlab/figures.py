"""Figures written as PNG files: the training loss curve (the piano roll of a solo is seqlab.music.render's)."""

from __future__ import annotations

from pathlib import Path

from seqlab.fileio import atomic_output


def loss_plot_path(out: Path) -> Path:
    """model.npz -> model.loss.png beside it."""
    return out.with_name(out.stem + ".loss.png")


def plot_losses(history: dict, path: Path, title: str = "") -> None:
    """Training and held-out loss (nats/char) against step, as a PNG written atomically.

    history: {"step": [...], "train": [...], "heldout": [... or None]}, as the trainer records it.
    """
    import matplotlib  # here, not at the top: matplotlib takes a second to import and most callers never plot

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    ax.plot(history["step"], history["train"], label="training")
    held = [(s, v) for s, v in zip(history["step"], history["heldout"]) if v is not None]
    if held:
        ax.plot(*zip(*held), label="held-out")
    ax.set_xlabel("step")
    ax.set_ylabel("nats per character")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    try:
        with atomic_output(path) as f:
            fig.savefig(f, format="png", bbox_inches="tight")
    finally:
        plt.close(fig)
