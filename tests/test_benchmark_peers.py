"""The benchmarks' peers (plain pandas groupby-apply versions written from the documented
rules) agree with riskkit loan by loan. Small sizes and no timing here: speed lives in
``make bench``; this keeps the peers honest whenever a rule changes."""

from __future__ import annotations

import pytest

from benchmarks import bench_classification, bench_delinquency

pytestmark = pytest.mark.slow  # the benchmark peers, loan by loan: in make test, not test-fast


@pytest.mark.parametrize("bench", [bench_delinquency, bench_classification])
def test_peer_agrees_loan_by_loan(bench, capsys):
    bench.main(["--loans", "3000", "--peer-loans", "400"])  # SystemExit on disagreement
    text = capsys.readouterr().out
    assert "3,000 loans" in text and "disagree" not in text
