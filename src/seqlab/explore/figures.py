"""Figure helpers shared by the explorers: matplotlib without pyplot (the Agg canvas, no display needed)
and atomic saving (a failed write leaves the old file as it was)."""

from __future__ import annotations

import io
import os
from pathlib import Path

from seqlab.errors import UserError
from seqlab.fileio import check_output_by_suffix, write_bytes_atomic


def new_figure(width: float, height: float, nrows: int = 1, ncols: int = 1, **kw):
    """(Figure, axes) on an Agg canvas; axes as matplotlib's subplots gives them."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig, fig.subplots(nrows, ncols, **kw)


def figure_bytes(fig, fmt: str = "png", dpi: int = 90) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi)
    return buf.getvalue()


def check_output(path: str | os.PathLike, suffixes: tuple[str, ...], *, reads=(), flag: str = "-o") -> Path:
    """UserError unless `path` ends in one of `suffixes`, its folder exists and it is none of the files the
    command `reads` nor a file of another kind (checked before any work)."""
    p = Path(path)
    if p.suffix.lower() not in suffixes:
        raise UserError(f"{p}: expected a file name ending in {' or '.join(suffixes)}")
    if not p.parent.is_dir():
        raise UserError(f"{p}: the folder {p.parent} does not exist")
    if p.is_dir():
        raise UserError(f"{p} is a directory; expected a file name")
    check_output_by_suffix(p, flag, reads=reads)
    return p


def save_figure(fig, path: str | os.PathLike, dpi: int = 90) -> Path:
    """Write the figure to `path` (PNG, or SVG/PDF by suffix) atomically."""
    p = Path(path)
    fmt = p.suffix.lower().lstrip(".") or "png"
    return write_bytes_atomic(p, figure_bytes(fig, fmt, dpi))
