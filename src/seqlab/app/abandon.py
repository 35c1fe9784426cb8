"""Computations a client may walk away from: a beam search that stops at its next step once its client is gone.

A beam search runs in a worker thread, holding the compute lock; a thread cannot be killed, so the search
itself must notice. `watched(lm, gone)` is `lm` whose network raises Abandoned at its next step once `gone` is
set: the search ends there and the lock is released for the next request.
"""

from __future__ import annotations

import threading


class Abandoned(Exception):
    """The client of this computation has gone."""


class _WatchedNetwork:
    def __init__(self, network, gone: threading.Event):
        self._network, self._gone = network, gone

    def __getattr__(self, name):
        return getattr(self._network, name)

    def step(self, *args, **kwargs):
        if self._gone.is_set():
            raise Abandoned
        return self._network.step(*args, **kwargs)


class _WatchedModel:
    def __init__(self, lm, gone: threading.Event):
        self._lm = lm
        self.model = _WatchedNetwork(lm.model, gone)

    def __getattr__(self, name):
        return getattr(self._lm, name)


def watched(lm, gone: threading.Event):
    """`lm` (a LanguageModel) whose `model.step` raises Abandoned once `gone` is set."""
    return _WatchedModel(lm, gone)
