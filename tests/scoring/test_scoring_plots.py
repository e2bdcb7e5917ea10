"""Plots return matplotlib Figures with the plotted data; nothing is shown."""

from __future__ import annotations

import numpy as np
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
