"""Lending logic (riskkit.lending) against hand-computed numbers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskkit import ValidationError, load_policy
from riskkit.lending import (
    Application,
    assess_application,
    capacity_limit,
    credit_limit,
    expected_loss,
    loss_given_default,
    monthly_debt_service,
    price_floor,
    suggested_limit,
)

ANNUITY_FACTOR_12 = (1 - 1.01**-12) / 0.01  # 11.2550775..., 12 months at 1% a month


def test_credit_limits_follow_seed_002_guarantee_rules():
    lim = credit_limit(
        ["credit", "guaranteed", "joint", "joint", "mortgage", "pledge"],
        [0, 0, 0, 0, 400_000, 100_000],
        households=[1, 2, 3, 2, 1, 1],
    )
    # pure credit 100k; one guarantor 500k in total; three households 500k each member;
    # two households left (one guarantor) -> 500k in total; 70% of 400k; 80% of 100k
    assert lim.tolist() == [100_000, 500_000, 500_000, 500_000, 280_000, 80_000]


def test_credit_limit_reads_policy():
    p = load_policy({"limits": {"joint_per_member": 300_000, "collateral_ltv": 0.5}})
    assert credit_limit(["joint", "mortgage"], [0, 100_000], policy=p).tolist() == [
        300_000,
        50_000,
    ]


def test_debt_service_by_method_hand_computed():
    ds = monthly_debt_service(
        [100_000, 12_000, 120_000, 120_000],
        12,
        0.12,
        ["annuity", "equal_principal", "interest_only", "bullet"],
    )
    # annuity 100000 * 0.01 / (1 - 1.01^-12) = 8884.88
    assert ds.installment[0] == pytest.approx(8884.88, abs=0.005)
    # equal principal: first (largest) payment 1000 + 1% of 12000; interest 120 * 78 / 12
    assert ds.installment[1] == 1120.0
    assert ds.total_interest[1] == 780.0
    # interest-only: 12 x 1200 interest + 120000 principal spread over 12 months
    assert ds.installment[2] == pytest.approx(134_400 / 12)
    assert ds.first_payment[2] == 1200.0
    assert ds.balloon[2] == 120_000
    # bullet: simple interest 120000 * 0.12 at maturity, spread over 12 months
    assert ds.installment[3] == pytest.approx(11_200.0)
    assert ds.balloon.tolist() == [0.0, 0.0, 120_000.0, 120_000.0]


def test_capacity_limit_hand_computed():
    cap = capacity_limit(
        [40_000, 10_000, 10_000, 10_000, 10_000],
        12,
        [0.12, 0.12, 0.12, 0.0, 0.12],
        ["annuity", "equal_principal", "bullet", "annuity", "interest_only"],
        other_debt_service=[0, 0, 0, 1_000, 0],
    )
    assert cap[0] == pytest.approx(20_000 * ANNUITY_FACTOR_12)  # 225101.55
    assert cap[1] == pytest.approx(5_000 / (1 / 12 + 0.01))  # 53571.43
    assert cap[2] == pytest.approx(5_000 * 12 / 1.12)  # 53571.43
    assert cap[3] == pytest.approx(4_000 * 12)  # zero rate: room x months
    assert cap[4] == pytest.approx(cap[2])
    assert suggested_limit([500_000, 500_000], cap[:2]).tolist() == [225_000, 53_000]


def test_capacity_never_negative():
    assert capacity_limit(10_000, 12, 0.1, "annuity", other_debt_service=8_000)[0] == 0.0


@settings(max_examples=40, deadline=None)
@given(
    income=st.floats(2_000, 200_000),
    term=st.integers(1, 60),
    rate=st.one_of(st.just(0.0), st.floats(0.001, 0.36)),  # quoted to 0.1%; 0 = interest-free
    method=st.sampled_from(["annuity", "equal_principal", "interest_only", "bullet"]),
)
def test_capacity_amount_is_exactly_affordable(income, term, rate, method):
    """At the capacity amount the schedule's debt service uses the room; 2% more breaks it."""
    room = 0.5 * income
    cap = float(capacity_limit(income, term, rate, method)[0])
    at = monthly_debt_service([cap, cap * 1.02], term, rate, method).installment
    assert at[0] <= room + 0.01 * (term + 1)  # cents: the last period absorbs rounding
    assert at[1] > room


def test_lgd_secured_part_and_floor():
    lgd = loss_given_default(
        ["credit", "guaranteed", "joint", "mortgage", "mortgage", "pledge"],
        100_000,
        [0, 0, 0, 50_000, 200_000, 50_000],
    )
    # mortgage 50k: 0.65 * (100k - 0.7*50k) / 100k = 0.4225; covered mortgage: floor 0.20;
    # pledge 50k: 0.65 * (100k - 0.8*50k) / 100k = 0.39
    assert lgd.tolist() == pytest.approx([0.65, 0.45, 0.40, 0.4225, 0.20, 0.39])


def test_expected_loss_and_price_floor():
    assert expected_loss([0.05, 0.1], [0.45, 0.65], [200_000, 50_000]).tolist() == (
        pytest.approx([4_500, 3_250])
    )
    # 4.5% funds + 3% operating + 2% margin + PD x LGD
    assert price_floor([0.05, 0.10], [0.45, 0.65]).tolist() == pytest.approx([0.1175, 0.16])
    p = load_policy({"limits": {"margin": 0.0, "cost_of_funds": 0.03}})
    assert price_floor(0.0, 0.65, policy=p)[0] == pytest.approx(0.06)


def test_assess_approve():
    app = Application(300_000, 12, 0.12, "annuity", "guaranteed", monthly_income=60_000)
    a = assess_application(app, pd_=0.05, score=640, grade="B", cutoff=600)
    assert a.structure_limit == 500_000
    assert a.capacity_limit == pytest.approx(30_000 * ANNUITY_FACTOR_12)
    assert a.suggested_limit == 337_000
    assert a.installment == pytest.approx(26_654.64, abs=0.005)
    assert a.installment_to_income == pytest.approx(26_654.64 / 60_000, abs=1e-6)
    assert a.expected_loss == pytest.approx(0.05 * 0.45 * 300_000)
    assert a.price_floor == pytest.approx(0.1175)
    assert a.recommendation == "approve"
    assert not a.exceeds_limit
    assert {r.effect for r in a.reasons} == {"ok"}
    assert "approve" in repr(a) and "<table>" in a._repr_html_()


def test_a_price_floor_above_the_legal_rate_cap_declines_in_every_assessment():
    # PD 0.5, credit LGD: floor 4.5% + 3% + 2% + 0.5 x LGD well above the 24% cap; the dashboard's
    # assessment declines as the committee's does (it showed "reprice")
    app = Application(50_000, 12, 0.12, "annuity", "credit", monthly_income=60_000)
    a = assess_application(app, pd_=0.5)
    assert a.price_floor > 0.24 and a.recommendation == "decline"
    (r,) = [r for r in a.reasons if r.code == "floor_above_rate_cap"]
    assert r.text == (f"risk-based price floor {a.price_floor:.2%} above the legal rate cap 24%: "
                      "cannot be priced legally")  # fmt: skip
    assert not [r for r in a.reasons if r.code == "rate_below_floor"]


def test_seed_002_two_households_get_500k_in_total():
    """Mr Yan drops one of three households: a 1M request meets a 500k limit."""
    rich = dict(monthly_income=500_000, annual_rate=0.15, repayment_method="annuity")
    three = Application(1_000_000, 12, guarantee_type="joint", households=3, **rich)
    two = Application(1_000_000, 12, guarantee_type="joint", households=2, **rich)
    a3 = assess_application(three, pd_=0.02)
    a2 = assess_application(two, pd_=0.02)
    assert a3.suggested_limit == 500_000 and a2.suggested_limit == 500_000
    # a hard rule: declined as requested, never "approve with conditions"; counter-offer 500k
    assert a2.exceeds_limit and a2.recommendation == "decline as requested"
    codes = [r.code for r in a2.reasons]
    assert "joint_too_small" in codes and "amount_above_limit" in codes
    assert "counter-offer 500,000" in " ".join(r.text for r in a2.reasons)
    assert a2.counter_offer.application.amount == 500_000
    assert a2.counter_offer.recommendation == "approve"


def test_assess_conditions_capacity_and_price():
    app = Application(300_000, 12, 0.12, "annuity", "credit", monthly_income=40_000)
    a = assess_application(app, pd_=0.10)
    # capacity 20000 x 11.2551 = 225101 -> but pure credit caps at 100k
    assert a.suggested_limit == 100_000 and a.exceeds_limit
    assert a.installment_to_income == pytest.approx(26_654.64 / 40_000, abs=1e-6)
    assert a.price_floor == pytest.approx(0.16)
    codes = {r.code: r.effect for r in a.reasons}
    assert codes["installment_to_income_high"] == "hard"
    assert codes["rate_below_floor"] == "condition"
    assert a.recommendation == "decline as requested"
    # the counter-offer at the 100k limit: 8,884.88 a month is 22.2% of 40,000; the rate
    # still needs repricing to the 16% floor
    c = a.counter_offer
    assert c.application.amount == 100_000
    assert c.installment_to_income == pytest.approx(8_884.88 / 40_000, abs=1e-6)
    assert c.recommendation == "approve with conditions"
    assert [r.code for r in c.reasons if r.effect != "ok"] == ["rate_below_floor"]


def test_800k_on_12k_income_is_declined_as_requested_with_a_counter_offer():
    """Issue 12's case: 800,000 asked on 12,000 a month under a joint guarantee."""
    app = Application(800_000, 12, 0.12, "annuity", "joint", monthly_income=12_000)
    a = assess_application(app, pd_=0.081)
    inst = 800_000 / ANNUITY_FACTOR_12  # 71,079.03
    assert a.installment == pytest.approx(inst, abs=0.01)  # cent rounding of the schedule
    assert a.installment_to_income == pytest.approx(inst / 12_000, abs=1e-6)  # 592.3%
    assert a.capacity_limit == pytest.approx(6_000 * ANNUITY_FACTOR_12)  # 67,530.47
    assert a.structure_limit == 500_000
    assert a.suggested_limit == 67_000
    assert a.recommendation == "decline as requested"
    assert {r.code: r.effect for r in a.reasons}["installment_to_income_high"] == "hard"
    assert "(11.9x; hard rule)" in repr(a)
    c = a.counter_offer
    assert c.application.amount == 67_000 and c.application.term_months == 12
    assert c.installment == pytest.approx(67_000 / ANNUITY_FACTOR_12, abs=0.01)  # 5,952.87
    assert c.installment_to_income == pytest.approx(5_952.87 / 12_000, abs=1e-6)
    assert c.expected_loss == pytest.approx(0.081 * 0.40 * 67_000)
    # risk-based floor 4.5% + 8.1% x 40% + 3% + 2% = 12.74% > 12%: reprice
    assert c.price_floor == pytest.approx(0.1274)
    assert c.recommendation == "approve with conditions" and c.counter_offer is None
    assert [r.code for r in c.reasons if r.effect != "ok"] == ["rate_below_floor"]
    # a PD above the policy maximum declines outright, whatever the amount
    assert assess_application(app, pd_=0.25).recommendation == "decline"


def test_assess_declines():
    ok = dict(monthly_income=50_000, repayment_method="annuity", guarantee_type="credit")
    high_pd = assess_application(Application(50_000, 12, 0.2, **ok), pd_=0.25)
    assert high_pd.recommendation == "decline"
    assert high_pd.reasons[0].code == "pd_above_max"
    cut = assess_application(Application(50_000, 12, 0.2, **ok), pd_=0.05, score=550, cutoff=580)
    assert cut.recommendation == "decline"
    assert "score 550 below cut-off 580" in repr(cut)
    broke = assess_application(
        Application(50_000, 12, 0.2, other_debt_service=30_000, **ok), pd_=0.05
    )
    assert broke.suggested_limit == 0 and broke.recommendation == "decline"


def test_mortgage_limit_and_lgd_in_assessment():
    app = Application(
        200_000, 24, 0.10, "equal_principal", "mortgage", 100_000, collateral_value=400_000
    )
    a = assess_application(app, pd_=0.04)
    assert a.structure_limit == 280_000
    assert a.lgd == pytest.approx(0.20)  # 280k secured covers 200k: floor
    assert a.installment == pytest.approx(200_000 / 24 + 200_000 * 0.10 / 12, abs=0.01)


def test_bad_application_lists_every_problem():
    app = Application(-5, 0, 0.12, "weekly", "mortgage", monthly_income=0, application_id="A-7")
    with pytest.raises(ValidationError) as e:
        assess_application(app, pd_=1.5)
    cols = {p.column for p in e.value.problems}
    assert cols == {
        "amount",
        "term_months",
        "repayment_method",
        "collateral_value",
        "monthly_income",
        "pd",
    }
    assert all(p.ids == ("A-7",) for p in e.value.problems)
    assert "application.repayment_method" in str(e.value)


def test_vector_inputs_name_bad_ids():
    with pytest.raises(ValidationError, match="guarantee_type.*loan id X2"):
        credit_limit(["credit", "family"], ids=np.array(["X1", "X2"]))


def test_policy_ratio_out_of_range():
    with pytest.raises(ValueError, match="limits.max_installment_to_income"):
        credit_limit("credit", policy={"limits": {"max_installment_to_income": 1.5}})


def test_cutoff_strategy_hand_computed():
    from riskkit.lending import cutoff_strategy

    t = cutoff_strategy(
        [500, 550, 600, 650],
        [0.3, 0.2, 0.1, 0.05],
        [10_000, 20_000, 30_000, 40_000],
        0.5,
        bad=[1, 0, 1, 0],
        cutoffs=[400, 550, 560, 700],
    )
    assert t["approved"].tolist() == [4, 3, 2, 0]
    assert t["approval_rate"].tolist() == [1.0, 0.75, 0.5, 0.0]
    assert t["volume"].tolist() == [100_000, 90_000, 70_000, 0]
    # approved at 550: PDs 0.2, 0.1, 0.05
    assert t.loc[550, "expected_bad_rate"] == pytest.approx(0.35 / 3)
    assert t.loc[550, "observed_bad_rate"] == pytest.approx(1 / 3)
    assert t.loc[550, "expected_loss"] == pytest.approx(0.5 * (4_000 + 3_000 + 2_000))
    assert t.loc[560, "loss_rate"] == pytest.approx(0.5 * 5_000 / 70_000)
    assert np.isnan(t.loc[700, "expected_bad_rate"])


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(300, 800), min_size=1, max_size=40), st.integers(250, 850))
def test_cutoff_strategy_matches_brute_force(scores, cut):
    from riskkit.lending import cutoff_strategy

    s = np.array(scores, dtype=float)
    rng = np.random.default_rng(len(scores))
    p, e = rng.random(s.size), rng.random(s.size) * 1e5
    t = cutoff_strategy(s, p, e, 0.4, cutoffs=[cut]).iloc[0]
    ok = s >= cut
    assert t["approved"] == ok.sum()
    assert t["volume"] == pytest.approx(e[ok].sum())
    assert t["expected_loss"] == pytest.approx((p * 0.4 * e)[ok].sum())


def test_cutoff_strategy_bad_input():
    from riskkit.lending import cutoff_strategy

    with pytest.raises(ValidationError, match="sample.pd") as e:
        cutoff_strategy([1, 2], [0.1, 1.2], [1, 1], 0.5, bad=[0, 2])
    assert {p.column for p in e.value.problems} == {"pd", "bad"}


def test_term_features_match_application_sample():
    """payment_to_income / loan_to_value as riskkit.scoring.application_sample derives them."""
    from riskkit.datasets import make_microloan_book
    from riskkit.lending import term_features
    from riskkit.scoring import application_sample

    s = application_sample(make_microloan_book(n_loans=300, months=24, seed=5))
    assert len(s) > 50
    for loan_id, r in s.head(40).iterrows():
        ltv = r["loan_to_value"]
        app = Application(
            r["amount"],
            int(r["term_months"]),
            r["annual_rate"],
            r["repayment_method"],
            r["guarantee_type"],
            r["monthly_income"],
            collateral_value=r["amount"] / ltv if ltv == ltv else 0.0,
            households=3,
            application_id=loan_id,
        )
        f = term_features(app, n_guarantors=int(r["n_guarantors"]))
        assert f["payment_to_income"] == pytest.approx(r["payment_to_income"], rel=1e-12)
        if ltv == ltv:
            assert f["loan_to_value"] == pytest.approx(ltv)
        if r["guarantee_type"] in ("guaranteed", "joint", "credit"):
            assert f["n_guarantors"] == r["n_guarantors"]
