"""One training job at a time, in a background thread: its events (loss points, samples, the end) for the
page's live curve, cancellation, and the finished model moved into the models folder.

The run writes to a staging folder beside the models; only a finished run's checkpoint is renamed into the
folder (atomically), so a cancelled or failed run leaves nothing in Models. Cancelling sets the job's StopFlag,
which the trainer polls after every step (seqlab.stopping), and waits (CANCEL_WAIT seconds at most) for the run
to end. Watchers of the events wait on the event loop (`next_events`), holding no thread while they wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from seqlab.app.errors import Busy
from seqlab.errors import UserError
from seqlab.stopping import StopFlag
from seqlab.text.train_config import TrainConfig
from seqlab.training import train

CANCEL_WAIT = 10.0        # seconds a cancel waits for the run to stop (a step, then the staging folder's removal)


@dataclass
class Job:
    """A training run: what it trains, where it is, and everything it has reported (`events`, in order)."""

    id: str
    name: str
    filename: str
    config: dict
    status: str = "running"       # running | done | cancelled | failed
    step: int = 0
    events: list[dict] = field(default_factory=list)
    error: str | None = None
    started: float = field(default_factory=time.time)
    finished: float | None = None
    cancel: StopFlag = field(default_factory=StopFlag, repr=False)   # the trainer polls it after every step

    def summary(self) -> dict:
        return {"id": self.id, "name": self.name, "file": self.filename, "status": self.status,
                "step": self.step, "steps": self.config["steps"], "mode": self.config["mode"],
                "hidden": self.config["hidden"], "error": self.error, "events": len(self.events),
                "seconds": round((self.finished or time.time()) - self.started, 2)}


class Trainer:
    """Runs Jobs one at a time; `store.writable` receives the models, `staging` is its scratch folder."""

    def __init__(self, store):
        self.store = store
        self.staging = store.writable / ".staging"
        self.job: Job | None = None        # the running or the last job
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()   # next_events' callers

    @property
    def running(self) -> bool:
        return self.job is not None and self.job.status == "running"

    def check_free(self) -> None:
        """Busy (HTTP 409) while a job runs."""
        j = self.job
        if self.running and j.cancel():
            raise Busy(f"the last training job ({j.name}) is still being cancelled; retry in a moment")
        if self.running:
            raise Busy(f"a training job is already running ({j.name}, step {j.step} of {j.config['steps']}); "
                       f"wait for it to finish or cancel it")

    def start(self, corpus: Path, filename: str, cfg: TrainConfig, name: str) -> Job:
        """Start training on the file `corpus` (in the staging folder; it is removed at the end, and at once
        when a job is already running). The job is named `name`, or name-2, ... when a model has that name:
        said at the start, not only when the model is written (where it is checked again)."""
        with self._lock:
            try:
                self.check_free()
            except Busy:          # another upload got the slot while this one was read: keep nothing
                shutil.rmtree(corpus.parent, ignore_errors=True)
                raise
            job = Job(uuid.uuid4().hex[:12], self.store.free_name(name), filename, {
                "mode": cfg.mode, "hidden": cfg.hidden, "layers": cfg.layers, "steps": cfg.steps})
            self.job = job
            self._thread = threading.Thread(target=self._run, args=(job, corpus, cfg), daemon=True,
                                            name=f"seqlab-train-{job.id}")
            self._thread.start()
        return job

    def cancel(self, wait: float = CANCEL_WAIT) -> Job:
        """Ask the running job to stop and wait (up to `wait` seconds) until it has: then a new one may start."""
        with self._lock:
            if not self.running:
                raise UserError("no training job is running")
            job, thread = self.job, self._thread
            job.cancel.request("cancelled from the page")
        thread.join(wait)
        return job

    def shutdown(self, timeout: float = 10.0) -> None:
        """Cancel a running job and wait for its thread (the server is stopping)."""
        if self.job is not None:
            self.job.cancel.request("the server is stopping")
        if self._thread is not None:
            self._thread.join(timeout)

    def _emit(self, job: Job, event: dict) -> None:
        with self._lock:
            job.events.append(event)
            if "step" in event:
                job.step = max(job.step, int(event["step"]))
            self._wake()

    def _wake(self) -> None:
        """Wake every waiter of next_events (called with the lock held, from any thread)."""
        for loop, event in list(self._waiters):
            with contextlib.suppress(RuntimeError):     # that loop has closed: nobody waits there any more
                loop.call_soon_threadsafe(event.set)

    async def next_events(self, job: Job, index: int, timeout: float) -> list[dict]:
        """The job's events from `index` on; when there are none yet, waits up to `timeout` seconds for one, on
        the event loop: no thread is held while it waits, so watchers cost no worker."""
        woken = asyncio.Event()
        waiter = (asyncio.get_running_loop(), woken)
        with self._lock:
            if len(job.events) > index or job.status != "running":
                return job.events[index:]
            self._waiters.add(waiter)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), timeout)
        finally:
            with self._lock:
                self._waiters.discard(waiter)
        with self._lock:
            return job.events[index:]

    def _run(self, job: Job, corpus: Path, cfg: TrainConfig) -> None:
        staging_out = self.staging / f"{job.id}.npz"

        def callback(event: dict) -> None:
            event = dict(event)
            event["type"] = event.pop("event")
            self._emit(job, event)

        try:
            result = train(corpus, staging_out, cfg, progress=False, log=lambda *a: None, plot=False,
                           callback=callback, should_stop=job.cancel)
            if result["interrupted"]:      # cancelled: the resumable checkpoint it wrote is dropped below
                end, status = {"type": "cancelled", "step": result["step"]}, "cancelled"
                job.step = result["step"]
            else:
                final = self.store.writable / f"{self.store.free_name(job.name)}.npz"
                os.replace(staging_out, final)
                job.name = final.stem
                end, status = {"type": "done", "model": job.name}, "done"
        except UserError as exc:
            end, status = {"type": "failed", "message": str(exc)}, "failed"
        except Exception as exc:  # noqa: BLE001 - a job's failure is reported to the page, never a traceback
            end, status = {"type": "failed", "message": f"training failed ({type(exc).__name__}: {exc})"}, "failed"
        finally:
            for leftover in self.staging.glob(f"{job.id}.*"):   # a cancelled run's checkpoint, its lock file
                leftover.unlink(missing_ok=True)
            shutil.rmtree(corpus.parent, ignore_errors=True)
        with self._lock:
            job.status, job.finished = status, time.time()
            job.error = end.get("message")
            job.events.append(end)
            self._wake()
