"""Nothing lost: interrupted, diverging, crowded and failing training runs, with real processes and signals.

SIGINT/SIGTERM finish the step, save a resumable checkpoint and say how to continue; the continued run is bit
for bit the uninterrupted one. NaN/inf stops at once (exit 3) with the last good checkpoint on disk. A second
run on the same output is refused through a lock that a killed run can't leave stuck. A failed write keeps
the previous checkpoint whole. Without a terminal, progress is one line per evaluation.
"""

from __future__ import annotations

import io
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

from seqlab.checkpoint import load_checkpoint
from seqlab.cli import main
from seqlab.errors import UserError
from seqlab.runlock import RunLock, lock_path
from seqlab.stopping import StopFlag
from seqlab.text.train_config import TrainConfig
from seqlab.text.trainer import train

SRC = str(Path(__file__).resolve().parent.parent / "src")
ENV = {**os.environ, "PYTHONPATH": SRC, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"]
TINY = ["--hidden", "12", "--batch-size", "8", "--seq-len", "20", "--eval-every", "5", "--sample-every", "0",
        "--decay-steps", "500", "--dropout", "0.1", "--seed", "3", "--threads", "1"]


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


def _start(argv, script=None):
    code = script or "import sys; from seqlab.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.Popen([sys.executable, "-c", code, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=ENV)


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
    argv = ["train", str(corpus), "--mode", mode, *TINY, "--steps", "100000", "--checkpoint-every", "0",
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
    total = step + 7
    resume = shlex.split(m.group(3))[1:]
    resume[resume.index("--steps") + 1] = str(total)
    assert main([*resume, "--threads", "1", "--quiet"]) == 0
    straight = tmp_path / "straight.npz"
    assert main([*argv[:-4], "--steps", str(total), "--checkpoint-every", "0", "-o", str(straight),
                 "--quiet"]) == 0
    _same(_arrays(out), _arrays(straight))


def test_stop_flag_is_the_same_path_for_any_caller(corpus, tmp_path):
    """What the web playground does: request a stop from a callback; the run saves and says it stopped."""
    flag = StopFlag()
    cfg = TrainConfig(hidden=8, steps=1000, eval_every=4, sample_every=0, checkpoint_every=0)
    stop_at = lambda event: event["step"] == 8 and flag.request("cancelled")  # noqa: E731
    result = train(corpus, tmp_path / "m.npz", cfg, progress=False, log=lambda s: None, callback=stop_at,
                   should_stop=flag)
    assert result["interrupted"] and result["step"] == 8 and flag.reason == "cancelled"
    assert flag.exit_status == 1 and load_checkpoint(tmp_path / "m.npz")[1]["step"] == 8


def test_divergence_stops_at_once_with_the_last_good_checkpoint(corpus, tmp_path, capsys):
    out = tmp_path / "m.npz"
    capsys.readouterr()
    status = main(["train", str(corpus), "--cell", "rnn", "--hidden", "8", "--lr", "1e30", "--clip", "0",
                   "--steps", "200", "--eval-every", "10", "--checkpoint-every", "10", "--sample-every", "0",
                   "--quiet", "-o", str(out)])
    captured = capsys.readouterr()
    assert status == 3
    assert captured.err.count("\n") == 1, captured.err
    m = re.match(r"seqlab train: error: training diverged at step (\d+): the (loss|gradient norm) is", captured.err)
    assert m and "left as the last checkpoint" in captured.err and "try a lower --lr" in captured.err
    arrays, meta = load_checkpoint(out)
    assert meta["step"] == (int(m.group(1)) - 1) // 10 * 10   # the last periodic checkpoint before it
    assert all(np.isfinite(a).all() for a in arrays.values() if a.dtype.kind == "f")
    assert not lock_path(out).exists()


def test_a_loss_far_above_a_uniform_guess_warns_once(corpus, tmp_path, capsys):
    capsys.readouterr()
    assert main(["train", str(corpus), "--cell", "rnn", "--hidden", "8", "--lr", "50", "--clip", "0",
                 "--steps", "230", "--eval-every", "100", "--checkpoint-every", "0", "--sample-every", "0",
                 "--quiet", "-o", str(tmp_path / "m.npz")]) == 0
    out = capsys.readouterr().out
    assert out.count("warning: the training loss has stayed above 3 × ln") == 1, out
    assert "try --lr 5 and --clip 5" in out


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
def test_jazz_training_interrupted_keeps_the_model_and_plays_nothing(tmp_path):
    sys.path.insert(0, str(Path(__file__).parent))
    from seqlab.music.bundle import load_bundle
    from test_music import CHORDS, MELODY, _smf, _track

    song = tmp_path / "song.mid"
    long_tune = [(o + 8 * k, d, p) for k in range(4) for o, d, p in MELODY]
    long_chords = [(o + 8 * k, d, p) for k in range(4) for o, d, p in CHORDS]
    song.write_bytes(_smf(_track(long_chords, 0, "Keys"), _track(long_tune, 1, "Lead")))
    model, solo = tmp_path / "jazz.npz", tmp_path / "solo.mid"
    proc = _start(["jazz", "--train", str(song), "--epochs", "100000", "--save-model", str(model),
                   "-o", str(solo)])
    _wait_for(proc, r"epoch +20 ")
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    m = re.search(rf"^interrupted at epoch (\d+) of 100000: saved {re.escape(str(model))} ", stderr, re.M)
    assert m and "Traceback" not in stderr, stderr
    assert load_bundle(model).info["epochs_trained"] == int(m.group(1)) >= 20
    assert not solo.exists()


def test_an_interrupted_build_writes_nothing(corpus, tmp_path, monkeypatch, capsys):
    from seqlab.pretrained import build
    from seqlab.stopping import StopFlag
    from seqlab.text.train_config import TrainConfig

    monkeypatch.setattr(build, "MODELS_DIR", tmp_path)
    monkeypatch.setattr(build, "STOP", StopFlag())
    cfg = TrainConfig(hidden=8, steps=50, eval_every=5, sample_every=0, checkpoint_every=0)
    monkeypatch.setitem(build.RECIPES, "tiny", lambda log=print: build.train_bundled("tiny", corpus, cfg, log=log))
    build.STOP.request("test", signal.SIGTERM)   # as if SIGTERM came before the first step ended
    capsys.readouterr()
    assert build.main(["tiny"]) == 143
    err = capsys.readouterr().err
    assert f"build tiny: interrupted at step 0 of 50: nothing written, {tmp_path / 'tiny'}.npz is unchanged" in err
    assert list(tmp_path.iterdir()) == []
