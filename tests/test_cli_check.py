"""`seqlab check` passes on the real engine and reports a broken one with exit status 1."""

from __future__ import annotations

import numpy as np

from seqlab import checks
from seqlab.cli import main


def test_check_passes_and_prints_a_table(capsys):
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert "course lstm_cell_backward" in out and "FAIL" not in out
    assert out.strip().splitlines()[-1] == f"{len(checks.CHECKS)} passed, 0 failed"


def test_check_fails_when_the_math_is_wrong(monkeypatch, capsys):
    # A sign error in the LSTM's recurrent gradient must be caught by the course values and the gradient check.
    from seqlab.engine import lstm

    real = lstm.LSTM.backward

    def broken(self, dout, dstate=None):
        dx, ds = real(self, dout, dstate)
        self.grads["W_h"] *= -1.0
        return dx, ds

    monkeypatch.setattr(lstm.LSTM, "backward", broken)
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert "course lstm_cell_backward" in out and "FAIL" in out
    assert "gradient check LSTM (sigmoid)" in [s[:30].strip() for s in out.splitlines() if "FAIL" in s]


def test_check_reports_a_crash_as_a_failure():
    results = checks.run_checks([("boom", lambda: 1 / 0), ("fine", lambda: True)])
    assert results[0][:2] == ("boom", False) and "ZeroDivisionError" in results[0][2]
    assert results[1] == ("fine", True, "")


def test_check_leaves_the_global_random_state_alone():
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    checks.run_checks()
    np.testing.assert_array_equal(np.random.get_state()[1], before)
