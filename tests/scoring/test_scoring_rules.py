"""Model rules enforced at fit and reported (Scorecard.validation_)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskkit.scoring import Scorecard, WoETransformer


def _suppressor(n=20_000, seed=0):
    """z2 tracks z1 (corr 0.9) and is riskier on its own, but given z1 it lowers the risk:
    on its own WoE it ranks one way, in the joint model its coefficient turns positive."""
    rng = np.random.default_rng(seed)
    z1 = rng.normal(size=n)
    z2 = 0.9 * z1 + np.sqrt(1 - 0.81) * rng.normal(size=n)
    lo = -1.5 + 1.6 * z1 - 0.7 * z2
    y = (rng.random(n) < 1 / (1 + np.exp(-lo))).astype(int)
    return pd.DataFrame({"z1": z1, "z2": z2}), y


def test_a_reversed_sign_is_dropped_with_its_reason():
    X, y = _suppressor()
    loose = {"max_corr": 0.99, "max_vif": 100.0}
    plain = Scorecard(rules={**loose, "expected_sign": False}).fit(X, y)
    assert plain.coef_[plain.features_.index("z2")] > 0  # the reversal a validator rejects
    sc = Scorecard(rules=loose).fit(X, y)
    assert sc.features_ == ["z1"] and (sc.coef_ < 0).all()
    v = sc.validation_.table.set_index(["rule", "feature"])
    assert v.loc[("expected_sign", "z2"), "verdict"] == "dropped"
    assert "most correlated with z1" in v.loc[("expected_sign", "z2"), "note"]
    assert v.loc[("expected_sign", "z1"), "verdict"] == "pass"
    log = sc.binning_.selection_log_.set_index("feature")
    assert log.loc["z2", "step"] == "expected_sign"
    assert sc.validation_.passed
    again = Scorecard.from_json(sc.to_json())  # the report travels with the model
    pd.testing.assert_frame_equal(again.validation_.table, sc.validation_.table, check_dtype=False)


def test_numeric_bins_monotone_unless_a_reason_allows_the_shape():
    rng = np.random.default_rng(1)
    age = rng.uniform(20, 65, 20_000)
    y = (rng.random(20_000) < 1 / (1 + np.exp(-(-2.0 + 0.004 * (age - 42) ** 2)))).astype(int)
    X = pd.DataFrame({"age": age})
    free = Scorecard(rules=None).fit(X, y)
    assert free.binning_.binnings_["age"].trend_ == "valley"
    sc = Scorecard().fit(X, y)
    rates = sc.binning_.binnings_["age"].table_["event_rate"].to_numpy()[:-1]
    assert (np.diff(rates) > 0).all() or (np.diff(rates) < 0).all()
    v = sc.validation_.table.query("rule == 'monotone_bins'")
    assert v["verdict"].tolist() == ["pass"]
    why = "risk is lowest in mid-career"
    allowed = Scorecard(rules={"shape_allowed": [{"feature": "age", "reason": why}]}).fit(X, y)
    assert allowed.binning_.binnings_["age"].trend_ == "valley"
    row = allowed.validation_.table.query("rule == 'monotone_bins'").iloc[0]
    assert (row["verdict"], row["note"]) == ("allowed", why)


def test_mostly_missing_feature_dropped_unless_treated():
    rng = np.random.default_rng(2)
    n = 10_000
    x = rng.normal(size=n)
    ltv = np.where(rng.random(n) < 0.8, np.nan, rng.uniform(0.3, 1.0, n))
    y = (rng.random(n) < 1 / (1 + np.exp(1.5 - x))).astype(int)
    X = pd.DataFrame({"x": x, "loan_to_value": ltv})
    sc = Scorecard().fit(X, y)
    row = sc.validation_.table.query("rule == 'missing_share' and feature == 'loan_to_value'")
    assert row["verdict"].tolist() == ["dropped"] and row["value"].iloc[0] == pytest.approx(
        0.8, abs=0.02
    )
    assert "loan_to_value" not in sc.features_
    why = "missing = unsecured: the missing bin carries it"
    rules = {"missing_allowed": [{"feature": "loan_to_value", "reason": why}], "min_iv": 0.0}
    kept = Scorecard(rules=rules).fit(X, y)
    row = kept.validation_.table.query("rule == 'missing_share' and feature == 'loan_to_value'")
    assert (row["verdict"].iloc[0], row["note"].iloc[0]) == ("allowed", why)


def test_limits_are_the_stricter_of_binning_and_policy():
    X, y = _suppressor(4_000)
    sc = Scorecard(binning=WoETransformer(max_corr=0.95, min_iv=0.5)).fit(X, y)
    assert sc.binning_.max_corr == 0.7 and sc.binning_.min_iv == 0.5
    assert Scorecard(rules=None).fit(X, y).validation_ is None
    with pytest.raises(ValueError, match="rules must be"):
        Scorecard(rules="strict").fit(X, y)
