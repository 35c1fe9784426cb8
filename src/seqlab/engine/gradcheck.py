"""Gradient checking by central differences (use float64)."""

from __future__ import annotations

import numpy as np


def numerical_grad(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """(f(x + ε·e_k) − f(x − ε·e_k)) / 2ε for every entry k of x, changing x in place and restoring it.

    f takes no arguments and returns a float that depends on x. x may be any writable float view (a
    transpose, a slice): its entries are changed where they are, not in a copy.
    """
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"x must be a float array (float64 for a gradient check), got "
                        f"{getattr(x, 'dtype', type(x).__name__)}")
    if not x.flags.writeable:
        raise ValueError("x must be writable: the check changes its entries in place")
    grad = np.zeros(x.shape, np.float64)
    for k in np.ndindex(x.shape):
        old = x[k]
        x[k] = old + eps
        plus = f()
        x[k] = old - eps
        minus = f()
        x[k] = old
        grad[k] = (plus - minus) / (2 * eps)
    return grad


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """‖a − n‖ / (‖a‖ + ‖n‖), the course's `difference`; 0 when both are 0."""
    num = np.linalg.norm(analytic - numeric)
    den = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    return 0.0 if den == 0 else float(num / den)


def check(f, arrays: dict[str, np.ndarray], analytic: dict[str, np.ndarray], eps: float = 1e-6) -> dict[str, float]:
    """Relative error of each analytic gradient against central differences of f w.r.t. arrays[name]."""
    return {name: relative_error(analytic[name], numerical_grad(f, arrays[name], eps)) for name in arrays}
