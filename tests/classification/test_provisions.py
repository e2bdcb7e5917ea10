"""Provisions, NPL ratio and coverage, checked against hand computations."""

import numpy as np
import pandas as pd
import pytest

from riskkit.classification import Classifier
from riskkit.errors import ValidationError
from riskkit.provisions import provisions, specific_ratios
from tests.classification.helpers import AS_OF, missed_book

LOANS = pd.DataFrame(
    {
        "category": ["normal", "special_mention", "substandard", "doubtful", "loss", "normal"],
        "outstanding_principal": [50_000.0, 20_000.0, 8_000.0, 4_000.0, 1_000.0, 17_000.0],
        "branch": ["东城", "东城", "东城", "西城", "西城", "西城"],
    },
    index=pd.Index(list("abcdef"), name="loan_id"),
)


def test_default_ratios_by_hand():
    rep = provisions(LOANS)
    t = rep.total()
    # general 1% of 100,000; specific 2% x 20,000 + 25% x 8,000 + 50% x 4,000 + 100% x 1,000
    assert t["balance"] == 100_000.0
    assert t["general"] == pytest.approx(1_000.0)
    assert t["specific"] == pytest.approx(400.0 + 2_000.0 + 2_000.0 + 1_000.0)
    assert t["provisions"] == pytest.approx(6_400.0)
    assert t["npl_balance"] == 13_000.0
    assert t["npl_ratio"] == pytest.approx(0.13)
    assert t["coverage_ratio"] == pytest.approx(6_400.0 / 13_000.0)
    assert rep.loans.loc["c", "specific"] == pytest.approx(2_000.0)


def test_by_branch_and_float():
    pol = {"provisions": {"float": {"substandard": 0.2, "doubtful": -0.1}}}
    np.testing.assert_allclose(specific_ratios(pol), [0.0, 0.02, 0.30, 0.45, 1.0])
    rep = provisions(LOANS, by="branch", policy=pol)
    east, west = rep.table.loc["东城"], rep.table.loc["西城"]
    # 东城: 78,000 balance; general 780; specific 400 + 30% x 8,000 = 2,800
    assert east["provisions"] == pytest.approx(780.0 + 2_800.0)
    assert east["npl_ratio"] == pytest.approx(8_000.0 / 78_000.0)
    assert east["coverage_ratio"] == pytest.approx(3_580.0 / 8_000.0)
    # 西城: 22,000 balance; general 220; specific 45% x 4,000 + 1,000 = 2,800
    assert west["provisions"] == pytest.approx(220.0 + 2_800.0)
    assert west["balance_loss"] == 1_000.0 and west["loans"] == 3
    assert "coverage_ratio" in repr(rep)


def test_float_outside_band_is_rejected():
    with pytest.raises(ValueError, match="outside the allowed band"):
        provisions(LOANS, policy={"provisions": {"float": {"substandard": 0.3}}})


def test_no_npl_gives_nan_coverage_and_bad_input_errors():
    rep = provisions(LOANS[LOANS["category"] == "normal"])
    assert rep.total()["npl_ratio"] == 0.0 and np.isnan(rep.total()["coverage_ratio"])
    bad = LOANS.assign(category=["normal", "bad", "loss", "loss", "loss", "loss"])
    with pytest.raises(ValueError, match="'category'"):
        provisions(bad)
    neg = LOANS.assign(outstanding_principal=-1.0)
    with pytest.raises(ValidationError, match="outstanding_principal"):
        provisions(neg)
    with pytest.raises(ValidationError, match="officer_id"):
        provisions(LOANS, by="officer_id")


def test_from_classification_result():
    res = Classifier().classify(missed_book({"m0": 0, "m4": 4, "m7": 7}), AS_OF)
    rep = provisions(res, by="officer_id")
    # balances 3,000 normal, 7,000 substandard, 10,000 doubtful
    expect = 0.01 * 20_000 + 0.25 * 7_000 + 0.5 * 10_000
    assert rep.table.loc["O1", "provisions"] == pytest.approx(expect)
    assert rep.table.loc["O1", "npl_ratio"] == pytest.approx(res.npl_ratio)


def test_empty_scope_gives_zero_table_with_undefined_ratios():
    # an empty branch scope of a real classification result (categorical categories)
    res = Classifier().classify(missed_book({"m0": 0, "m4": 4}), AS_OF)
    empty = res.table[res.table["branch"] == "no such branch"]
    rep = provisions(empty, by="branch")
    assert len(rep.table) == 0 and len(rep.loans) == 0
    assert list(rep.table.columns) == list(provisions(res, by="branch").table.columns)
    t = rep.total()
    sums = ["balance", "npl_balance", "general", "specific", "provisions", "loans"]
    assert t[sums].tolist() == [0.0] * 6
    # 0/0: NPL ratio and coverage are undefined, not 0%
    assert np.isnan(t["npl_ratio"]) and np.isnan(t["coverage_ratio"])
    assert "npl_ratio=n/a" in repr(rep) and "loans=0" in repr(rep)
    assert "n/a" in rep._repr_html_()
    whole = provisions(empty)
    assert whole.table.index.tolist() == ["total"]
    assert whole.table["loans"].dtype == np.int64 and whole.table.at["total", "loans"] == 0
    assert np.isnan(whole.table.at["total", "npl_ratio"])


def test_zero_balance_group_has_nan_npl_ratio():
    # 西城: every loan paid off, no balance, so no NPL ratio (0/0); 东城: one loss loan,
    # provisions 1% x 50,000 general + 100% x 50,000 specific
    loans = LOANS.assign(outstanding_principal=[50_000.0, 0, 0, 0, 0, 0.0])
    loans = loans.assign(category=["loss"] + ["normal"] * 5)
    rep = provisions(loans, by="branch")
    assert rep.table.at["东城", "npl_ratio"] == 1.0
    assert rep.table.at["东城", "coverage_ratio"] == pytest.approx((500.0 + 50_000.0) / 50_000.0)
    assert rep.table.at["西城", "loans"] == 3 and rep.table.at["西城", "balance"] == 0.0
    assert np.isnan(rep.table.at["西城", "npl_ratio"])


def test_plot_by_category_bars_follow_category_order():
    from riskkit.classification.plots import plot_by_category

    fig = plot_by_category(pd.Series({"loss": 2.0, "normal": 90.0}), "Loans", "count")
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights == [90.0, 0.0, 0.0, 0.0, 2.0]  # normal .. loss, missing categories at 0
