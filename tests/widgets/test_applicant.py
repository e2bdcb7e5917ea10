"""Applicant what-if callbacks, headless: set controls, read the value widgets."""

from __future__ import annotations

import numpy as np
import pytest

from riskkit.widgets import applicant_dashboard
from tests.widgets.helpers import FEATURES, cell, number

ANNUITY_12_AT_1PCT = 0.01 / (1 - 1.01**-12)  # installment per RMB, 12 months at 12% a year


@pytest.fixture
def dash(scorecard, applications):
    return applicant_dashboard(scorecard, applications, cutoff=520)


def test_opens_on_first_application_with_the_models_score(dash, scorecard, applications):
    row = applications.iloc[[0]]
    assert dash.application.value == "A00000"
    assert dash.amount.value == row["amount"].iloc[0]
    assert dash.income.value == row["monthly_income"].iloc[0]
    assert dash.guarantee.value == row["guarantee_type"].iloc[0]
    expected_score = scorecard.credit_score(row[FEATURES])[0]
    expected_pd = scorecard.predict_proba(row[FEATURES])[0, 1]
    assert number(dash.score_out.value, "Score") == expected_score
    assert number(dash.score_out.value, "PD (12 months)") == pytest.approx(expected_pd, abs=5e-5)
    rc = scorecard.reason_codes(row[FEATURES], 4).iloc[0]
    assert f"<li>{rc['reason_1']}: -{rc['points_lost_1']:.0f} points</li>" in dash.reasons_out.value


def test_controls_use_continuous_update_false(dash):
    for c in (dash.amount, dash.term, dash.rate, dash.income, dash.collateral_value):
        assert c.continuous_update is False


def test_changing_terms_recomputes_hand_checked_numbers(dash):
    dash.term.value = 12
    dash.rate.value = 12.0
    dash.method.value = "annuity"
    dash.guarantee.value = "guaranteed"
    dash.income.value = 60_000
    dash.amount.value = 300_000
    inst = 300_000 * ANNUITY_12_AT_1PCT  # 26654.64
    assert number(dash.installment_out.value, "Monthly installment") == pytest.approx(
        inst, abs=0.01
    )
    assert number(dash.installment_out.value, "Installment / income") == pytest.approx(
        inst / 60_000, abs=5e-4
    )
    assert number(dash.limit_out.value, "Guarantee structure limit") == 500_000
    # capacity: 50% of 60000 = 30000 a month carries 30000 / ANNUITY -> 337,653 -> 337,000
    assert number(dash.limit_out.value, "Repayment capacity") == round(30_000 / ANNUITY_12_AT_1PCT)
    assert number(dash.limit_out.value, "Suggested limit") == 337_000
    assert cell(dash.limit_out.value, "Exceeds limit") == "no"
    pd_ = dash.assessment.pd
    assert number(dash.loss_out.value, "Expected loss") == round(pd_ * 0.45 * 300_000)
    floor = 0.045 + 0.03 + 0.02 + pd_ * 0.45
    assert number(dash.loss_out.value, "Risk-based price floor") == pytest.approx(floor, abs=5e-5)

    dash.amount.value = 400_000  # now above the 337,000 limit
    assert cell(dash.limit_out.value, "Exceeds limit") == "yes"
    assert "counter-offer 337,000" in dash.recommendation_out.value
    assert "decline as requested" in dash.recommendation_out.value
    assert "rk-counter-offer" in dash.recommendation_out.value

    # interest-only: the figure is the average debt service, labelled so, with the balloon
    dash.amount.value = 120_000
    dash.method.value = "interest_only"
    assert "Monthly installment" not in dash.installment_out.value
    # 12 x 1,200 interest + 120,000 principal, over 12 months
    total = 12 * 1_200 + 120_000
    label = "Monthly debt service (total / term)"
    assert number(dash.installment_out.value, label) == pytest.approx(total / 12, abs=0.01)
    assert number(dash.installment_out.value, "Debt service / income") == pytest.approx(
        total / 12 / 60_000, abs=5e-4
    )
    assert number(dash.installment_out.value, "Principal at maturity") == 120_000


def test_seed_002_joint_guarantee_in_the_dashboard(dash):
    dash.income.value = 500_000
    dash.rate.value = 30.0
    dash.amount.value = 1_000_000
    dash.guarantee.value = "joint"
    dash.households.value = 3
    assert number(dash.limit_out.value, "Guarantee structure limit") == 500_000
    dash.households.value = 2
    assert number(dash.limit_out.value, "Guarantee structure limit") == 500_000
    assert "treated as one guarantor" in dash.recommendation_out.value
    dash.guarantee.value = "mortgage"
    dash.collateral_value.value = 1_000_000
    assert number(dash.limit_out.value, "Guarantee structure limit") == 700_000


def test_model_inputs_follow_the_controls(dash, scorecard, applications):
    """Income is both a loan term and a scorecard feature: the model sees the control."""
    row = applications.loc[["A00000"], FEATURES].copy()
    before = dash.assessment.pd
    dash.income.value = 80_000
    row["monthly_income"] = 80_000.0
    after = scorecard.predict_proba(row)[0, 1]
    assert dash.assessment.pd == pytest.approx(after)
    assert after != pytest.approx(before)
    dash.feature_controls["segment"].value = "consumer"
    row["segment"] = "consumer"
    assert number(dash.score_out.value, "Score") == scorecard.credit_score(row)[0]


def test_choosing_another_application_prefills(dash, applications):
    dash.application.value = "A00007"
    r = applications.loc["A00007"]
    assert dash.amount.value == r["amount"]
    assert dash.term.value == r["term_months"]
    assert dash.feature_controls["age"].value == r["age"]
    assert dash.assessment.application.application_id == "A00007"


def test_cutoff_declines(scorecard, applications):
    row = applications.iloc[[0]][FEATURES]
    score = scorecard.credit_score(row)[0]
    d = applicant_dashboard(scorecard, applications, cutoff=score + 1)
    assert "decline" in d.recommendation_out.value
    assert f"below cut-off {score + 1:.0f}" in d.recommendation_out.value


def test_bad_input_is_shown_not_raised(dash):
    dash.guarantee.value = "mortgage"
    dash.collateral_value.value = 0
    assert "collateral_value" in dash.error_out.value
    assert "mortgage or pledge needs the appraised value" in dash.error_out.value
    assert dash.assessment is None and dash.limit_out.value == ""
    dash.collateral_value.value = 300_000
    assert "Input problem" not in dash.error_out.value and dash.assessment is not None
    # the scorecard never saw a mortgage: scored with neutral WoE, and the page says so
    assert "not seen at fit [&#x27;mortgage&#x27;]" in dash.error_out.value
    dash.guarantee.value = "joint"
    assert dash.error_out.value == ""


def test_rejects_model_without_scorecard_api(applications):
    with pytest.raises(TypeError, match="credit_score"):
        applicant_dashboard(object(), applications)


def test_missing_feature_column_is_named(scorecard, applications):
    with pytest.raises(Exception, match="applications.age"):
        applicant_dashboard(scorecard, applications.drop(columns="age"))


def test_pii_never_shown(scorecard, applications):
    apps = applications.assign(id_number="110101199003071234", phone="13812345678")
    d = applicant_dashboard(scorecard, apps)
    assert np.all(d.applications["id_number"] == "110***********1234")


def test_grade_from_the_policy_master_scale(dash):
    # policy: 10 grades, inner PD bounds geometric from 0.3% to 30% (9 bounds)
    bounds = 0.003 * 100 ** (np.arange(9) / 8)
    pd_ = dash.assessment.pd
    expected = f"R{int((bounds <= pd_).sum()) + 1}"
    assert cell(dash.score_out.value, "Grade") == expected
    dash.income.value = 1_000_000  # much richer -> lower PD -> better or equal grade
    assert int(cell(dash.score_out.value, "Grade")[1:]) <= int(expected[1:])


@pytest.mark.slow  # drives the dashboard through many terms
def test_derived_inputs_follow_the_terms(applications):
    """payment_to_income, loan_to_value and n_guarantors are recomputed from the terms."""
    from riskkit.scoring import Scorecard

    apps = applications.head(1500).copy()
    total = apps["amount"] * (1 + 0.01 * (apps["term_months"] + 1) / 2)  # rough, any value
    apps["payment_to_income"] = total / apps["term_months"] / apps["monthly_income"]
    apps["n_guarantors"] = apps["guarantee_type"].map({"credit": 0, "guaranteed": 1, "joint": 2})
    rng = np.random.default_rng(0)
    apps["loan_to_value"] = np.where(rng.random(len(apps)) < 0.3, rng.random(len(apps)), np.nan)
    feats = ["payment_to_income", "n_guarantors", "age", "loan_to_value"]
    sc = Scorecard().fit(apps[feats], apps["bad"])
    d = applicant_dashboard(sc, apps)
    d.term.value, d.rate.value, d.method.value = 12, 12.0, "equal_principal"
    d.income.value, d.amount.value = 2_000, 12_000
    d.guarantee.value, d.households.value = "joint", 4
    X = d.current_features()
    assert X["payment_to_income"].iloc[0] == pytest.approx((12_000 + 780) / 12 / 2_000)
    assert X["n_guarantors"].iloc[0] == 3
    assert np.isnan(X["loan_to_value"].iloc[0])
    d.guarantee.value, d.collateral_value.value = "mortgage", 48_000
    X = d.current_features()
    assert X["loan_to_value"].iloc[0] == pytest.approx(0.25)
    assert X["n_guarantors"].iloc[0] == 0
    assert d.assessment.pd == pytest.approx(sc.predict_proba(X)[0, 1])
    assert "payment_to_income" not in d.feature_controls  # derived, not a free input
