"""The explorers' matrices are small ((32, 64) · (64, 256) and the like): BLAS threads only add overhead,
and on a busy 2-core machine a multi-threaded OpenBLAS call can wait seconds for a core. One thread."""

from __future__ import annotations

import functools

from threadpoolctl import threadpool_limits


def one_blas_thread(func):
    """Run `func` with BLAS limited to one thread."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with threadpool_limits(limits=1, user_api="blas"):
            return func(*args, **kwargs)

    return wrapper
