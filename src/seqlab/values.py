"""What a user-given value is: a whole number, a real number; bools are neither (True would pass for 1).

NumPy's integers and floats count (they register as numbers.Integral and numbers.Real). Light to import:
the command line's option table uses it.
"""

from __future__ import annotations

import numbers


def is_whole(x) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def is_number(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)
