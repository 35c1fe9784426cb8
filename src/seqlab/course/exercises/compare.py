"""Comparing a learner's answer with the expected one: flatten both into named entries, find the first entry
that differs and say how (shape, type, value with its index and relative error)."""

from __future__ import annotations

import numpy as np

RTOL, ATOL = 1e-6, 1e-8   # loops and vectorised code differ by ~1e-15; a real mistake by far more


def flatten(value, name: str) -> dict:
    """Nested dicts, tuples and lists of arrays -> {"name['key']": leaf, "name[0]": leaf, …}, in order.

    Lists of numbers are one leaf (an index list); tuples and lists of arrays are split.
    """
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out.update(flatten(v, f"{name}[{k!r}]"))
        return out
    if isinstance(value, (tuple, list)) and value and not all(np.isscalar(v) for v in value):
        out = {}
        for i, v in enumerate(value):
            out.update(flatten(v, f"{name}[{i}]"))
        return out
    return {name: value}


def _fmt(x) -> str:
    if isinstance(x, (float, np.floating)):
        return f"{float(x):.8g}"
    return repr(x)


def leaf_difference(got, expected, name: str) -> str | None:
    """None when `got` matches `expected`, else one line naming the first difference."""
    if isinstance(expected, str):
        if got == expected:
            return None
        if not isinstance(got, str):
            return f"{name}: expected text, got {type(got).__name__}"
        gl, el = got.splitlines(), expected.splitlines()
        for i, (g, e) in enumerate(zip(gl, el)):
            if g != e:
                return f"{name}, line {i + 1}: expected {e!r}, got {g!r}"
        return f"{name}: expected {len(el)} lines, got {len(gl)}"
    if got is None:
        return f"{name} is None"
    try:
        g = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return f"{name}: expected numbers, got {type(got).__name__}"
    e = np.asarray(expected, dtype=np.float64)
    if g.shape != e.shape:
        what = "length" if e.ndim == 1 and isinstance(expected, list) else "shape"
        gs, es = (len(g) if g.ndim else g.shape, len(e)) if what == "length" else (g.shape, e.shape)
        return f"{name}: expected {what} {es}, got {gs}"
    bad = ~np.isclose(g, e, rtol=RTOL, atol=ATOL)
    if not bad.any():
        return None
    idx = np.unravel_index(int(np.argmax(bad)), e.shape) if e.ndim else ()
    ge, ee = g[idx], e[idx]
    where = f"{name}[{', '.join(map(str, idx))}]" if idx else name
    n_bad = int(bad.sum())
    more = f" ({n_bad} of {e.size} entries differ)" if e.size > 1 else ""
    if isinstance(expected, list) and all(isinstance(v, (int, np.integer)) for v in expected):   # indices
        return f"{where}: expected {int(ee)}, got {_fmt(got[idx[0]])}{more}"
    rel = abs(ge - ee) / max(abs(ee), 1e-300)
    return f"{where}: expected {_fmt(ee)}, got {_fmt(ge)}, relative error {rel:.1e}{more}"


def first_difference(got: dict, expected: dict) -> str | None:
    """Compares flattened answers entry by entry, in the expected order."""
    for name, e in expected.items():
        if name not in got:
            return f"{name} is missing"
        diff = leaf_difference(got[name], e, name)
        if diff:
            return diff
    return None


def same(got: dict, expected: dict) -> bool:
    return first_difference(got, expected) is None
