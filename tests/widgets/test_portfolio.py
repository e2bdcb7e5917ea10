"""Portfolio what-if callbacks, headless, on a hand-made monthly matrix."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from riskkit.migration import FIVE_CATEGORY, TransitionMatrix
from riskkit.widgets.portfolio import category_balances, portfolio_dashboard, portfolio_path

#       normal  SM    SS    D     L    repaid  w/off
P = np.array(
    [
        [0.90, 0.05, 0.00, 0.00, 0.00, 0.05, 0.00],
        [0.20, 0.60, 0.20, 0.00, 0.00, 0.00, 0.00],
        [0.00, 0.00, 0.70, 0.30, 0.00, 0.00, 0.00],
        [0.00, 0.00, 0.00, 0.80, 0.20, 0.00, 0.00],
        [0.00, 0.00, 0.00, 0.00, 0.50, 0.00, 0.50],
        [0.00, 0.00, 0.00, 0.00, 0.00, 1.00, 0.00],
        [0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 1.00],
    ]
)
BOOK = pd.Series({"normal": 1_000_000.0, "special_mention": 100_000.0, "substandard": 50_000.0})


def _row(html, label):
    m = re.search(rf"<th[^>]*>{label}</th>((?:<td[^>]*>[^<]*</td>)+)", html)
    assert m, label
    return re.findall(r"<td[^>]*>([^<]*)</td>", m.group(1))


def double_down(matrix, kind, value):
    """A scenario for the test: SM -> SS and SS -> D doubled (taken from staying put)."""
    m = matrix.matrix.copy()
    m[1, 2], m[1, 1] = 0.40, 0.40
    m[2, 3], m[2, 2] = 0.60, 0.40
    return TransitionMatrix(m, matrix.states, method="test-stress")


@pytest.fixture
def tm():
    return TransitionMatrix(P, FIVE_CATEGORY)


def test_path_hand_computed(tm):
    path = portfolio_path(tm, category_balances(BOOK, tm.states), 3)
    m1 = path.loc[1]
    # normal 900k + 20k from SM; SM 50k + 60k; SS 20k + 35k; D 15k; repaid 50k
    assert m1[["normal", "special_mention", "substandard", "doubtful", "repaid"]].tolist() == (
        pytest.approx([920_000, 110_000, 55_000, 15_000, 50_000])
    )
    assert m1["outstanding"] == pytest.approx(1_100_000)
    assert m1["npl_ratio"] == pytest.approx(70_000 / 1_100_000)
    # 1% general + 2% SM + 25% SS + 50% D
    assert m1["provisions"] == pytest.approx(11_000 + 2_200 + 13_750 + 7_500)
    # month 2: loss = 20% of 15k; month 3: half of that written off
    assert path.loc[2, "loss"] == pytest.approx(3_000)
    assert path.loc[3, "losses"] == pytest.approx(1_500)
    assert path.loc[0, "npl_ratio"] == pytest.approx(50_000 / 1_150_000)


def test_balances_from_a_classification_frame(tm):
    frame = pd.DataFrame(
        {
            "category": ["normal", "关注", "substandard", "normal"],
            "outstanding_principal": [600_000.0, 100_000.0, 50_000.0, 400_000.0],
        }
    )
    assert category_balances(frame, tm.states).tolist() == [1e6, 1e5, 5e4, 0, 0, 0, 0]


def test_dashboard_baseline_vs_scenario(tm):
    d = portfolio_dashboard(tm, BOOK, horizon=1, stress=double_down)
    assert d.horizon.continuous_update is False and d.multiplier.continuous_update is False
    base, scen, _ = _row(d.summary_out.value, "NPL ratio")
    assert base == "6.36%"  # 70k / 1.1m
    # scenario month 1: SS 40k + 20k = 60k; D 30k -> NPL 90k / 1.1m
    assert scen == "8.18%"
    base, scen, change = _row(d.summary_out.value, "Provisions")
    assert base == "34,450"
    # scenario month 1: SM 50k from normal + 40% of 100k; SS 20% of... see double_down
    sm, ss, dd = 40_000 + 50_000, 20_000 + 40_000, 30_000
    assert scen == f"{11_000 + 0.02 * sm + 0.25 * ss + 0.5 * dd:,.0f}"
    before = d.chart.value
    d.specific["substandard"].value = 30.0  # scenario ratio 30% instead of 25%
    _, scen2, _ = _row(d.summary_out.value, "Provisions")
    assert scen2 == f"{11_000 + 0.02 * sm + 0.30 * ss + 0.5 * dd:,.0f}"
    assert d.chart.value != before
    d.horizon.value = 3
    assert "After 3 month(s)" in d.summary_out.value
    assert len(d.scenario) == 4


def test_stress_kind_switches_control(tm):
    seen = []

    def record(matrix, kind, value):
        seen.append((kind, value))
        return matrix

    d = portfolio_dashboard(tm, BOOK, stress=record)
    d.stress_kind.value = "z"
    d.z.value = -2.0
    assert seen[-1] == ("z", -2.0) and d.multiplier.disabled and not d.z.disabled
    assert "Z = -2.0" in d.summary_out.value
