"""Stopping a training run cleanly: a flag the training loops poll between steps, and the signals that set it.

    flag = StopFlag()
    with stop_on_signals(flag, log):      # SIGINT (Ctrl-C) and SIGTERM set the flag instead of killing
        train(..., should_stop=flag)      # the loop finishes its step, saves a resumable checkpoint, returns
    if flag.signum: exit 128 + flag.signum

`should_stop` is any callable returning True when the run should end; a StopFlag is one, and anything else
(the web playground's cancel button) can call `flag.request()` from another thread.

A second signal while the checkpoint is being written is only noted: the save finishes (it is atomic in any
case, so the file on disk is the previous checkpoint or the new one, never a mix). A second signal at any
other moment means "quit now": KeyboardInterrupt, and the last checkpoint on disk is what remains. When
another process writes the run's checkpoints (`seqlab train --devices N`: process 0 does), the one that
takes the signals says so through `saving_elsewhere` (seqlab.torch_backend.distributed).
"""

from __future__ import annotations

import contextlib
import signal
import threading

EXIT_STATUS = {signal.SIGINT: 130, signal.SIGTERM: 143}


class Interrupted(Exception):
    """A stop request ended a job that cannot keep a partial result (a model build): nothing was written."""


class StopFlag:
    """A stop request: `flag()` is True once `request()` was called (by a signal handler or another thread)."""

    def __init__(self):
        self._event = threading.Event()
        self.signum: int | None = None     # the signal that asked, if one did
        self.reason = ""
        self.saving = False                # set by the trainer around a checkpoint write
        self.saving_elsewhere = None       # or a callable: whether another process is writing one now

    def request(self, reason: str = "stop requested", signum: int | None = None) -> None:
        if not self._event.is_set():
            self.reason, self.signum = reason, signum
        self._event.set()

    def __call__(self) -> bool:
        return self._event.is_set()

    @property
    def exit_status(self) -> int:
        """130 for SIGINT, 143 for SIGTERM, 1 for a request that came from no signal."""
        return EXIT_STATUS.get(self.signum, 128 + self.signum if self.signum else 1)

    def is_saving(self) -> bool:
        """Whether a checkpoint is being written, here or (saving_elsewhere) in another process."""
        return self.saving or bool(self.saving_elsewhere is not None and self.saving_elsewhere())

    @contextlib.contextmanager
    def saving_now(self):
        """Mark a checkpoint write: a signal during it is deferred, never an exception inside the write."""
        self.saving = True
        try:
            yield
        finally:
            self.saving = False


def saving(should_stop):
    """`should_stop.saving_now()` for a StopFlag; for any other callable (or None), a block that does nothing."""
    mark = getattr(should_stop, "saving_now", None)
    return mark() if mark is not None else contextlib.nullcontext()


@contextlib.contextmanager
def stop_on_signals(flag: StopFlag, log=None, signals=(signal.SIGINT, signal.SIGTERM), unit: str = "step"):
    """Within the block, the first of `signals` sets `flag` (and says so through `log`: the `unit` in progress
    is finished); a later one raises KeyboardInterrupt unless the flag says a checkpoint is being written.
    The old handlers come back after."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield flag
        return

    def handler(signum, frame):
        name = signal.Signals(signum).name
        if not flag():
            flag.request(f"interrupted by {name}", signum)
            if log is not None:
                log(f"{name}: finishing this {unit} and saving a checkpoint (again to quit without saving)")
        elif flag.is_saving():
            if log is not None:
                log(f"{name}: still saving the checkpoint; it will be complete in a moment")
        else:
            raise KeyboardInterrupt

    old = {s: signal.signal(s, handler) for s in signals}
    try:
        yield flag
    finally:
        for s, h in old.items():
            signal.signal(s, h)
