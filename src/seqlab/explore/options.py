"""Reading the explorers' list options ("rnn,gru,lstm", "2,5,10", "0.5,1,1.5") and writing their JSON,
with one clear UserError for each way an option can be wrong."""

from __future__ import annotations

import json
import math

import numpy as np

from seqlab.errors import UserError


def split_list(text: str, option: str, what: str) -> list[str]:
    """"a, b,c" -> ["a", "b", "c"]; an empty list or an empty item is a UserError."""
    items = [s.strip() for s in str(text).split(",")]
    if not any(items) or not all(items):
        raise UserError(f"{option}: expected a comma-separated list of {what}, got {text!r}")
    return items


def names_list(text: str, option: str, allowed) -> list[str]:
    """Names from `allowed`, in the order given, each once; an unknown one is a UserError naming them all."""
    names = split_list(text, option, "names")
    for n in names:
        if n not in allowed:
            raise UserError(f"{option}: unknown name {n!r}; expected some of {', '.join(allowed)}")
    if len(set(names)) != len(names):
        raise UserError(f"{option}: each name once, got {text!r}")
    return names


def ints_list(text: str, option: str, minimum: int) -> list[int]:
    """Whole numbers >= minimum."""
    out = []
    for s in split_list(text, option, f"whole numbers >= {minimum}"):
        try:
            v = int(s)
        except ValueError:
            raise UserError(f"{option}: {s!r} is not a whole number; expected a comma-separated list of "
                            f"whole numbers >= {minimum}") from None
        if v < minimum:
            raise UserError(f"{option}: {v} is below {minimum}; expected whole numbers >= {minimum}")
        out.append(v)
    return out


def positive_floats_list(text: str, option: str) -> list[float]:
    """Finite numbers > 0."""
    out = []
    for s in split_list(text, option, "positive numbers"):
        try:
            v = float(s)
        except ValueError:
            raise UserError(f"{option}: {s!r} is not a number; expected a comma-separated list of positive "
                            f"numbers") from None
        if not math.isfinite(v) or v <= 0:
            raise UserError(f"{option}: {s} is not a positive number; expected numbers > 0")
        out.append(v)
    return out


def plain(obj):
    """Arrays and NumPy scalars -> lists and Python numbers; a non-finite float -> None (valid JSON)."""
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return plain(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def dumps(obj) -> str:
    return json.dumps(plain(obj), ensure_ascii=False, allow_nan=False)
