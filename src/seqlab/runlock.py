"""One writer per output: a lock file beside it (MODEL.lock) that a crashed run cannot leave stuck.

The lock is an advisory `flock` on MODEL.lock, which the kernel drops when the holding process ends, however it
ends (SIGKILL, a power cut of the process); the file's text (pid, host, start time, command) only names the
holder in messages. So:

    held by a live run       -> UserError at once, naming that run (pid, host, since when)
    left by a dead run       -> taken over, with a note naming the run that left it
    released normally        -> the file is removed

    with RunLock(Path("m.npz"), log=print):
        ...  # write m.npz

The lock is for one machine's processes (flock over a network file system depends on its server).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path

from seqlab.errors import UserError


def lock_path(target: str | os.PathLike) -> Path:
    """MODEL -> MODEL.lock beside it."""
    target = Path(target)
    return target.with_name(target.name + ".lock")


def _describe(info: dict) -> str:
    started = info.get("started")
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)) if isinstance(started, (int, float)) \
        else "an unknown time"
    return f"pid {info.get('pid', '?')} on {info.get('host', '?')}, started {when}"


def _read(fd: int) -> dict | None:
    """The lock file's JSON (None when empty or unreadable: a holder killed while writing it)."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        raw = os.read(fd, 4096)
        info = json.loads(raw.decode("utf-8")) if raw.strip() else None
        return info if isinstance(info, dict) else None
    except (OSError, ValueError):
        return None


class RunLock:
    """Context manager holding MODEL.lock for `target`; `log` gets the note when a stale lock is taken over."""

    def __init__(self, target: str | os.PathLike, log=None, what: str = "seqlab train"):
        self.target, self.path, self.log, self.what = Path(target), lock_path(target), log, what
        self.fd: int | None = None
        self.took_over: dict | None = None   # the stale holder's info, when there was one

    def acquire(self) -> RunLock:
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise UserError(f"cannot create the lock file {self.path}: {exc.strerror or exc}") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                info = _read(fd) or {}
                os.close(fd)
                raise UserError(f"{self.target} is being written by another {info.get('what', self.what)} "
                                f"({_describe(info)}); wait for it to finish or choose another output "
                                f"(lock: {self.path})") from None
            # The holder before us may have removed the file between our open and our flock: then our lock is
            # on a file no longer at this path, and we start again.
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        previous = _read(fd)
        if previous is not None or os.fstat(fd).st_size:
            self.took_over = previous or {}
            if self.log is not None:
                self.log(f"note: took over the lock {self.path} left by a run that is gone "
                         f"({_describe(self.took_over)})")
        info = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time(), "what": self.what,
                "command": " ".join(sys.argv)}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)
        os.fsync(fd)
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)   # while still locked, so no one else's file is removed
        finally:
            os.close(self.fd)                   # closing drops the flock
            self.fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
