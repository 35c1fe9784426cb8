"""Nothing lost: interrupted, diverging, crowded and failing training runs, with real processes and signals.

SIGINT/SIGTERM finish the step, save a resumable checkpoint and say how to continue; the continued run is bit
for bit the uninterrupted one. NaN/inf stops at once (exit 3) with the last good checkpoint on disk. A second
run on the same output is refused through a lock that a killed run can't leave stuck. A failed write keeps
the previous checkpoint whole. Without a terminal, progress is one line per evaluation. The same for
`seqlab jazz --train` (per epoch, `--resume`) and the model builds (checkpoints in a work folder, continued
when the build runs again).
"""

from __future__ import annotations

import functools
import io
import math
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from seqlab.checkpoint import load_checkpoint, save_checkpoint
from seqlab.cli import main
from seqlab.errors import UserError
from seqlab.music.bundle import load_bundle
from seqlab.runlock import RunLock, lock_path
from seqlab.stopping import StopFlag
from seqlab.text.train_config import TrainConfig
from seqlab.text.trainer import train
from test_music import CHORDS, MELODY, _smf, _track

SRC = str(Path(__file__).resolve().parent.parent / "src")
ENV = {**os.environ, "PYTHONPATH": SRC, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"]
TINY = ["--hidden", "12", "--batch-size", "8", "--eval-every", "5", "--sample-every", "0",
        "--decay-steps", "500", "--dropout", "0.1", "--seed", "3", "--threads", "1"]


def tiny(mode: str) -> list[str]:
    """TINY for `mode`: stream mode's pieces are 20 characters (lines mode refuses a --seq-len)."""
    return [*TINY, "--seq-len", "20"] if mode == "stream" else TINY


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    p = tmp_path_factory.mktemp("faults") / "words.txt"
    rng = np.random.default_rng(0)
    p.write_text("\n".join(rng.choice(WORDS, 300)) + "\n", encoding="utf-8")
    return p


def _arrays(path) -> dict:
    arrays, meta = load_checkpoint(path)
    return {k: v for k, v in arrays.items() if k.startswith(("model.", "resume."))}


def _same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].dtype == b[k].dtype and a[k].tobytes() == b[k].tobytes(), k


def _start(argv, script=None, env=None, session=False):
    code = script or "import sys; from seqlab.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.Popen([sys.executable, "-c", code, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env or ENV, start_new_session=session)


def _wait_for(proc, pattern: str, timeout: float = 60.0) -> list[str]:
    """Read proc's stdout lines until one matches `pattern`; returns the lines read."""
    lines, t0 = [], time.monotonic()
    while time.monotonic() - t0 < timeout:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if re.search(pattern, line):
            return lines
    proc.kill()
    raise AssertionError(f"never saw {pattern!r}: {lines} {proc.stderr.read()}")


# A second SIGINT from inside the interrupt's own checkpoint write (the third array written): it must wait.
SECOND_SIGNAL = """
import os, signal, sys
import numpy as np
from seqlab.cli import main
real, calls = np.lib.format.write_array, []
def write(fp, a, **kw):
    calls.append(1)
    if len(calls) == 3:
        os.kill(os.getpid(), signal.SIGINT)
    return real(fp, a, **kw)
np.lib.format.write_array = write
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("mode, sig", [("lines", signal.SIGINT), ("stream", signal.SIGTERM)])
def test_signal_saves_a_checkpoint_that_resumes_bit_for_bit(corpus, tmp_path, capsys, mode, sig):
    out = tmp_path / "m.npz"
    argv = ["train", str(corpus), "--mode", mode, *tiny(mode), "--steps", "100000", "--checkpoint-every", "0",
            "-o", str(out)]
    proc = _start(argv, SECOND_SIGNAL if sig == signal.SIGTERM else None)
    _wait_for(proc, r"step 10: training")
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == {signal.SIGINT: 130, signal.SIGTERM: 143}[sig], stderr
    assert "Traceback" not in stderr and "\r" not in stderr   # no terminal: no progress bar either
    m = re.search(r"^interrupted at step (\d+): saved (\S+); continue with: (seqlab train .* --resume \S+ "
                  r"--steps 100000)$", stderr, re.M)
    assert m, stderr
    step = int(m.group(1))
    assert step >= 10 and m.group(2) == str(out) and not lock_path(out).exists()
    if sig == signal.SIGTERM:
        assert "still saving the checkpoint" in stderr   # the second signal arrived mid-write and waited
    meta = load_checkpoint(out)[1]
    assert meta["step"] == step and meta["train"]["final"] is False

    # Continue as the message says (to a nearer total), and compare with one uninterrupted run.
    _continue_as_told(m.group(3), argv, step + 7, tmp_path)


def _continue_as_told(command: str, argv: list[str], total: int, tmp_path) -> None:
    """Run the continue line `command` to `total` steps, and the interrupted run `argv` (ending with
    "--checkpoint-every N -o OUT") to `total` without a stop: the same arrays, bit for bit."""
    resume = shlex.split(command)[1:]
    resume[resume.index("--steps") + 1] = str(total)
    assert main([*resume, "--threads", "1", "--quiet"]) == 0
    straight = tmp_path / "straight.npz"
    assert main([*argv[:-4], "--steps", str(total), "--checkpoint-every", "0", "-o", str(straight),
                 "--quiet"]) == 0
    _same(_arrays(argv[-1]), _arrays(straight))


# ----------------------------------------------------------------------------------- data-parallel runs
DDP = ["--backend", "torch", "--devices", "2"]

# Faults timed from inside process 0 of a `--devices 2` run: HOOKED points distributed._worker here, and
# the workers (spawned) import this module from the test's folder.
WORKER_HOOKS = """
import os, signal, time
import numpy as np
from seqlab.text import trainer
from seqlab.torch_backend import distributed
real_worker = distributed._worker

def worker(rank, *args):
    hook = os.environ["HOOK"] if rank == 0 else ""
    if hook == "ctrl-c-while-saving":   # in the third array of the interrupt's checkpoint
        real, calls = np.lib.format.write_array, []
        def write(fp, a, **kw):
            calls.append(1)
            if len(calls) == 3:
                os.killpg(0, signal.SIGINT)
            return real(fp, a, **kw)
        np.lib.format.write_array = write
    if hook == "two-signals-between-saves":   # after step 12, before the processes agree to stop
        real_step = trainer._train_step
        def step(run, *a):
            out = real_step(run, *a)
            if run.step == 12:
                os.kill(os.getppid(), signal.SIGINT)
                time.sleep(1)
                os.kill(os.getppid(), signal.SIGINT)
                time.sleep(60)   # the parent ends this process first
            return out
        trainer._train_step = step
    real_worker(rank, *args)
"""
HOOKED = """
import sys, ddp_hooks
from seqlab.torch_backend import distributed
distributed._worker = ddp_hooks.worker
from seqlab.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _hooked(tmp_path, hook: str) -> dict:
    """The environment for a HOOKED run with `hook` in process 0."""
    (tmp_path / "ddp_hooks.py").write_text(WORKER_HOOKS)
    return {**ENV, "PYTHONPATH": f"{SRC}{os.pathsep}{tmp_path}", "HOOK": hook}


def _still_running(session: int, timeout: float = 10.0) -> list[str]:
    """The command lines of the processes of `session` that are still alive (zombies aside) after up to
    `timeout` seconds: what a run started there left behind."""
    t0 = time.monotonic()
    while True:
        left = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
                state, _, _, sid = stat[stat.rindex(")") + 2:].split()[:4]
                if int(sid) == session and state != "Z":
                    left.append(Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " "))
            except (OSError, ValueError):
                pass
        if not left or time.monotonic() - t0 > timeout:
            return left
        time.sleep(0.1)


@pytest.mark.parametrize("mode, how", [("lines", "ctrl-c"), ("stream", "sigterm+ctrl-c-while-saving")])
def test_interrupted_data_parallel_run_stops_every_process_after_the_same_step(corpus, tmp_path, capsys, mode,
                                                                              how):
    """--devices 2: a Ctrl-C reaches the whole process group, this SIGTERM only the parent; either way both
    processes stop after the same step, process 0 saves, only the parent speaks, and the resumed run ends
    with the uninterrupted run's model, bit for bit."""
    out = tmp_path / "m.npz"
    argv = ["train", str(corpus), "--mode", mode, *tiny(mode), *DDP, "--steps", "100000", "--checkpoint-every", "0",
            "-o", str(out)]
    ctrl_c = how == "ctrl-c"
    proc = _start(argv, None if ctrl_c else HOOKED, None if ctrl_c else _hooked(tmp_path, "ctrl-c-while-saving"),
                  session=True)
    _wait_for(proc, r"step 10: training")
    if ctrl_c:
        os.killpg(proc.pid, signal.SIGINT)   # what the terminal does
    else:
        proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == (130 if ctrl_c else 143), stderr
    assert "Traceback" not in stderr and stderr.count("finishing this step and saving") == 1, stderr
    m = re.search(r"^interrupted at step (\d+): saved (\S+); continue with: (seqlab train .* --resume \S+ "
                  r"--steps 100000 --backend torch --devices 2)$", stderr, re.M)
    assert m, stderr
    if not ctrl_c:
        assert "still saving the checkpoint" in stderr   # the second signal came mid-write and waited
    assert _still_running(proc.pid) == [] and not lock_path(out).exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]   # no temporary left
    step = int(m.group(1))
    meta = load_checkpoint(out)[1]
    assert step >= 10 and meta["step"] == step and meta["train"]["final"] is False
    _continue_as_told(m.group(3), argv, step + 5, tmp_path)


def test_second_signal_outside_a_save_ends_a_data_parallel_run_at_once(corpus, tmp_path):
    """Ctrl-C twice (here: to the parent) between checkpoints: the workers are ended at once, as one process
    quits; nothing is left running, locked or half-written, and the last periodic checkpoint stays whole."""
    out, tmp = tmp_path / "m.npz", tmp_path / "tmp"
    tmp.mkdir()
    proc = _start(["train", str(corpus), *TINY, *DDP, "--steps", "100000", "--checkpoint-every", "5", "-o",
                   str(out)], HOOKED, {**_hooked(tmp_path, "two-signals-between-saves"), "TMPDIR": str(tmp)},
                  session=True)
    stdout, stderr = proc.communicate(timeout=90)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and stderr.endswith("seqlab: interrupted\n"), stderr
    assert "step 10: training" in stdout and "step 15" not in stdout
    assert _still_running(proc.pid) == [] and not lock_path(out).exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert not list(tmp.glob("seqlab-*"))   # the other process's scratch folder is gone too
    assert load_checkpoint(out)[1]["step"] == 10


# Two SIGINTs inside step 12, one second apart: neither during a checkpoint write.
TWO_SIGNALS_IN_A_STEP = """
import os, signal, sys, time
from seqlab.cli import main
from seqlab.text import trainer
real_step = trainer._train_step
def step(run, *a):
    out = real_step(run, *a)
    if run.step == 12:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(30)   # the second signal ends the process here
    return out
trainer._train_step = step
sys.exit(main(sys.argv[1:]))
"""


def test_second_signal_outside_a_save_quits_at_once(corpus, tmp_path):
    """Ctrl-C twice between checkpoints: exit 130 at once, without the step's save; the last periodic
    checkpoint stays whole, and no lock or temporary file is left."""
    out = tmp_path / "m.npz"
    t0 = time.monotonic()
    proc = _start(["train", str(corpus), *TINY, "--steps", "100000", "--checkpoint-every", "5", "-o", str(out)],
                  TWO_SIGNALS_IN_A_STEP)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert time.monotonic() - t0 < 25   # it did not sit out the 30 s sleep
    assert "Traceback" not in stderr and stderr.endswith("seqlab: interrupted\n"), stderr
    assert "finishing this step and saving a checkpoint" in stderr and "continue with" not in stderr
    assert not lock_path(out).exists() and [p.name for p in tmp_path.iterdir()] == ["m.npz"]
    meta = load_checkpoint(out)[1]
    assert meta["step"] == 10 and meta["train"]["final"] is False


def test_stop_flag_is_the_same_path_for_any_caller(corpus, tmp_path):
    """What the web playground does: request a stop from a callback; the run saves and says it stopped."""
    flag = StopFlag()
    cfg = TrainConfig(hidden=8, steps=1000, eval_every=4, sample_every=0, checkpoint_every=0)
    stop_at = lambda event: event["step"] == 8 and flag.request("cancelled")  # noqa: E731
    result = train(corpus, tmp_path / "m.npz", cfg, progress=False, log=lambda s: None, callback=stop_at,
                   should_stop=flag)
    assert result["interrupted"] and result["step"] == 8 and flag.reason == "cancelled"
    assert flag.exit_status == 1 and load_checkpoint(tmp_path / "m.npz")[1]["step"] == 8


def test_divergence_stops_at_once_with_the_last_good_checkpoint(corpus, tmp_path, capsys, monkeypatch):
    """A NaN gradient norm stops the run before its update, with the last periodic checkpoint on disk: made by
    --lr 1e30 (whose loss is far above a uniform guess from step 2, so no checkpoint was worth writing), and
    injected at step 15 of a sound run (the step-10 checkpoint stays)."""
    out = tmp_path / "m.npz"
    args = ["train", str(corpus), "--cell", "rnn", "--hidden", "8", "--steps", "200", "--eval-every", "10",
            "--checkpoint-every", "10", "--sample-every", "0", "--quiet"]
    capsys.readouterr()
    status = main([*args, "--lr", "1e30", "--clip", "0", "-o", str(out)])
    captured = capsys.readouterr()
    assert status == 3
    assert captured.err.count("\n") == 1, captured.err
    m = re.match(r"seqlab train: error: training diverged at step (\d+): the (loss|gradient norm) is", captured.err)
    assert m and "no checkpoint was written" in captured.err and "try a lower --lr" in captured.err
    assert not out.exists()

    import seqlab.text.trainer as trainer

    real, calls = trainer.clip_by_global_norm, []

    def clip(layers, max_norm):
        calls.append(1)
        return math.nan if len(calls) == 15 else real(layers, max_norm)

    monkeypatch.setattr(trainer, "clip_by_global_norm", clip)
    assert main([*args, "-o", str(out)]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"training diverged at step 15: the gradient norm is nan; {out} is left as " \
        f"the last checkpoint written" in err, err
    arrays, meta = load_checkpoint(out)
    assert meta["step"] == 10 and all(np.isfinite(a).all() for a in arrays.values() if a.dtype.kind == "f")
    assert not lock_path(out).exists()


def test_the_torch_engine_stops_before_the_update_too(corpus, tmp_path, capsys, monkeypatch):
    """--backend torch checks the loss and the gradient norm before its update: a huge --lr as above (in one
    process and in two), and a gradient made NaN at step 15 while the loss is still finite, which stops the
    run at step 15 (not at 16, after a NaN update) with the step-10 checkpoint."""
    from seqlab.torch_backend.train_step import TorchStep

    args = ["train", str(corpus), "--hidden", "8", "--steps", "200", "--eval-every", "10", "--checkpoint-every",
            "10", "--sample-every", "0", "--quiet", "--backend", "torch", "--threads", "1"]
    for n, out in (("1", tmp_path / "lr.npz"), ("2", tmp_path / "lr2.npz")):
        capsys.readouterr()
        assert main([*args, "--cell", "rnn", "--lr", "1e35", "--clip", "0", "--devices", n, "-o", str(out)]) == 3
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err
        m = re.match(r"seqlab train: error: training diverged at step (\d+): the (loss|gradient norm) is", err)
        assert m and "try a lower --lr" in err, err
        if out.exists():
            assert load_checkpoint(out)[1]["step"] == (int(m.group(1)) - 1) // 10 * 10
        else:
            assert "no checkpoint was written" in err
        assert not lock_path(out).exists()

    real_init = TorchStep.__init__

    def init(self, *a, **kw):
        real_init(self, *a, **kw)
        self.params[0].register_hook(lambda g: g * math.nan if self.opt.t == 14 else g)   # step 15's

    monkeypatch.setattr(TorchStep, "__init__", init)
    out = tmp_path / "m.npz"
    capsys.readouterr()
    assert main([*args, "-o", str(out)]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"training diverged at step 15: the gradient norm is nan; {out} is left as " \
        f"the last checkpoint written" in err, err
    arrays, meta = load_checkpoint(out)
    assert meta["step"] == 10 and all(np.isfinite(a).all() for a in arrays.values() if a.dtype.kind == "f")


def test_a_loss_far_above_a_uniform_guess_warns_once_when_divergence_is_allowed(corpus, tmp_path, capsys):
    # without --allow-divergence the run stops there, exit status 3 (tests/test_divergence.py)
    capsys.readouterr()
    assert main(["train", str(corpus), "--cell", "rnn", "--hidden", "8", "--lr", "50", "--clip", "0",
                 "--steps", "230", "--eval-every", "100", "--checkpoint-every", "0", "--sample-every", "0",
                 "--quiet", "--allow-divergence", "-o", str(tmp_path / "m.npz")]) == 0
    out = capsys.readouterr().out
    assert out.count("warning: the training loss has stayed above 3 × ln") == 1, out
    assert "try --lr 0.002 and --clip 5, the defaults (this run: --lr 50, --clip 0)" in out


# ----------------------------------------------------------------------------------- the lock
HOLD = """
import sys, time
from seqlab.runlock import RunLock
lock = RunLock(sys.argv[1]).acquire()
print("locked", flush=True)
time.sleep(60)
"""


def test_a_second_run_on_the_same_output_is_refused(corpus, tmp_path, capsys):
    out = tmp_path / "m.npz"
    holder = _start([str(out)], HOLD)
    try:
        _wait_for(holder, "locked")
        capsys.readouterr()
        assert main(["train", str(corpus), "--steps", "5", "--quiet", "-o", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"{out} is being written by another seqlab train (pid {holder.pid} " in err
        assert not out.exists()
    finally:
        holder.kill()
        holder.wait()
    # killed without a chance to clean up: the file stays, the lock does not
    assert lock_path(out).exists()
    notes = []
    with RunLock(out, log=notes.append) as lock:
        assert lock.took_over["pid"] == holder.pid
    assert len(notes) == 1 and f"left by a run that is gone (pid {holder.pid} on" in notes[0]
    assert not lock_path(out).exists()


def test_lock_taken_over_from_a_run_killed_mid_training(corpus, tmp_path, capsys):
    out = tmp_path / "m.npz"
    proc = _start(["train", str(corpus), *TINY, "--steps", "100000", "--checkpoint-every", "5", "-o", str(out)])
    _wait_for(proc, r"step 10: training")
    proc.kill()   # SIGKILL: no handler runs
    proc.communicate(timeout=30)
    assert lock_path(out).exists()
    capsys.readouterr()
    assert main(["train", str(corpus), "--hidden", "8", "--steps", "3", "--quiet", "-o", str(out)]) == 0
    assert "note: took over the lock" in capsys.readouterr().out
    assert not lock_path(out).exists() and load_checkpoint(out)[1]["step"] == 3


# ----------------------------------------------------------------------------------- space and writes
def test_unwritable_or_missing_output_folder_fails_before_training(corpus, tmp_path, capsys):
    for out, words in ((tmp_path / "nope" / "m.npz", "does not exist"), (Path("/sys/m.npz"), "not writable")):
        capsys.readouterr()
        assert main(["train", str(corpus), "--steps", "5", "--quiet", "-o", str(out)]) == 2
        out_, err = capsys.readouterr()
        assert err.count("\n") == 1 and words in err and "model:" not in out_, err


def test_full_disk_during_a_save_keeps_the_previous_checkpoint(corpus, tmp_path, capsys, monkeypatch):
    out = tmp_path / "m.npz"
    saves = []
    real_fsync = os.fsync

    def fsync(fd):
        if os.readlink(f"/proc/self/fd/{fd}").startswith(str(tmp_path / ".m.npz.")):   # a checkpoint's
            saves.append(fd)
        if len(saves) == 2:   # the second checkpoint's write hits a full disk
            raise OSError(28, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    capsys.readouterr()
    status = main(["train", str(corpus), "--hidden", "8", "--steps", "30", "--eval-every", "5",
                   "--checkpoint-every", "10", "--sample-every", "0", "--quiet", "-o", str(out)])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1
    assert f"cannot write {out}: No space left on device (the previous file is unchanged)" in err
    assert load_checkpoint(out)[1]["step"] == 10
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]   # no temporary, no lock


# ----------------------------------------------------------------------------------- progress
class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_is_a_bar_on_a_terminal_and_lines_elsewhere(corpus, tmp_path, capsys, monkeypatch):
    args = ["train", str(corpus), "--hidden", "8", "--steps", "20", "--eval-every", "10", "--sample-every", "0",
            "--checkpoint-every", "0", "-o", str(tmp_path / "m.npz")]
    capsys.readouterr()
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert "\r" not in err and "\r" not in out
    evals = [line for line in out.splitlines() if line.startswith("  step ")]
    assert len(evals) == 2 and all(re.search(r"\[step \d+/20, [\d,]+ chars/s, \d+ s\]$", e) for e in evals)

    term = _Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    assert main(args) == 0
    bar = term.getvalue()
    assert "\r" in bar and re.search(r"\d+/20 .*step", bar), bar


def test_lock_refuses_while_held_in_this_process_too(tmp_path):
    with RunLock(tmp_path / "m.npz"):
        with pytest.raises(UserError, match="being written by another seqlab train"):
            RunLock(tmp_path / "m.npz").acquire()


# ----------------------------------------------------------------------------------- jazz and the builds
def _song(folder: Path, name: str = "song.mid", transpose: int = 0) -> Path:
    """test_music's tune four times over (enough values to train on); `transpose` makes another file."""
    tune = [(o + 8 * k, d, p + transpose) for k in range(4) for o, d, p in MELODY]
    chords = [(o + 8 * k, d, p + transpose) for k in range(4) for o, d, p in CHORDS]
    path = folder / name
    path.write_bytes(_smf(_track(chords, 0, "Keys"), _track(tune, 1, "Lead")))
    return path


def _model_arrays(path) -> dict:
    return {k: v for k, v in load_checkpoint(path)[0].items() if k.startswith(("lstm.", "dense.", "model."))}


class _StopAfter(StopFlag):
    """A stop request at poll n + 1 (the trainers poll once per step or epoch), as if a signal came then."""

    def __init__(self, n: int):
        super().__init__()
        self.polls, self.n = 0, n

    def __call__(self) -> bool:
        self.polls += 1
        if self.polls > self.n:
            self.request("test", signal.SIGINT)
        return super().__call__()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_jazz_training_signal_saves_a_state_that_resumes_bit_for_bit(tmp_path, capsys, sig):
    song, solo = _song(tmp_path), tmp_path / "solo.mid"
    # SIGINT: the state goes beside the solo; SIGTERM: to --save-model, and a second signal comes mid-write
    kept = ["--save-model", str(tmp_path / "kept.npz")] if sig == signal.SIGTERM else []
    state = tmp_path / ("kept.npz" if kept else "solo.train.npz")
    options = ["--start", "0", "--seed", "2", "--bpm", "150"]
    proc = _start(["jazz", "--train", str(song), "--epochs", "100000", *options, *kept, "-o", str(solo)],
                  SECOND_SIGNAL if sig == signal.SIGTERM else None)
    _wait_for(proc, r"epoch +20 ")
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == {signal.SIGINT: 130, signal.SIGTERM: 143}[sig], stderr
    m = re.search(r"^interrupted at epoch (\d+) of 100000: saved (\S+); continue with: (seqlab jazz .*)$", stderr,
                  re.M)
    assert m and m.group(2) == str(state) and "Traceback" not in stderr, stderr
    assert "finishing this epoch" in stderr and not solo.exists()
    if sig == signal.SIGTERM:
        assert "still saving the checkpoint" in stderr
    epoch = int(m.group(1))
    assert epoch >= 20 and load_bundle(state).info["epochs_trained"] == epoch   # it plays with --model as it is
    command = shlex.split(m.group(3))
    assert command[:4] == ["seqlab", "jazz", "--train", str(song)] and " --start 0.0 " in m.group(3)
    assert command[command.index("--resume") + 1:][:3] == [str(state), "--epochs", "100000"]
    assert {"--seed", "2", "--bpm", "150.0", "-o", str(solo)} <= set(command)
    assert ("--save-model" in command) == bool(kept)

    # Continue as the line says (to a nearer total), and compare with one uninterrupted run.
    total = epoch + 5
    command[command.index("--epochs") + 1] = str(total)
    capsys.readouterr()
    assert main(command[1:]) == 0
    assert f"continuing {state} from epoch {epoch}" in capsys.readouterr().out
    straight = tmp_path / "straight.npz"
    assert main(["jazz", "--train", str(song), "--epochs", str(total), *options, "--save-model", str(straight),
                 "-o", str(tmp_path / "straight.mid")]) == 0
    _same(_model_arrays(state), _model_arrays(straight))
    assert "resume" not in load_checkpoint(state)[1]   # the finished model replaced the training state
    assert load_bundle(state).info == load_bundle(straight).info
    assert solo.read_bytes() == (tmp_path / "straight.mid").read_bytes()


def test_jazz_resume_refuses_what_it_cannot_continue(tmp_path, capsys):
    from seqlab.data import sha256_file
    from seqlab.music.bundle import default_path
    from seqlab.music.midi import load_section
    from seqlab.music.train import JazzRun
    from seqlab.pretrained.build import MODELS_DIR

    song, other = _song(tmp_path), _song(tmp_path, "other.mid", transpose=2)
    run = JazzRun.on(load_section(song), sha256_file(song), epochs=3)
    run.train(should_stop=lambda: True)   # one epoch, then a stop request
    state = str(run.save(tmp_path / "state.npz"))
    arrays, meta = load_checkpoint(state)
    meta["resume"]["rng"] = {"bit_generator": "MT19937"}
    save_checkpoint(tmp_path / "damaged.npz", arrays, meta)
    solo = str(tmp_path / "solo.mid")
    for argv, words in (
            (["--train", str(other), "--resume", state], "state.npz was trained on another MIDI file (song.mid, "
                                                          "sha256 "),
            (["--train", str(song), "--end", "28", "--resume", state], "state.npz was trained on another section "
                                                                       "of song.mid (end 32.0 there, 28.0 here)"),
            (["--train", str(song), "--resume", str(default_path())], "holds a finished jazz model, not a training"),
            (["--train", str(song), "--resume", str(MODELS_DIR / "dinos.npz")],
             "is not a jazz training checkpoint (a seqlab checkpoint of kind 'char-model')"),
            (["--train", str(song), "--resume", str(song)], "song.mid is not a seqlab checkpoint"),
            (["--train", str(song), "--resume", state, "--epochs", "1"], "state.npz is already at epoch 1; ask for "
                                                                         "more --epochs"),
            (["--train", str(song), "--resume", str(tmp_path / "damaged.npz")], "damaged.npz has a damaged "
                                                                                 "training state (ValueError: "),
            (["--resume", state], "--resume only applies with --train MIDI")):
        capsys.readouterr()
        assert main(["jazz", *argv, "-o", solo]) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and words in err, (argv, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["damaged.npz", "other.mid", "song.mid", "state.npz"]


@pytest.mark.data
def test_an_interrupted_jazz_build_continues_to_the_bundled_model(tmp_path, monkeypatch):
    from conftest import dataset_path
    from seqlab.music import train as music_train
    from seqlab.music.bundle import default_path
    from seqlab.music.train import build_jazz_model
    from seqlab.stopping import Interrupted

    # music21 takes seconds to read the Metheny file, the same each time
    monkeypatch.setattr(music_train, "load_section", functools.lru_cache(music_train.load_section))

    metheny, work, out, said = dataset_path("metheny"), tmp_path / "work", tmp_path / "jazz.npz", []
    work.mkdir()
    state = work / "jazz.npz"
    with pytest.raises(Interrupted, match=rf"at epoch 3 of 100: saved {re.escape(str(state))}; running the same "
                                          rf"build again continues from epoch 3"):
        build_jazz_model(out, midi=_song(tmp_path), work=work, should_stop=_StopAfter(2), say=said.append)
    with pytest.raises(Interrupted, match="at epoch 40 of 100"):
        build_jazz_model(out, midi=metheny, work=work, should_stop=_StopAfter(39), say=said.append)
    assert not out.exists() and said[0].startswith(f"jazz: {state} was trained on another MIDI file (song.mid")
    assert said[0].endswith("; starting afresh")
    build_jazz_model(out, midi=metheny, work=work, say=said.append)
    assert said[1:] == [f"jazz: continuing {state} from epoch 40"]
    assert list(work.iterdir()) == []
    # Bit for bit what an uninterrupted build gives on this machine. (Not the bundled file's bytes: the last
    # bits of a float32 training depend on which BLAS kernels the CPU gets, AVX2 or AVX-512.)
    whole = tmp_path / "whole.npz"
    build_jazz_model(whole, midi=metheny, work=tmp_path / "work2", say=lambda line: None)
    _same(_model_arrays(out), _model_arrays(whole))
    built, bundled = load_checkpoint(out)[1], load_checkpoint(default_path())[1]   # and the bundled one's recipe
    assert [built["info"][k] for k in ("source", "settings", "command")] == \
        [bundled["info"][k] for k in ("source", "settings", "command")]
    assert {k: v.shape for k, v in _model_arrays(out).items()} == \
        {k: v.shape for k, v in _model_arrays(default_path()).items()}


# The build machinery on a tiny recipe, in its own process. Its news lines are slowed down (they change no
# number) so that a signal lands mid-build.
BUILD = """
import sys, time
from pathlib import Path
from seqlab.pretrained import build
from seqlab.text.train_config import TrainConfig
from seqlab.text.trainer import train
build.MODELS_DIR, corpus, pause = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
cfg = TrainConfig(hidden=12, batch_size=8, steps=120, eval_every=5, sample_every=0, checkpoint_every=0,
                  dropout=0.1, seed=3)
def log(line):
    print(line, flush=True)
    time.sleep(pause)
build.RECIPES["tiny"] = lambda: build.train_bundled("tiny", corpus, cfg, heldout_file=corpus, log=log)
sys.exit(build.main(["tiny", *sys.argv[4:]]))
"""


def test_an_interrupted_build_saves_its_checkpoint_and_continues_bit_for_bit(corpus, tmp_path):
    models, work, straight = tmp_path / "models", tmp_path / "work", tmp_path / "straight"
    models.mkdir()
    straight.mkdir()
    (models / "tiny.npz").write_bytes(b"the previous model")
    proc = _start([str(models), str(corpus), "0.05", "--work", str(work)], BUILD)
    _wait_for(proc, r"step 10: training")
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    ckpt, out = work / "tiny.npz", models / "tiny.npz"
    m = re.search(rf"^build tiny: interrupted at step (\d+) of 120: saved {re.escape(str(ckpt))}; running the "
                  rf"same build again continues from step \1 \({re.escape(str(out))} is unchanged\)$", stderr, re.M)
    assert m and "Traceback" not in stderr, stderr
    step = int(m.group(1))
    assert 10 <= step < 120 and load_checkpoint(ckpt)[1]["step"] == step
    assert out.read_bytes() == b"the previous model"

    def build(*argv):
        done = subprocess.run([sys.executable, "-c", BUILD, *argv], capture_output=True, text=True, env=ENV,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert f"tiny: continuing {ckpt} from step {step}" in build(str(models), str(corpus), "0", "--work", str(work))
    assert list(work.iterdir()) == []   # the model is written: nothing left to continue
    build(str(straight), str(corpus), "0", "--work", str(tmp_path / "work2"))
    _same(_model_arrays(out), _model_arrays(straight / "tiny.npz"))
    assert load_checkpoint(out)[1]["step"] == 120 and (models / "tiny.loss.png").exists()


def test_a_build_checkpoint_of_another_recipe_or_corpus_starts_afresh(corpus, tmp_path, monkeypatch, capsys):
    from seqlab.pretrained import build

    monkeypatch.setattr(build, "MODELS_DIR", tmp_path)
    monkeypatch.setattr(build, "WORK_DIR", tmp_path / "work")
    cfg = TrainConfig(hidden=8, steps=20, eval_every=5, sample_every=0, checkpoint_every=0)
    monkeypatch.setitem(build.RECIPES, "tiny", lambda log=print: build.train_bundled("tiny", corpus, cfg, log=log))
    monkeypatch.setattr(build, "STOP", _StopAfter(6))
    capsys.readouterr()
    assert build.main(["tiny"]) == 130
    assert "build tiny: interrupted at step 6 of 20: saved " in capsys.readouterr().err
    ckpt = tmp_path / "work" / "tiny.npz"
    cfg.lr *= 2   # the recipe changed since
    monkeypatch.setattr(build, "STOP", StopFlag())
    assert build.main(["tiny"]) == 0
    said = capsys.readouterr().out
    assert f"tiny: {ckpt} holds another recipe (lr 0.002 there, 0.004 here); starting afresh" in said, said
    assert load_checkpoint(tmp_path / "tiny.npz")[1]["step"] == 20

    other = tmp_path / "other.txt"
    other.write_text(corpus.read_text() + "omega\n")
    monkeypatch.setitem(build.RECIPES, "tiny", lambda log=print: build.train_bundled("tiny", other, cfg, log=log))
    monkeypatch.setattr(build, "STOP", _StopAfter(6))
    assert build.main(["tiny"]) == 130
    monkeypatch.setitem(build.RECIPES, "tiny", lambda log=print: build.train_bundled("tiny", corpus, cfg, log=log))
    monkeypatch.setattr(build, "STOP", StopFlag())
    assert build.main(["tiny"]) == 0
    assert f"tiny: {ckpt} was trained on other data (sha256 " in capsys.readouterr().out


def test_a_build_checkpoint_continues_when_its_vocab_from_file_moved_but_not_when_it_changed(
        corpus, tmp_path, monkeypatch, capsys):
    """--vocab-from is a path: the same alphabet from a file in another folder (a checkpoint trained by hand
    from `shakespeare_recipe --split DIR`) is the same recipe; another alphabet is not."""
    from dataclasses import replace

    from seqlab.pretrained import build

    monkeypatch.setattr(build, "MODELS_DIR", tmp_path)
    monkeypatch.setattr(build, "WORK_DIR", tmp_path / "work")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder in ("a", "b"):
        (tmp_path / folder / "alphabet.txt").write_text(corpus.read_text())
    cfg = TrainConfig(hidden=8, steps=10, eval_every=5, sample_every=0, checkpoint_every=0,
                      vocab_from=str(tmp_path / "a" / "alphabet.txt"))
    ckpt = tmp_path / "work" / "tiny.npz"
    ckpt.parent.mkdir()
    train(corpus, ckpt, cfg, progress=False, log=lambda *a: None, plot=False)
    lines = []
    moved = replace(cfg, vocab_from=str(tmp_path / "b" / "alphabet.txt"))
    assert build.train_stage("tiny", corpus, moved, ckpt, log=lines.append)["steps_run"] == 0
    assert lines == [f"tiny: {ckpt} is finished already (step 10); not training it again"]

    (tmp_path / "b" / "alphabet.txt").write_text(corpus.read_text() + "#\n")
    lines.clear()
    assert build.train_stage("tiny", corpus, moved, ckpt, log=lines.append)["steps_run"] == 10
    assert lines[0].startswith(f"tiny: {ckpt} holds another recipe (vocab_from "), lines


# `python -m seqlab.pretrained.build shakespeare --work WORK` (runpy, as -m does: the file runs as __main__
# beside the module the recipe imports) on tiny configs, with SIGINT sent to itself at step 5 of stage 1:
# once (HOOK=once) or twice, 0.5 s apart (HOOK=twice).
MODULE_BUILD = """
import os, runpy, signal, sys, time
from dataclasses import replace
from pathlib import Path
from seqlab.pretrained import build, shakespeare_recipe as r
from seqlab.text import trainer
tiny = dict(hidden=8, layers=1, embed=8, batch_size=4, seq_len=20, steps=12, decay_steps=12, eval_every=12,
            checkpoint_every=0, sample_every=0)
r.PLAYS_CONFIG = replace(r.PLAYS_CONFIG, **tiny)
r.SHAKESPEARE_CONFIG = replace(r.SHAKESPEARE_CONFIG, **tiny)
plays = r.plays_corpus
r.plays_corpus = lambda text, alphabet: plays(text[:50_000], alphabet)
build.MODELS_DIR = Path(sys.argv[1])
real_step, sent = trainer._train_step, []
def step(run, *a):
    out = real_step(run, *a)
    if run.step == 5 and not sent:
        sent.append(1)
        os.kill(os.getpid(), signal.SIGINT)
        if os.environ["HOOK"] == "twice":
            time.sleep(0.5)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(30)
    return out
trainer._train_step = step
sys.argv = ["build", "shakespeare", "--work", sys.argv[2]]
runpy.run_module("seqlab.pretrained.build", run_name="__main__")
"""


@pytest.mark.data
@pytest.mark.parametrize("hook", ["once", "twice"])
def test_a_build_run_as_a_module_stops_on_ctrl_c_and_keeps_its_work_folder(tmp_path, hook):
    """As `make models` runs it: the signal reaches the loop of the recipe in another module, the checkpoint
    goes to --work, and a second Ctrl-C outside a save quits at once with one line, no traceback."""
    from conftest import dataset_path

    dataset_path("shakespeare"), dataset_path("tinyshakespeare")
    models, work = tmp_path / "models", tmp_path / "work"
    models.mkdir()
    proc = subprocess.run([sys.executable, "-c", MODULE_BUILD, str(models), str(work)], capture_output=True,
                          text=True, env={**ENV, "HOOK": hook}, timeout=60)
    assert proc.returncode == 130, proc.stderr
    assert "Traceback" not in proc.stderr and list(models.iterdir()) == [], proc.stderr
    last = proc.stderr.splitlines()[-1]
    if hook == "once":
        assert last == (f"build shakespeare: interrupted at step 5 of 12 of stage 1 (the plays): saved "
                        f"{work / 'shakespeare-plays.npz'}; running the same build again continues from step 5 "
                        f"({models / 'shakespeare.npz'} is unchanged)"), proc.stderr
        assert load_checkpoint(work / "shakespeare-plays.npz")[1]["step"] == 5
    else:
        assert last == (f"build shakespeare: interrupted; {models / 'shakespeare.npz'} is unchanged, and the "
                        f"build continues from the last checkpoint saved in {work}"), proc.stderr
        assert not (work / "shakespeare-plays.npz").exists()


@pytest.mark.data
def test_an_interrupted_two_stage_build_continues_and_keeps_a_finished_stage(tmp_path, monkeypatch, capsys):
    """The shakespeare recipe on tiny configs: stopped in stage 1, then in stage 2, then finished; the same
    model as one uninterrupted build, and stage 1 trained once."""
    from dataclasses import replace

    from conftest import dataset_path
    from seqlab.pretrained import build, shakespeare_recipe

    dataset_path("shakespeare"), dataset_path("tinyshakespeare")
    tiny = dict(hidden=8, layers=1, embed=8, batch_size=4, seq_len=20, steps=12, decay_steps=12, eval_every=12,
                checkpoint_every=0, sample_every=0)
    monkeypatch.setattr(shakespeare_recipe, "PLAYS_CONFIG", replace(shakespeare_recipe.PLAYS_CONFIG, **tiny))
    monkeypatch.setattr(shakespeare_recipe, "SHAKESPEARE_CONFIG",
                        replace(shakespeare_recipe.SHAKESPEARE_CONFIG, **tiny))
    plays = shakespeare_recipe.plays_corpus   # the first 50,000 characters are plays enough here
    monkeypatch.setattr(shakespeare_recipe, "plays_corpus", lambda text, alphabet: plays(text[:50_000], alphabet))
    models, work = tmp_path / "models", tmp_path / "work"
    models.mkdir()
    monkeypatch.setattr(build, "MODELS_DIR", models)
    capsys.readouterr()
    for stop, status in ((_StopAfter(5), 130), (_StopAfter(7 + 4), 130), (StopFlag(), 0)):
        monkeypatch.setattr(build, "STOP", stop)
        assert build.main(["shakespeare", "--work", str(work)]) == status
    out, err = capsys.readouterr()
    assert "interrupted at step 5 of 12 of stage 1 (the plays): saved " in err
    assert "interrupted at step 4 of 12 of stage 2 (the sonnets): saved " in err
    assert f"shakespeare stage 1: continuing {work / 'shakespeare-plays.npz'} from step 5" in out
    assert "shakespeare stage 1: " in out and "is finished already (step 12); not training it again" in out
    assert f"shakespeare: continuing {work / 'shakespeare.npz'} from step 4" in out
    assert list(work.iterdir()) == []

    monkeypatch.setattr(build, "MODELS_DIR", tmp_path)
    assert build.main(["shakespeare", "--work", str(tmp_path / "work2")]) == 0
    _same(_model_arrays(models / "shakespeare.npz"), _model_arrays(tmp_path / "shakespeare.npz"))
