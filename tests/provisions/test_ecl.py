"""Expected credit loss: a three-loan example computed by hand, staging, exposure profiles,
stage movements that add up, and the per-loan sum equal to the report total."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskkit.book import LoanBook, make_schedule
from riskkit.classification import ClassificationResult
from riskkit.migration import TransitionMatrix
from riskkit.provisions import ECLModel, assign_stages, ecl_movement, prepayment_rate
from riskkit.provisions.ecl import annualised, marginal_pd, staying_matrix
from riskkit.provisions.exposure import exposure_profile

AS_OF = pd.Timestamp("2026-01-31")
# one scenario (an average year): the estimated matrix itself
ONE = {
    "scenarios": {
        "definitions": {
            "baseline": {"ecl_weight": 1.0},
            "upside": {"ecl_weight": 0.0},
            "downside": {"ecl_weight": 0.0},
        }
    }
}


def matrix():
    p = np.eye(8)
    p[0, [0, 1, 5]] = [0.90, 0.05, 0.05]  # normal: 5% special mention, 5% repaid
    p[1, [0, 1, 2]] = [0.50, 0.30, 0.20]  # special mention: 20% substandard
    p[2, [2, 3]] = [0.80, 0.20]
    p[3, [3, 7]] = [0.90, 0.10]
    return TransitionMatrix(p)


def three_loans(categories=("normal", "special_mention", "doubtful"), dpd=(0, 10, 100)):
    """Three 3,000 loans at 12%, equal principal over 3 months from 15 Jan 2026: 1,000 falls
    due on 15 Feb, 15 Mar and 15 Apr; as of 31 Jan all 3,000 is outstanding."""
    ids = ["L1", "L2", "L3"]
    loans = pd.DataFrame(
        {
            "loan_id": ids,
            "borrower_id": ["B1", "B2", "B3"],
            "product": ["p"] * 3,
            "amount": [3000.0] * 3,
            "disbursement_date": pd.to_datetime(["2026-01-15"] * 3),
            "term_months": [3] * 3,
            "annual_rate": [0.12] * 3,
            "repayment_method": ["equal_principal"] * 3,
            "guarantee_type": ["credit"] * 3,
            "purpose": ["x"] * 3,
            "officer_id": ["O1"] * 3,
            "branch": ["b1", "b1", "b2"],
        }
    )
    pay = pd.DataFrame({"loan_id": [], "payment_date": pd.to_datetime([]), "amount": []})
    book = LoanBook(loans, make_schedule(loans), pay, as_of_date=AS_OF, validate=False)
    frame = pd.DataFrame(
        {
            "product": "p",
            "branch": ["b1", "b1", "b2"],
            "guarantee_type": "credit",
            "category": list(categories),
            "outstanding_principal": 3000.0,
            "days_past_due": list(dpd),
            "paid_off": False,
            "written_off": False,
        },
        index=pd.Index(ids, name="loan_id"),
    )
    return book, ClassificationResult(frame, AS_OF)


def test_three_loans_by_hand():
    book, res = three_loans()
    model = ECLModel.from_matrices({"p": matrix()}, horizon_months=3, policy=ONE)
    e = model.measure(book, res, lgd=0.5)
    # marginal PDs (repaid removed: the normal row becomes 0.9/0.95 stay, 0.05/0.95 to SM)
    sm = 0.05 / 0.95
    q_n = [0.0, sm * 0.2, 0.9 / 0.95 * sm * 0.2 + sm * 0.3 * 0.2]
    q_sm = [0.2, 0.3 * 0.2, 0.5 * sm * 0.2 + 0.3 * 0.3 * 0.2]
    ead = [3000.0, 2000.0, 1000.0]  # outstanding at the start of Feb, Mar, Apr
    df = [1.01**-1, 1.01**-2, 1.01**-3]  # 12% a year, monthly
    l1 = 0.5 * sum(q * x * d for q, x, d in zip(q_n, ead, df, strict=True))  # stage 1: 12m
    l2 = 0.5 * sum(q * x * d for q, x, d in zip(q_sm, ead, df, strict=True))  # stage 2
    l3 = 0.5 * 3000.0  # stage 3: LGD x exposure
    assert l1 == pytest.approx(16.69092, abs=1e-4) and l2 == pytest.approx(367.13689, abs=1e-4)
    got = e.loans
    assert got["stage"].tolist() == [1, 2, 3]
    assert got["stage_reason"].tolist() == ["performing", "special_mention", "non_performing"]
    np.testing.assert_allclose(got["ecl"], [l1, l2, l3], rtol=1e-10)
    np.testing.assert_allclose(got["pd_lifetime"], [sum(q_n), sum(q_sm), 1.0], rtol=1e-10)
    assert e.total == pytest.approx(l1 + l2 + l3, rel=1e-12)
    # sum of the loans = the report's total, by stage and by branch
    assert e.table.loc["total", "ecl"] == pytest.approx(got["ecl"].sum(), rel=1e-12)
    assert e.table.loc[2, "ecl"] == pytest.approx(l2)
    by_branch = e.by("branch")[("ecl", "total")]
    assert by_branch.sum() == pytest.approx(e.total, rel=1e-12)
    assert by_branch["b1"] == pytest.approx(l1 + l2)


def test_prepayment_and_weighted_scenarios_by_hand():
    book, res = three_loans()
    model = ECLModel.from_matrices({"p": matrix()}, prepayment=0.02, horizon_months=3, policy=ONE)
    e = model.measure(book, res, lgd=0.5)
    sm = 0.05 / 0.95
    q_sm = [0.2, 0.3 * 0.2, 0.5 * sm * 0.2 + 0.3 * 0.3 * 0.2]
    surv = [1.0, 0.98, 0.98**2]
    l2 = 0.5 * sum(
        q * x * s * 1.01 ** -(m + 1)
        for m, (q, x, s) in enumerate(zip(q_sm, [3000, 2000, 1000], surv, strict=True))
    )
    assert e.loans.loc["L2", "ecl"] == pytest.approx(l2, rel=1e-10)
    # the ECL is the probability-weighted sum of the scenarios' ECL
    two = {
        "scenarios": {
            "definitions": {
                "baseline": {"ecl_weight": 0.5},
                "upside": {"ecl_weight": 0.0},
                "downside": {"ecl_weight": 0.5},
            }
        }
    }
    m2 = ECLModel.from_matrices({"p": matrix()}, horizon_months=3, policy=two)
    e2 = m2.measure(book, res, lgd=0.5)
    mix = 0.5 * e2.loans["ecl_baseline"] + 0.5 * e2.loans["ecl_downside"]
    np.testing.assert_allclose(e2.loans["ecl"], mix, rtol=1e-12)
    assert (e2.loans["ecl_downside"][:2] > e2.loans["ecl_baseline"][:2]).all()
    assert e2.scenarios.loc["downside", "ecl"] > e2.scenarios.loc["baseline", "ecl"]


def test_staying_matrix_and_marginal_pd():
    p = staying_matrix(matrix())
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert p[0, 5] == 0.0 and p[0, 1] == pytest.approx(0.05 / 0.95)
    assert p[2, 2] == 1.0  # default states absorbing (first passage)
    q = marginal_pd([matrix()] * 40, ["normal"])[0]
    assert q.min() >= 0 and q.sum() <= 1
    # annualising a one-month PD of p: 1 - (1 - p)^12
    assert annualised(np.array([0.01]), np.array([1]))[0] == pytest.approx(1 - 0.99**12)


def test_stages_follow_policy():
    cats = np.array(["normal", "normal", "special_mention", "substandard", "normal", "loss"])
    dpd = np.array([0, 31, 0, 95, 0, 400])
    ratio = np.array([1.0, 1.0, 1.0, np.nan, 2.5, np.nan])
    st, why = assign_stages(cats, dpd, ratio)
    assert st.tolist() == [1, 2, 2, 3, 2, 3]
    assert why.tolist() == [
        "performing",
        "over_30_dpd",
        "special_mention",
        "non_performing",
        "pd_increase",
        "non_performing",
    ]
    st2, _ = assign_stages(cats, dpd, ratio, {"ecl": {"stage2_pd_multiple": 3.0}})
    assert st2[4] == 1


def test_exposure_profile_with_arrears_and_maturity():
    book, _ = three_loans()
    ix = book.schedule_index
    # 2,500 outstanding on 31 Mar (2 due, 500 short): arrears stay until paid
    ead, life = exposure_profile(ix, "2026-03-31", np.array([2500.0, 1000.0, 0.0]), 4)
    assert ead.tolist()[0] == [2500.0, 1500.0, 1500.0, 1500.0]
    assert ead.tolist()[2] == [0.0] * 4
    assert life.tolist() == [1, 1, 1]
    # past maturity: one month of life left
    _, life2 = exposure_profile(ix, "2026-06-30", np.array([500.0, 0, 0]), 4)
    assert life2.tolist() == [1, 1, 1]


def test_movement_adds_up_month_on_month():
    book, res = three_loans()
    model = ECLModel.from_matrices({"p": matrix()}, horizon_months=3, policy=ONE)
    prev = model.measure(book, res, lgd=0.5)
    # a month later: L1 moved to special mention, L2 cured to normal, L3 written off, L4 new
    book2, res2 = three_loans(("special_mention", "normal", "doubtful"), (12, 0, 130))
    f = res2.table.copy()
    f.loc["L3", ["written_off", "outstanding_principal"]] = [True, 0.0]
    cur = model.measure(book2, ClassificationResult(f, AS_OF))
    new = cur.loans.iloc[:1].rename(index={"L1": "L4"})
    cur.loans = pd.concat([cur.loans, new])
    mv = ecl_movement(prev, cur, written_off=["L3"])
    t = mv.table
    # each transfer row moves opening ECL between stages: it sums to zero
    for k in (1, 2, 3):
        assert t.loc[f"transfer_to_stage_{k}", "total"] == pytest.approx(0.0, abs=1e-9)
    body = t.drop(index=["opening", "closing"])
    np.testing.assert_allclose(t.loc["opening"] + body.sum(), t.loc["closing"], atol=1e-9)
    assert t.loc["written_off", "stage_3"] == pytest.approx(-prev.loans.loc["L3", "ecl"])
    assert t.loc["new_loans", "total"] == pytest.approx(new["ecl"].iloc[0])
    assert t.loc["transfer_to_stage_2", "stage_1"] == pytest.approx(-prev.loans.loc["L1", "ecl"])
    assert t.loc["closing", "total"] == pytest.approx(cur.loans["ecl"].sum())
    assert set(mv.loans["movement"]) == {"transfer", "written_off", "new"}


def test_prepayment_rate_estimated_from_history():
    book, _ = three_loans()
    book.loans["term_months"] = 12  # contractual maturity a year away
    months = pd.to_datetime(["2026-01-31", "2026-02-28", "2026-03-31"])
    rows = []
    for lid, paid in (("L1", [False, True, True]), ("L2", [False, False, False])):
        for d, p in zip(months, paid, strict=True):
            rows.append((lid, d, "normal", 0.0 if p else 1000.0, p, "p"))
    h = pd.DataFrame(
        rows, columns=["loan_id", "as_of", "category", "outstanding_principal", "paid_off", "x"]
    )
    # performing loan-months with a next month: L1 Jan, L2 Jan, L2 Feb; one prepaid (L1)
    assert prepayment_rate(h, book)["__all__"] == pytest.approx(1 / 3)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.tuples(st.integers(1, 3), st.floats(0, 1e4))),
            st.one_of(st.none(), st.tuples(st.integers(1, 3), st.floats(0, 1e4))),
            st.booleans(),
        ),
        max_size=30,
    )
)
def test_movement_always_reconciles(loans):
    """Any two months: transfers sum to zero and opening + movements = closing, per stage."""
    prev = {f"L{i}": p for i, (p, _, _) in enumerate(loans) if p is not None}
    cur = {f"L{i}": c for i, (_, c, _) in enumerate(loans) if c is not None}
    wo = [f"L{i}" for i, (p, c, w) in enumerate(loans) if w and p is not None and c is None]

    def frame(d):
        return pd.DataFrame(
            {"stage": [v[0] for v in d.values()], "ecl": [v[1] for v in d.values()]},
            index=pd.Index(list(d), dtype=object),
        )

    t = ecl_movement(frame(prev), frame(cur), written_off=wo).table
    for k in (1, 2, 3):
        assert abs(t.loc[f"transfer_to_stage_{k}", "total"]) < 1e-6
    body = t.drop(index=["opening", "closing"]).sum()
    np.testing.assert_allclose(t.loc["opening"] + body, t.loc["closing"], atol=1e-6)
    assert t.loc["written_off", "total"] == pytest.approx(-sum(prev[w][1] for w in wo))


def test_a_loss_loan_carries_the_lgd_floor():
    """Loss (损失): unpayable once guarantee and collateral are exhausted, so 100% LGD by
    default whatever the workout LGD of its guarantee type; doubtful keeps the workout LGD."""
    book, res = three_loans(("normal", "doubtful", "loss"), (0, 200, 400))
    model = ECLModel.from_matrices({"p": matrix()}, horizon_months=3, policy=ONE)
    got = model.measure(book, res, lgd=0.5).loans
    assert got["stage"].tolist() == [1, 3, 3]
    assert got.loc["L2", "ecl"] == pytest.approx(0.5 * 3000.0)
    assert got.loc["L3", "ecl"] == pytest.approx(3000.0) and got.loc["L3", "lgd"] == 1.0
    pol = {**ONE, "ecl": {"lgd_floor": {"loss": 0.8, "doubtful": 0.6}}}
    m2 = ECLModel.from_matrices({"p": matrix()}, horizon_months=3, policy=pol)
    got = m2.measure(book, res, lgd=0.5).loans
    assert got["ecl"].tolist()[1:] == pytest.approx([0.6 * 3000.0, 0.8 * 3000.0])
    assert got.loc["L1", "lgd"] == 0.5  # normal: no floor


def test_a_normal_loan_whose_own_pd_more_than_doubled_goes_to_stage_2():
    """The segment's PD term structure cannot move a normal loan (ratio about 1); the loan's
    own PD (the champion's, at origination and now) can: 4% -> 9% is 2.25x > 2."""
    book, res = three_loans(("normal", "normal", "normal"), (0, 0, 0))
    model = ECLModel.from_matrices({"p": matrix()}, horizon_months=3, policy=ONE)
    before = model.measure(book, res, lgd=0.5).loans
    assert before["stage"].tolist() == [1, 1, 1]
    assert (before["pd_test"] == "segment").all()
    loan_pd = pd.DataFrame(
        {"pd_then": [0.04, 0.04], "pd_now": [0.09, 0.08]},
        index=pd.Index(["L1", "L2"], name="loan_id"),
    )
    got = model.measure(book, res, lgd=0.5, loan_pd=loan_pd).loans
    assert got["pd_ratio"].tolist()[:2] == pytest.approx([2.25, 2.0])
    assert got["stage"].tolist() == [2, 1, 1]  # exactly 2x is not above 2x
    assert got["stage_reason"].tolist()[0] == "pd_increase"
    assert got["pd_test"].tolist() == ["loan", "loan", "segment"]
    # stage 2 carries the lifetime ECL, identical to the stage-1 loan's lifetime figure
    assert got.loc["L1", "ecl"] == pytest.approx(got.loc["L3", "ecl_lifetime"])
