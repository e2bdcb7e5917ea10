"""Plots return matplotlib Figures with the plotted data; nothing is shown."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from riskkit.scoring import OptimalBinning
from riskkit.scoring.plots import plot_bins, plot_calibration, plot_roc_ks, plot_score_distribution


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(1)
    x = rng.normal(size=2000)
    x[:100] = np.nan
    y = (rng.random(2000) < 1 / (1 + np.exp(1 - x))).astype(int)
    return x, y


def test_plot_bins_shows_rates_and_woe(data):
    x, y = data
    ob = OptimalBinning("income").fit(x, y)
    fig = plot_bins(ob)
    assert isinstance(fig, Figure)
    ax, ax2 = fig.axes
    heights = [p.get_height() for p in ax.patches]
    np.testing.assert_allclose(heights, ob.table_["event_rate"].fillna(0))
    np.testing.assert_allclose(ax2.lines[0].get_ydata(), ob.table_["woe"])
    assert "income" in ax.get_title()


def test_score_roc_calibration_plots(data):
    x, y = data
    p = 1 / (1 + np.exp(1 - np.nan_to_num(x)))
    score = 600 - 28.85 * np.log(p / (1 - p))
    for fig in (plot_score_distribution(score, y), plot_roc_ks(y, p), plot_calibration(y, p)):
        assert isinstance(fig, Figure) and fig.axes
    roc = plot_roc_ks(y, p)
    assert "AUC" in roc.axes[0].get_legend().get_texts()[0].get_text()


def test_calibration_curve_plot_draws_the_curve_and_reports_reuse_it(data):
    import pandas as pd

    from riskkit.reports import figures
    from riskkit.scoring.metrics import calibration_curve
    from riskkit.scoring.plots import plot_calibration_curve

    x, y = data
    p = 1 / (1 + np.exp(1 - np.nan_to_num(x)))
    curve = calibration_curve(y, p, n_bins=5)
    line = plot_calibration_curve(curve, title="t").axes[0].lines[1]
    np.testing.assert_allclose(line.get_xdata(), curve["pd_mean"])
    np.testing.assert_allclose(line.get_ydata(), curve["default_rate"])
    # the report's former helpers draw with the same functions, and warn
    with pytest.warns(DeprecationWarning, match="calibration_plot is deprecated"):
        old = figures.calibration_plot(curve, "t")
    np.testing.assert_allclose(old.axes[0].lines[1].get_ydata(), curve["default_rate"])
    with pytest.warns(DeprecationWarning, match="score_histogram is deprecated"):
        hist = figures.score_histogram(pd.Series(p), y, "t")
    assert isinstance(hist, Figure) and len(hist.axes[0].patches) == 60  # 30 bins x good/bad


def test_score_histogram_of_whole_points_has_no_comb():
    """Scores 480..579, each 10 times (the goods 480..529): 40 equal bins over 99 points would
    alternate 2 and 3 scores per bin (a comb); bins of 3 whole points give the goods 16 equal
    bars of 30 rows (480-482 ... 525-527), then 20 rows (528-529)."""
    s = np.repeat(np.arange(480, 580), 10)
    fig = plot_score_distribution(s, np.r_[np.zeros(500), np.ones(500)], bins=40)
    heights = [p.get_height() for p in fig.axes[0].patches]
    good = np.asarray(heights[: len(heights) // 2]) * 500 * 3  # density -> rows per bin
    assert np.allclose(good[:16], 30) and good[16] == pytest.approx(20)  # 480-527 | 528-530


def test_psi_auc_plot_draws_the_auc_interval():
    from riskkit.scoring.plots import plot_psi_auc

    bp = pd.DataFrame(
        {"psi": [0.0, 0.02, 0.05], "auc": [0.70, 0.66, np.nan], "auc_lower": [0.68, 0.60, np.nan],
         "auc_upper": [0.72, 0.72, np.nan], "reference": [True, False, False]},
        index=["reference", "2025Q3", "2025Q4"],
    )  # fmt: skip
    ax = plot_psi_auc(bp).axes[1]
    segs = [seg for c in ax.collections for seg in c.get_segments()]
    assert [(s[0][1], s[1][1]) for s in segs[:2]] == [(0.68, 0.72), (0.60, 0.72)]
