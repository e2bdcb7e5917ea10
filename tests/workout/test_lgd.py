"""Realised workout LGD: default events and resolutions from a hand-made history, discounted
recoveries net of costs computed by hand, segment tables with the policy fallback."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskkit.book import LoanBook, make_schedule
from riskkit.workout import default_events, realised_lgd
from riskkit.workout.lgd import project_open_workouts

MONTHS = pd.date_range("2026-01-31", "2026-12-31", freq="ME")
DPM = 365.25 / 12


def _history():
    """Per loan: category by month-end (None: not yet disbursed), balance, paid off, written."""
    n = "normal"
    spec = {
        # recovered: defaults end of Feb, paid off by the guarantor and a collateral sale
        "R": ([n, "substandard", "doubtful", "doubtful", "doubtful"] + [n] * 7, 10_000.0, 5, None),
        # cured: defaults end of Feb, performing from March on
        "C": ([n, "substandard"] + [n] * 10, 10_000.0, None, None),
        # written off: defaults end of Feb, written off end of June
        "W": ([n, "substandard", "doubtful", "loss", "loss"] + ["loss"] * 7, 8_000.0, None, 5),
        # still open: defaults end of October
        "U": ([n] * 9 + ["substandard", "doubtful", "doubtful"], 5_000.0, None, None),
    }
    rows = []
    for lid, (cats, bal, paid_from, wo_from) in spec.items():
        for k, (d, c) in enumerate(zip(MONTHS, cats, strict=True)):
            paid = paid_from is not None and k >= paid_from
            wo = wo_from is not None and k >= wo_from
            b = 0.0 if paid or wo else bal
            if lid == "C" and k >= 2:
                b = 7_000.0  # cured with 7,000 outstanding
            rows.append((lid, d, c, b, paid, wo))
    # left-censored: already non-performing at the first month of the history
    rows += [("X", d, "doubtful", 3_000.0, False, False) for d in MONTHS]
    return pd.DataFrame(
        rows,
        columns=["loan_id", "as_of", "category", "outstanding_principal", "paid_off"]
        + ["written_off"],
    )


def _book():
    ids = ["R", "C", "W", "U", "X"]
    loans = pd.DataFrame(
        {
            "loan_id": ids,
            "borrower_id": ids,
            "product": "p",
            "amount": [10_000.0, 10_000.0, 8_000.0, 5_000.0, 3_000.0],
            "disbursement_date": pd.Timestamp("2025-06-15"),
            "term_months": 24,
            "annual_rate": 0.12,
            "repayment_method": "interest_only",
            "guarantee_type": ["mortgage", "credit", "credit", "credit", "guaranteed"],
            "purpose": "x",
            "officer_id": "O1",
            "branch": "b",
        }
    )
    pay = pd.DataFrame(
        [
            ("R", "2026-04-15", 5_000.0, "guarantor"),
            ("R", "2026-06-15", 5_600.0, "collateral"),
            ("R", "2026-02-10", 100.0, "borrower"),  # before the default: not a recovery
            ("C", "2026-03-20", 2_500.0, "borrower"),
            ("W", "2026-03-10", 800.0, "borrower"),
            ("W", "2026-09-15", 400.0, "borrower"),  # after the write-off (账销案存)
            ("U", "2026-11-20", 300.0, "borrower"),
        ],
        columns=["loan_id", "payment_date", "amount", "source"],
    )
    pay["payment_date"] = pd.to_datetime(pay["payment_date"])
    coll = pd.DataFrame(
        {
            "collateral_id": ["K1"],
            "loan_id": ["R"],
            "collateral_type": ["real_estate"],
            "appraised_value": [20_000.0],
            "valuation_date": pd.to_datetime(["2025-06-01"]),
        }
    )
    return LoanBook(loans, make_schedule(loans), pay, collateral=coll, validate=False)


def _pv(amount, cost, paid, default):
    months = (pd.Timestamp(paid) - pd.Timestamp(default)).days / DPM
    return amount * (1 - cost) * 1.01**-months


def test_default_events_and_resolutions():
    ev = default_events(_history(), cure_months=3)
    assert ev.attrs["left_censored"] == 1 and "X" not in ev.index
    assert ev.loc["R", "default_date"] == pd.Timestamp("2026-02-28")
    assert ev["resolution"].to_dict() == {
        "C": "cured",
        "R": "recovered",
        "U": "unresolved",
        "W": "written_off",
    }
    assert ev.loc["R", "resolution_date"] == pd.Timestamp("2026-06-30")
    assert ev.loc["C", "resolution_date"] == pd.Timestamp("2026-03-31")
    assert ev.loc["C", "cure_balance"] == 7_000.0
    assert ev.loc["W", "ead"] == 8_000.0
    # a default open for longer than the maximum workout is deemed closed
    ev2 = default_events(_history(), 3, max_workout_months=3)
    assert ev2.loc["U", "resolution"] == "unresolved"  # defaulted in Oct, history ends in Dec
    ev3 = default_events(_history(), 3, max_workout_months=2)
    assert ev3.loc["U", "resolution"] == "deemed_closed"


def test_lgd_by_hand():
    r = realised_lgd(_book(), _history(), as_of="2026-12-31")
    lo = r.loans
    pv_r = _pv(5_000, 0.03, "2026-04-15", "2026-02-28") + _pv(
        5_600, 0.08, "2026-06-15", "2026-02-28"
    )
    assert lo.loc["R", "lgd"] == pytest.approx(max(0.0, 1 - pv_r / 10_000), abs=1e-10)
    pv_c = _pv(2_500, 0.02, "2026-03-20", "2026-02-28") + _pv(7_000, 0, "2026-03-31", "2026-02-28")
    assert lo.loc["C", "lgd"] == pytest.approx(1 - pv_c / 10_000, abs=1e-10)
    pv_w = _pv(800, 0.02, "2026-03-10", "2026-02-28") + _pv(400, 0.02, "2026-09-15", "2026-02-28")
    assert lo.loc["W", "lgd"] == pytest.approx(1 - pv_w / 8_000, abs=1e-10)
    assert lo.loc["W", "recoveries_after_write_off"] == 400.0
    assert lo.loc["R", "recoveries"] == 10_600.0  # the payment before default is not counted
    assert np.isnan(lo.loc["U", "lgd"])  # open workout: not in the realised LGD
    to_date = 1 - _pv(300, 0.02, "2026-11-20", "2026-10-31") / 5_000
    assert lo.loc["U", "lgd_to_date"] == pytest.approx(to_date)
    t = r.table
    resolved = (lo.loc["C", "lgd"] + lo.loc["W", "lgd"]) / 2
    assert t.loc["credit", "resolved"] == 2 and t.loc["credit", "unresolved"] == 1
    assert t.loc["credit", "lgd_resolved"] == pytest.approx(resolved)
    # U is 2 whole months in workout (Oct 31 -> Dec 31); of the resolved credit workouts only
    # W lasted longer (4 months; C cured after 1): W's recovery after month 2 is the 400 paid
    # in September, so U expects 400 net of 2% costs, discounted, on 8,000 of W's EAD
    further = _pv(400, 0.02, "2026-09-15", "2026-02-28") / 8_000
    u = max(to_date - further, resolved)
    assert u == pytest.approx(0.895, abs=1e-3)  # 1 - 294/5000 (about) - 0.0458
    assert lo.loc["U", "lgd_estimate"] == pytest.approx(u)
    assert t.loc["credit", "lgd_mean"] == pytest.approx((2 * resolved + u) / 3)
    assert t.loc["credit", "lgd_incl_open"] == pytest.approx((2 * resolved + to_date) / 3)
    # too few resolved defaults: the policy constant is used, and the table says so
    assert t.loc["credit", "source"] == "policy" and t.loc["credit", "lgd_used"] == 0.65
    assert t.loc["pledge", "defaults"] == 0 and t.loc["pledge", "lgd_used"] == 0.10
    assert r.lgd_for(["credit", "mortgage"]).tolist() == [0.65, 0.20]
    assert r.by_collateral.loc["real_estate", "lgd_mean"] == pytest.approx(lo.loc["R", "lgd"])


def test_enough_resolved_defaults_use_the_realised_lgd():
    pol = {"workout": {"min_resolved": 2, "bootstrap_draws": 500}}
    r = realised_lgd(_book(), _history(), as_of="2026-12-31", policy=pol)
    t = r.table
    assert t.loc["credit", "source"] == "realised"
    assert t.loc["credit", "lgd_used"] == pytest.approx(t.loc["credit", "lgd_mean"])
    assert t.loc["credit", "ci_lower"] <= t.loc["credit", "lgd_mean"] <= t.loc["credit", "ci_upper"]
    assert t.loc["mortgage", "source"] == "policy"  # one resolved default only
    # seeded: the same intervals again
    again = realised_lgd(_book(), _history(), as_of="2026-12-31", policy=pol).table
    assert again.loc["credit", "ci_lower"] == t.loc["credit", "ci_lower"]
    assert "credit=" in repr(r)


def test_open_workouts_at_loss_to_date_and_floored_by_the_resolved_mean():
    pol = {"workout": {"open_workouts": "loss_to_date"}}
    lo = realised_lgd(_book(), _history(), as_of="2026-12-31", policy=pol).loans
    assert lo.loc["U", "lgd_estimate"] == pytest.approx(lo.loc["U", "lgd_to_date"])
    # an open workout that recovered more than the resolved ones so far still counts at the
    # resolved mean at least: R is the only mortgage default, so R's LGD is that floor
    book = _book()
    book.payments.loc[book.payments["loan_id"] == "U", "amount"] = 5_000.0
    lo = realised_lgd(book, _history(), as_of="2026-12-31").loans
    assert lo.loc["U", "lgd_to_date"] < (lo.loc["C", "lgd"] + lo.loc["W", "lgd"]) / 2
    assert lo.loc["U", "lgd_estimate"] == pytest.approx(
        (lo.loc["C", "lgd"] + lo.loc["W", "lgd"]) / 2
    )
    with pytest.raises(ValueError, match="open_workouts"):
        realised_lgd(_book(), _history(), as_of="2026-12-31",
                     policy={"workout": {"open_workouts": "ignore"}})  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    resolved=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=6),
    extra=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=6),
    ages=st.lists(st.integers(0, 24), min_size=6, max_size=6),
)
def test_adding_open_workouts_that_recovered_less_never_lowers_the_estimate(resolved, extra, ages):
    """Open workouts whose loss to date is above every resolved LGD: the mean estimate over
    all defaults is at least the resolved mean, whatever the resolved recovery curves."""
    n_r, n_o = len(resolved), len(extra)
    worst = max(resolved)
    to_date = [worst + (1 - worst) * e for e in extra]
    rng = np.random.default_rng(len(resolved) * 7 + len(extra))
    k = 26
    final = 1 - np.array(resolved + to_date)
    cum = np.sort(rng.uniform(0, 1, (n_r + n_o, k)), axis=1) * final[:, None]
    cum[:, -1] = final
    day = pd.Timestamp("2024-01-31")
    loans = pd.DataFrame({
        "resolution": ["recovered"] * n_r + ["unresolved"] * n_o,
        "guarantee_type": "credit",
        "lgd": resolved + [np.nan] * n_o,
        "lgd_to_date": resolved + to_date,
        "default_date": [day - pd.DateOffset(months=a) for a in (ages * 2)[: n_r + n_o]],
        "resolution_date": [day] * n_r + [pd.NaT] * n_o,
    })  # fmt: skip
    est = project_open_workouts(loans, cum, day, "recovery_curve")
    assert np.isfinite(est).all()
    assert est.mean() >= np.mean(resolved) - 1e-12
    assert (est[n_r:] <= np.array(to_date) + 1e-12).all()  # never worse than loss to date
