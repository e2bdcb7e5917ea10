import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from riskkit.book import delinquency_history
from riskkit.errors import ValidationError
from riskkit.migration import CohortEstimator, build_panel, panel_from_history
from riskkit.migration.montecarlo import simulate_book, simulate_panel
from riskkit.migration.plots import (
    plot_category_shares,
    plot_fan_chart,
    plot_stress_comparison,
    plot_transition_matrix,
)
from riskkit.migration.projection import project
from riskkit.migration.rollrates import (
    bucket_panel,
    dpd_bucket,
    roll_forward_rates,
    roll_rate_matrix,
)
from riskkit.migration.stress import bsf_stress, compare
from riskkit.migration.vintage import vintage_curves


@pytest.fixture(scope="module")
def history():
    from riskkit.datasets import make_microloan_book

    book = make_microloan_book(n_loans=400, months=18, seed=2)
    dates = pd.date_range(end=book.as_of_date, periods=12, freq="ME")
    return delinquency_history(book, dates)


def _pandas_pairs(h, state_col):
    """Independent month-to-month transitions with a pandas self-merge."""
    nxt = h[["loan_id", "as_of", state_col]].copy()
    nxt["as_of"] = nxt["as_of"] - pd.offsets.MonthEnd(1)
    m = h[["loan_id", "as_of", state_col]].merge(nxt, on=["loan_id", "as_of"], suffixes=("", "_n"))
    return pd.crosstab(m[state_col], m[state_col + "_n"])


def test_roll_rates_match_pandas_crosstab(history):
    h = history.loc[~history["paid_off"]].copy()  # compare live-to-live moves only
    h["bucket"] = dpd_bucket(h["days_past_due"])
    ct = _pandas_pairs(h, "bucket")
    panel = bucket_panel(history)
    tm = roll_rate_matrix(panel)
    for a in ct.index:
        for b in ct.columns:
            assert tm.counts[tm.states.index(a), tm.states.index(b)] == ct.loc[a, b]
    # rows sum to one, exits absorbing
    np.testing.assert_allclose(tm.matrix.sum(axis=1), 1)
    rf = roll_forward_rates(panel)
    assert list(rf.columns)[0] == "current->dpd_1_30"
    assert rf.index[0] == history["as_of"].min().strftime("%Y-%m")
    first = rf.iloc[0, 0]
    start = h.loc[h["as_of"] == h["as_of"].min()]
    nxt = h.loc[h["as_of"] == h["as_of"].min() + pd.offsets.MonthEnd(1)].set_index("loan_id")
    cur = start.loc[start["bucket"] == "current", "loan_id"]
    repaid_next = history.loc[
        (history["as_of"] == nxt["as_of"].iloc[0])
        & history["paid_off"]
        & history["loan_id"].isin(cur)
    ]
    rolled = (nxt.reindex(cur)["bucket"] == "dpd_1_30").sum()
    denom = nxt.reindex(cur)["bucket"].notna().sum() + len(repaid_next)
    assert first == pytest.approx(rolled / denom)


def test_panel_from_book_history_and_balance_weighted(history):
    h = history.copy()
    mp = h["missed_periods"].to_numpy()
    # simple mapping for the test only (classification engine is another module)
    h["category"] = np.select(
        [mp >= 7, mp >= 4, mp >= 3], ["doubtful", "substandard", "special_mention"], "normal"
    )
    panel = panel_from_history(h)
    assert panel.balance is not None
    est = CohortEstimator(weight="balance").fit(panel)
    np.testing.assert_allclose(est.matrix_.sum(axis=1), 1)
    cnt = CohortEstimator().fit(panel)
    assert cnt.counts_.sum() > 0 and est.counts_.sum() > 0
    # every paid-off loan contributes exactly one transition into repaid at most
    assert cnt.counts_[:, 5].sum() <= h.loc[h["paid_off"], "loan_id"].nunique()


def test_bucket_panel_validation():
    bad = pd.DataFrame(
        {
            "loan_id": ["X1", "X2"],
            "as_of": pd.to_datetime(["2024-01-31"] * 2),
            "days_past_due": [5, -3],
        }
    )
    with pytest.raises(ValidationError, match="X2"):
        bucket_panel(bad)


def test_vintage_curves_match_pandas(known_tm):
    df = simulate_panel(known_tm, 600, 10, seed=5, start=None)
    # stagger vintages: loan i enters at period i % 4
    df["as_of"] = df["as_of"] + df["loan_id"] % 4
    df = df.loc[df["as_of"] <= 10]
    panel = build_panel(df, balance_col="balance")
    vc = vintage_curves(panel)
    bad = df["category"].isin(["substandard", "doubtful", "loss", "written_off"])
    first = df.groupby("loan_id")["as_of"].transform("min")
    d = df.assign(mob=df["as_of"] - first, bad=bad, vint=first)
    fb = d.loc[d["bad"]].groupby("loan_id")["mob"].min()
    loans = d.groupby("loan_id")["vint"].first()
    for v in range(4):
        ids = loans.index[loans == v]
        for m in (0, 3, 6):
            expected = (fb.reindex(ids) <= m).sum() / len(ids)
            assert vc.loc[str(v), m] == pytest.approx(expected)
    assert np.isnan(vc.loc["3", 9])  # vintage 3 has only reached MOB 7
    assert (vc.diff(axis=1).fillna(0) >= -1e-12).to_numpy().all()  # cumulative
    vb = vintage_curves(panel, weight="balance")
    assert vb.shape == vc.shape


def test_plots_return_figures(known_tm):
    fig = plot_transition_matrix(known_tm, title="Monthly migration matrix (loan counts)")
    assert isinstance(fig, Figure)
    # the title spans the figure: not cut where the colour bar starts
    assert fig.get_suptitle() == "Monthly migration matrix (loan counts)"
    fig.canvas.draw()
    box = fig.texts[0].get_window_extent()
    assert 0 <= box.x0 and box.x1 <= fig.bbox.width
    pr = project(known_tm, {"normal": 1e6}, horizon=6)
    assert isinstance(plot_category_shares(pr.shares()), Figure)
    mc = simulate_book(
        known_tm, np.zeros(500, int), np.full(500, 1e4), horizon=6, n_scenarios=20, rho=0.1, seed=0
    )
    fig = plot_fan_chart(mc)
    assert isinstance(fig, Figure) and fig.axes[0].get_ylabel() == "npl_ratio"
    cmp = compare(known_tm, bsf_stress(known_tm), {"normal": 1e6}, horizon=6)
    assert len(plot_stress_comparison(cmp).axes[0].lines) == 2


def test_bucket_panel_payoff_reported_in_passing_is_not_an_exit():
    # L1: principal prepaid in month 2, interest due in month 3 unpaid (29 dpd), settled in 4
    h = pd.DataFrame(
        {
            "loan_id": ["L1"] * 5 + ["L2"] * 3,
            "as_of": list(pd.date_range("2025-01-31", periods=5, freq="ME"))
            + list(pd.date_range("2025-01-31", periods=3, freq="ME")),
            "days_past_due": [0, 0, 29, 0, 0, 45, 0, 0],
            "outstanding_principal": [900.0, 0, 0, 0, 0, 500.0, 0, 0],
            "paid_off": [False, True, False, True, True, False, True, True],
        }
    )
    f = bucket_panel(h).to_frame()
    assert f["state"].tolist() == [
        "current",
        "current",
        "dpd_1_30",
        "repaid",
        "dpd_31_60",
        "repaid",
    ]
    with pytest.raises(ValidationError, match="paid_off: exit flag must be True or False"):
        bucket_panel(h.assign(paid_off=[None] + [False] * 7))
