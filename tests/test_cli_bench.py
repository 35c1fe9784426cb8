"""`seqlab bench`: the JSON contract and bad options (no timing is asserted: that belongs to benchmarks)."""

from __future__ import annotations

import json

from seqlab.cli import main


def test_bench_json_holds_only_the_result_list(capsys):
    assert main(["bench", "--json", "-T", "3", "-B", "2", "-D", "3", "-H", "4", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    rows = json.loads(out)
    assert [r["cell"] for r in rows] == ["lstm", "gru", "rnn"]
    for r in rows:
        assert set(r) == {"cell", "seqlab_ms", "torch_ms", "ratio"}
        assert r["seqlab_ms"] > 0 and r["torch_ms"] > 0
        assert abs(r["ratio"] - r["seqlab_ms"] / r["torch_ms"]) <= 0.02 * r["ratio"] + 1e-4


def test_bench_table_and_bad_cell(capsys):
    assert main(["bench", "--cells", "gru", "-T", "2", "-B", "1", "-D", "2", "-H", "2", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert "ratio" in out and "gru" in out and "lstm" not in out.split("\n", 2)[2]
    assert main(["bench", "--cells", "transformer"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--cells must name lstm, gru or rnn" in err
