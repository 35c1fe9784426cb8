"""bench/tinyshakespeare.py as a user runs it: both libraries on the same weights and batches, --json, --dropout."""

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import dataset_path

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "tinyshakespeare.py"
SMALL = ["--steps", "20", "--hidden", "16", "--threads", "1", "--points", "0", "--json"]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def runs() -> dict:
    dataset_path("tinyshakespeare")
    out = {}
    for p in ("0", "0.25"):
        done = run(*SMALL, "--dropout", p, *(["--chunks", "40000"] if p == "0" else []))
        assert done.returncode == 0, done.stderr
        out[p] = json.loads(done.stdout)
        out[p + " stderr"] = done.stderr
    return out


@pytest.mark.data
def test_json_has_the_issues_keys_and_the_ratio_is_theirs(runs):
    r = runs["0"]
    assert set(r) == {"seqlab", "torch", "step_time_ratio"}
    for name in ("seqlab", "torch"):
        assert set(r[name]) == {"val_nats_per_char", "seconds_per_step", "steps"}
        assert r[name]["steps"] == 20
    assert r["step_time_ratio"] == pytest.approx(r["seqlab"]["seconds_per_step"] / r["torch"]["seconds_per_step"])


@pytest.mark.data
def test_without_dropout_both_libraries_compute_the_same_score(runs):
    r = runs["0"]
    # below the uniform guess over 65 characters, ln 65 = 4.17: learning happened, identically in both
    assert r["seqlab"]["val_nats_per_char"] < math.log(65) - 0.05
    assert r["seqlab"]["val_nats_per_char"] == pytest.approx(r["torch"]["val_nats_per_char"], abs=1e-4)


@pytest.mark.data
def test_dropout_changes_training_in_both_and_they_stay_close(runs):
    with_dropout, without = runs["0.25"], runs["0"]
    for name in ("seqlab", "torch"):
        assert abs(with_dropout[name]["val_nats_per_char"] - without[name]["val_nats_per_char"]) > 1e-4
    # each library draws its own masks, so the scores differ a little, not by a different training
    assert with_dropout["seqlab"]["val_nats_per_char"] == pytest.approx(
        with_dropout["torch"]["val_nats_per_char"], abs=0.05)


@pytest.mark.data
def test_chunks_score_each_part_carried_and_fresh_and_add_up_to_the_whole(runs):
    lines = runs["0 stderr"].split("carried state / fresh state\n")[1].splitlines()
    rows = [re.fullmatch(r"\s*([\d,]+)-([\d,]+)\s+(\S+) / (\S+)", line).groups() for line in lines]
    spans = [(int(a.replace(",", "")), int(b.replace(",", ""))) for a, b, _, _ in rows]
    assert spans == [(0, 40_000), (40_000, 80_000), (80_000, 111_539)]   # 111,540 characters, 111,539 predicted
    carried = [float(c) for _, _, c, _ in rows]
    whole = sum(c * (b - a) for c, (a, b) in zip(carried, spans)) / 111_539
    assert whole == pytest.approx(runs["0"]["seqlab"]["val_nats_per_char"], abs=1e-4)   # stdout is JSON only
    for _, _, c, f in rows:   # a zero state and the carried one give nearly the same score over 40,000
        assert abs(float(c) - float(f)) < 0.01


def test_bad_chunks_are_one_line_and_exit_2():
    done = run("--chunks", "1")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last == "tinyshakespeare.py: error: --chunks must be at least 2 characters, got 1"


@pytest.mark.parametrize("value", ["1", "-0.1"])
def test_a_bad_dropout_is_one_line_and_exit_2(value):
    done = run("--dropout", value)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last == f"tinyshakespeare.py: error: --dropout must be in [0, 1), got {float(value)}"


@pytest.mark.data
def test_the_levers_without_masks_give_both_libraries_the_same_score_on_the_dev_slice():
    """--warmup, --weight-decay (AdamW) and --ema are deterministic: with no dropout both libraries agree;
    --dev scores the last 5% of the training part under its own key and never reads the validation part."""
    dataset_path("tinyshakespeare")
    plain = run(*SMALL, "--dropout", "0", "--dev")
    levers = run(*SMALL, "--dropout", "0", "--dev", "--warmup", "5", "--weight-decay", "0.5", "--ema", "0.8")
    for done in (plain, levers):
        assert done.returncode == 0, done.stderr
        assert "953,661 training / 50,193 dev characters" in done.stderr
    a, b = json.loads(plain.stdout), json.loads(levers.stdout)
    assert set(a["seqlab"]) == {"dev_nats_per_char", "seconds_per_step", "steps"}
    assert b["seqlab"]["dev_nats_per_char"] == pytest.approx(b["torch"]["dev_nats_per_char"], abs=1e-4)
    assert abs(a["seqlab"]["dev_nats_per_char"] - b["seqlab"]["dev_nats_per_char"]) > 1e-3   # they acted


@pytest.mark.data
def test_variational_dropout_runs_in_both_and_a_bad_lever_is_one_line():
    dataset_path("tinyshakespeare")
    done = run(*SMALL, "--dropout", "0.25", "--variational")
    assert done.returncode == 0, done.stderr
    r = json.loads(done.stdout)
    assert r["seqlab"]["val_nats_per_char"] == pytest.approx(r["torch"]["val_nats_per_char"], abs=0.05)
    bad = run(*SMALL, "--variational", "--dropout", "0")
    assert bad.returncode == 2 and "--variational says how --dropout's masks are drawn" in bad.stderr
