"""From stored monthly classification results to a cohort matrix: classification -> Store ->
panel_from_history -> CohortEstimator, checked against a pandas crosstab of consecutive
month-ends computed here from the classification results themselves."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskkit.categories import Category
from riskkit.classification import ClassificationHistory, Classifier
from riskkit.datasets import make_microloan_book
from riskkit.errors import ValidationError
from riskkit.migration import FIVE_CATEGORY, CohortEstimator, panel_from_history
from riskkit.store import Store


@pytest.fixture(scope="module")
def monthly():
    book = make_microloan_book(n_loans=800, months=24, seed=5)
    dates = pd.date_range(end=book.as_of_date, periods=6, freq="ME")
    clf = Classifier()
    return [clf.classify(book.disbursed_by(d), d) for d in dates]


def _crosstab(results, weight=None):
    """Independent count: state at month k (category, or 'repaid' when paid off in that and
    every later month) against state at month k+1, for loans on the book at month k; a payoff
    straight out of substandard, doubtful or loss is 'recovered'."""
    paid = pd.concat({r.as_of: r.table["paid_off"] for r in results}, axis=1)
    # paid off in this and every later month (months before disbursement do not matter)
    later = paid.fillna(True).astype(int).iloc[:, ::-1].cummin(axis=1).iloc[:, ::-1]
    gone = later.astype(bool)
    pairs = []
    for a, b in zip(results[:-1], results[1:], strict=True):
        fa, fb = a.table, b.table
        sa = fa["category"].astype(str).where(~gone.loc[fa.index, a.as_of], "repaid")
        sb = fb["category"].astype(str).where(~gone.loc[fb.index, b.as_of], "repaid")
        live = sa[sa != "repaid"]
        pairs.append(
            pd.DataFrame(
                {
                    "from": live,
                    "to": sb.reindex(live.index),
                    "w": fa.loc[live.index, "outstanding_principal"],
                }
            )
        )
    p = pd.concat(pairs)
    npl = p["from"].isin(["substandard", "doubtful", "loss"])
    p.loc[npl & (p["to"] == "repaid"), "to"] = "recovered"
    assert p["to"].notna().all()  # every loan on the book is classified again a month later
    labels = FIVE_CATEGORY.labels
    if weight is None:
        ct = pd.crosstab(p["from"], p["to"])
    else:
        ct = pd.crosstab(p["from"], p["to"], values=p["w"], aggfunc="sum")
    return ct.reindex(index=labels, columns=labels).fillna(0.0), len(p)


def test_stored_history_to_cohort_matrix(monthly, tmp_path):
    h = ClassificationHistory(Store(f"sqlite:///{tmp_path}/hist.db"))
    for res in monthly:
        h.save(res)
    hist = h.load()
    assert len(hist) == sum(len(r) for r in monthly)
    assert hist["as_of"].drop_duplicates().tolist() == [r.as_of for r in monthly]

    est = CohortEstimator().fit(panel_from_history(hist))
    np.testing.assert_allclose(est.matrix_.sum(axis=1), 1.0, atol=1e-12)
    expect, n_pairs = _crosstab(monthly)
    np.testing.assert_array_equal(est.counts_, expect.to_numpy())
    assert est.counts_.sum() == n_pairs
    # the sample book has loans repaid in the window, and they are exits, not upgrades
    repaid = expect["repaid"].sum()
    assert repaid > 0 and est.counts_[:5, 5].sum() == repaid
    assert est.matrix_[5, 5] == 1.0 and est.matrix_[5, :5].sum() == 0.0
    # no recovery is counted as a repayment: non-performing loans never exit as repaid
    assert est.counts_[2:5, 5].sum() == 0 and est.counts_[:2, 6].sum() == 0
    # balance-weighted (迁徙率 form): beginning balance of each pair
    bal = CohortEstimator(weight="balance").fit(panel_from_history(hist))
    expect_b, _ = _crosstab(monthly, weight="balance")
    np.testing.assert_allclose(bal.counts_, expect_b.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(bal.matrix_.sum(axis=1), 1.0, atol=1e-12)

    # the same panel from the history object, the result objects, or per-month stored frames
    for other in (h, monthly, [h.load(d) for d in h.dates()]):
        again = CohortEstimator().fit(panel_from_history(other))
        np.testing.assert_array_equal(again.counts_, est.counts_)


def test_written_off_flag_is_an_exit_and_bad_inputs():
    h = pd.DataFrame(
        {
            "loan_id": ["A"] * 3 + ["B"] * 3,
            "as_of": pd.to_datetime(["2024-01-31", "2024-02-29", "2024-03-31"] * 2),
            "category": ["doubtful", "loss", "loss", "normal", "normal", "normal"],
            "outstanding_principal": [900.0, 900.0, 0.0, 500.0, 0.0, 0.0],
            "paid_off": [False, False, False, False, True, True],
            "written_off": [False, False, True, False, False, False],
        }
    )
    panel = panel_from_history(h)
    f = panel.to_frame()
    assert f["state"].tolist() == ["doubtful", "loss", "written_off", "normal", "repaid"]
    tm = CohortEstimator().fit(panel).transition_matrix_
    assert tm.prob("loss", "written_off") == 1.0 and tm.prob("normal", "repaid") == 1.0
    assert tm.prob("doubtful", "loss") == 1.0
    # a loan reported paid off, then owing again, has not left the book in that month
    back = h.assign(paid_off=[False, False, False, False, True, False], written_off=False)
    f = panel_from_history(back).to_frame()
    assert f["state"].tolist() == ["doubtful", "loss", "loss", "normal", "normal", "normal"]
    again = back.assign(paid_off=[False, True, False, False, True, True])
    f = panel_from_history(again).to_frame()
    assert f["state"].tolist() == ["doubtful", "loss", "loss", "normal", "repaid"]
    with pytest.raises(ValidationError, match="paid_off: exit flag"):
        panel_from_history(h.assign(paid_off=["no"] * 6))
    no_date = h.drop(columns="as_of").set_index("loan_id")
    with pytest.raises(ValueError, match="no 'as_of' column"):
        panel_from_history([no_date])
    with pytest.raises(ValueError, match="history is empty"):
        panel_from_history([])


@st.composite
def histories(draw):
    """Monthly classification histories: each loan live for some months, then maybe paid off
    (and kept, paid off, in every later month, as the classifier does); a live month may be
    reported paid off in passing (a payoff reversed when more interest falls due)."""
    rows, exits, transitions = [], 0, 0
    months = pd.date_range("2025-01-31", periods=8, freq="ME")
    for i in range(draw(st.integers(1, 12))):
        start = draw(st.integers(0, 6))
        live = draw(st.integers(1, 8 - start))
        paid = draw(st.integers(0, 8 - start - live))
        cats = draw(st.lists(st.integers(0, 4), min_size=live, max_size=live))
        blip = draw(st.integers(-1, live - 2)) if live > 1 else -1
        for k in range(live + paid):
            cat = Category(cats[k]).code if k < live else "normal"
            rows.append(
                (f"L{i}", months[start + k], cat, 100.0 * (k < live), k >= live or k == blip)
            )
        exits += paid > 0
        transitions += live + (paid > 0) - 1
    df = pd.DataFrame(
        rows, columns=["loan_id", "as_of", "category", "outstanding_principal", "paid_off"]
    )
    return df, exits, transitions


@settings(max_examples=60, deadline=None)
@given(histories())
def test_history_panel_rows_sum_to_one_and_repaid_is_an_exit(case):
    h, exits, transitions = case
    est = CohortEstimator().fit(panel_from_history(h))
    np.testing.assert_allclose(est.matrix_.sum(axis=1), 1.0, atol=1e-12)
    assert (est.matrix_ >= 0).all()
    # one move into repaid per loan paid off for good, none out of it; a payoff reported in
    # passing is no exit
    assert est.counts_.sum() == transitions
    assert est.counts_[:, 5].sum() + est.counts_[:, 6].sum() == exits
    assert est.counts_[5].sum() == 0 and est.matrix_[5, 5] == 1.0
    # a payoff out of substandard/doubtful/loss is a recovery, out of normal/SM a repayment
    assert est.counts_[2:5, 5].sum() == 0 and est.counts_[:2, 6].sum() == 0
