"""A run that runs away with finite numbers (seqlab.divergence): its training loss stays above 3 × ln V for 100
steps. `seqlab train` (both engines) and `seqlab jazz --train` stop it as they stop a NaN: exit status 3, one
line suggesting the defaults, the last checkpoint written before the loss rose kept; `--allow-divergence`
keeps the old behaviour (one warning, the run goes on). Real processes for the exit statuses and the files."""

from __future__ import annotations

import math
import re
import subprocess
import sys

import numpy as np
import pytest

from seqlab.checkpoint import load_checkpoint
from seqlab.cli import main
from seqlab.divergence import WINDOW
from seqlab.runlock import lock_path
from seqlab.text.train_config import TrainConfig
from test_faults import ENV, _song, _StopAfter

# An RNN of 8 with Adam warming up to lr 50, unclipped: it learns for a few dozen steps, then its loss climbs
# to tens of nats/char and stays there (finite: the NaN check never fires).
RUNAWAY = ["--cell", "rnn", "--hidden", "8", "--lr", "50", "--warmup", "500", "--clip", "0", "--steps", "400",
           "--eval-every", "20", "--checkpoint-every", "20", "--sample-every", "0", "--quiet", "--threads", "1"]
DIVERGED = re.compile(r"seqlab train: error: training diverged at step (\d+): the training loss has stayed above "
                      r"3 × ln 17 = 8\.50 nats/char \(far worse than a uniform guess\) for 100 steps, (\S+) at the "
                      r"last; (.*); try (.*), or --allow-divergence to train on regardless\n")
CLI = "import sys; from seqlab.cli import main; sys.exit(main(sys.argv[1:]))"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    p = tmp_path_factory.mktemp("runaway") / "words.txt"
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"]
    p.write_text("\n".join(np.random.default_rng(0).choice(words, 300)) + "\n", encoding="utf-8")
    return p


def _process(argv, code: str = CLI) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, env=ENV, timeout=120)


def _defaults() -> str:
    d = TrainConfig()
    return f"--lr {d.lr:g} and --clip {d.clip:g}, the defaults"


def test_a_runaway_run_stops_with_exit_3_keeping_the_checkpoint_from_before_it_rose(corpus, tmp_path):
    out = tmp_path / "m.npz"
    done = _process(["train", str(corpus), *RUNAWAY, "-o", str(out)])
    assert done.returncode == 3, done.stderr
    m = DIVERGED.fullmatch(done.stderr)
    assert m, done.stderr
    step, last = int(m.group(1)), float(m.group(2))
    assert WINDOW < step < 400 and math.isfinite(last) and last > 3 * math.log(17)
    assert m.group(3) == f"{out} is left as the last checkpoint written"
    assert m.group(4) == f"{_defaults()} (this run: --lr 50, --clip 0)"
    arrays, meta = load_checkpoint(out)
    # no checkpoint is written while the loss is above the line: the one kept is from before the climb
    assert meta["step"] % 20 == 0 and 0 < meta["step"] <= step - WINDOW
    assert all(np.isfinite(a).all() for a in arrays.values() if a.dtype.kind == "f")
    assert not lock_path(out).exists() and not out.with_name("m.loss.png").exists()
    assert "wrote" not in done.stdout


def test_the_issues_lstm_at_lr_1e30_is_stopped_with_nothing_written(corpus, tmp_path):
    # `seqlab train dinos --lr 1e30 --clip 0` climbed to 1e31 nats/char, warned "try --lr 1e+29" and exited 0
    out = tmp_path / "m.npz"
    done = _process(["train", str(corpus), "--hidden", "8", "--lr", "1e30", "--clip", "0", "--steps", "300",
                     "--eval-every", "50", "--checkpoint-every", "50", "--sample-every", "0", "--quiet",
                     "--threads", "1", "-o", str(out)])
    assert done.returncode == 3, done.stderr
    m = DIVERGED.fullmatch(done.stderr)
    assert m and int(m.group(1)) == WINDOW + 1 and float(m.group(2)) > 1e20, done.stderr   # above from step 2
    assert m.group(3) == "no checkpoint was written" and not out.exists()
    assert m.group(4) == f"{_defaults()} (this run: --lr 1e+30, --clip 0)"


def test_allow_divergence_keeps_the_old_behaviour_and_a_resume_may_add_it(corpus, tmp_path, capsys, monkeypatch):
    out = tmp_path / "m.npz"
    assert main(["train", str(corpus), *RUNAWAY, "--allow-divergence", "-o", str(out)]) == 0
    said = capsys.readouterr().out
    assert said.count("warning: the training loss has stayed above 3 × ln 17 = 8.50 nats/char") == 1, said
    assert f"try {_defaults()} (this run: --lr 50, --clip 0)" in said
    assert said.splitlines()[-1].startswith(f"wrote {out} at step 400")
    assert load_checkpoint(out)[1]["step"] == 400
    # a runtime setting like --backend: a resume may give it without being refused as a changed setting
    short = [*RUNAWAY[:RUNAWAY.index("--steps")], "--steps", "20", *RUNAWAY[RUNAWAY.index("--steps") + 2:]]
    assert main(["train", str(corpus), *short, "-o", str(tmp_path / "r.npz")]) == 0
    assert main(["train", str(corpus), "--resume", str(tmp_path / "r.npz"), "--steps", "40", "--allow-divergence",
                 "-o", str(tmp_path / "r.npz"), "--quiet"]) == 0
    assert load_checkpoint(tmp_path / "r.npz")[1]["step"] == 40
    # and the line that continues an interrupted run repeats it (it is not in the checkpoint)
    monkeypatch.setattr("seqlab.commands.train.StopFlag", lambda: _StopAfter(5))
    capsys.readouterr()
    assert main(["train", str(corpus), *RUNAWAY, "--allow-divergence", "-o", str(tmp_path / "i.npz")]) == 130
    assert capsys.readouterr().err.endswith(f"--resume {tmp_path / 'i.npz'} --steps 400 --allow-divergence\n")


def test_the_torch_engine_stops_a_runaway_run_too(corpus, tmp_path):
    pytest.importorskip("torch")
    for n in ("1", "2"):   # two data-parallel processes see the same all-reduced loss and stop together
        out = tmp_path / f"t{n}.npz"
        done = _process(["train", str(corpus), *RUNAWAY, "--backend", "torch", "--devices", n, "-o", str(out)])
        assert done.returncode == 3, done.stderr
        m = DIVERGED.fullmatch(done.stderr)
        assert m and m.group(4) == f"{_defaults()} (this run: --lr 50, --clip 0)", done.stderr
        assert load_checkpoint(out)[1]["step"] <= int(m.group(1)) - WINDOW and not lock_path(out).exists()


# `seqlab jazz` has no learning-rate option: this process trains at the rate given as its first argument
JAZZ_AT = """
import sys
from seqlab.cli import main
from seqlab.music import train
on = train.JazzRun.on.__func__
train.JazzRun.on = classmethod(lambda cls, *a, **kw: on(cls, *a, **{**kw, "lr": float(sys.argv[1])}))
sys.exit(main(sys.argv[2:]))
"""


def test_jazz_training_stops_a_runaway_run_with_nothing_saved(tmp_path):
    song, solo, kept = _song(tmp_path), tmp_path / "solo.mid", tmp_path / "kept.npz"
    argv = ["jazz", "--train", str(song), "--start", "0", "--epochs", "80", "--save-model", str(kept),
            "-o", str(solo)]
    done = _process(["1e3", *argv], JAZZ_AT)
    assert done.returncode == 3, done.stderr
    assert re.fullmatch(r"seqlab jazz: error: training diverged at epoch 51: the training loss has stayed above "
                        r"3 × ln 10 = 6\.91 nats per value \(far worse than a uniform guess\) for 100 steps, \S+ at "
                        r"the last; nothing was saved; try the default learning rate, 0\.01 \(this run: 1000\), or "
                        r"--allow-divergence to train on regardless\n", done.stderr), done.stderr
    assert not solo.exists() and not kept.exists() and not solo.with_suffix(".train.npz").exists()
    done = _process(["1e3", *argv, "--allow-divergence"], JAZZ_AT)
    assert done.returncode == 0 and solo.exists() and kept.exists(), done.stderr
    assert len(load_checkpoint(kept)[1]["info"]["loss"]) == 80
    # a NaN is never allowed: it stops before the update
    done = _process(["1e300", *argv, "--allow-divergence"], JAZZ_AT)
    assert done.returncode == 3 and re.fullmatch(r"seqlab jazz: error: training diverged at epoch \d+: the "
                                                 r"(loss|gradient norm) is \S+.*; nothing was saved; try the "
                                                 r"default learning rate, 0\.01 \(this run: 1e\+300\)\n",
                                                 done.stderr), done.stderr


def test_allow_divergence_is_a_training_option_in_jazz(capsys):
    assert main(["jazz", "--allow-divergence", "-o", "x.mid"]) == 2
    assert "--allow-divergence only applies with --train MIDI" in capsys.readouterr().err
