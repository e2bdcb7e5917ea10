import numpy as np
import pandas as pd
import pytest

from riskkit.book import make_schedule
from riskkit.book.schedule import add_months, months_between


def _loans(method, amount=100_000.0, rate=0.12, term=12, day="2026-01-31"):
    return pd.DataFrame(
        {
            "loan_id": ["L"],
            "amount": [amount],
            "annual_rate": [rate],
            "term_months": [term],
            "repayment_method": [method],
            "disbursement_date": pd.to_datetime([day]),
        }
    )


def test_annuity_hand_values():
    # 100,000 at 12%/yr over 12 months: A = 100000 * 0.01 / (1 - 1.01**-12) = 8,884.88
    s = make_schedule(_loans("annuity"))
    inst = (s.principal_due + s.interest_due).round(2)
    assert (inst.iloc[:-1] == 8884.88).all()
    assert s.interest_due.iloc[0] == 1000.00  # 1% of 100,000
    assert s.principal_due.iloc[0] == 7884.88
    assert s.interest_due.iloc[1] == 921.15  # 1% of 92,115.12
    assert s.principal_due.sum() == pytest.approx(100_000.0, abs=1e-9)
    assert abs(inst.iloc[-1] - 8884.88) < 0.05  # last installment absorbs rounding


def test_equal_principal_hand_values():
    s = make_schedule(_loans("equal_principal"))
    assert s.principal_due.iloc[0] == 8333.33
    assert s.interest_due.tolist()[:3] == [1000.00, 916.67, 833.33]
    assert s.principal_due.iloc[-1] == pytest.approx(8333.37)
    assert s.principal_due.sum() == pytest.approx(100_000.0)


def test_interest_only_and_bullet():
    io = make_schedule(_loans("interest_only"))
    assert (io.interest_due == 1000.0).all() and len(io) == 12
    assert io.principal_due.tolist() == [0.0] * 11 + [100_000.0]
    b = make_schedule(_loans("bullet"))
    assert len(b) == 1
    assert b.principal_due.iloc[0] == 100_000.0 and b.interest_due.iloc[0] == 12_000.0
    assert b.due_date.iloc[0] == pd.Timestamp("2027-01-31")


def test_due_dates_clip_to_month_end():
    s = make_schedule(_loans("annuity", term=3))
    assert s.due_date.dt.strftime("%Y-%m-%d").tolist() == ["2026-02-28", "2026-03-31", "2026-04-30"]


def test_zero_rate_annuity():
    s = make_schedule(_loans("annuity", amount=1200.0, rate=0.0, term=12))
    assert (s.principal_due == 100.0).all() and (s.interest_due == 0).all()


def test_month_arithmetic():
    d = np.array(["2024-01-31", "2024-03-15"], dtype="datetime64[D]")
    np.testing.assert_array_equal(
        add_months(d, np.array([1, 12])), np.array(["2024-02-29", "2025-03-15"], "datetime64[D]")
    )
    assert months_between(np.array(["2026-01-15"], "datetime64[D]"), "2026-04-14")[0] == 2
    assert months_between(np.array(["2026-01-15"], "datetime64[D]"), "2026-04-15")[0] == 3
    # month ends: 31 May -> 30 June is a whole month, as add_months has it
    may31 = np.array(["2026-05-31"] * 5, "datetime64[D]")
    ends = np.array(
        ["2026-06-29", "2026-06-30", "2026-07-31", "2026-09-30", "2026-05-01"], "datetime64[D]"
    )
    np.testing.assert_array_equal(months_between(may31, ends), [0, 1, 2, 4, -1])


def test_months_between_inverts_add_months():
    rng = np.random.default_rng(0)
    start = np.datetime64("2024-01-01") + rng.integers(0, 900, 2000).astype("timedelta64[D]")
    end = start + rng.integers(0, 1500, 2000).astype("timedelta64[D]")
    k = months_between(start, end)
    assert (add_months(start, k) <= end).all()
    assert (add_months(start, k + 1) > end).all()


def test_unknown_method_is_named():
    with pytest.raises(ValueError, match=r"loans.repayment_method.*unknown value.*loan id L"):
        make_schedule(_loans("balloon"))


def test_bad_terms_and_amounts_are_named_not_truncated():
    loans = _loans("annuity")
    with pytest.raises(ValueError, match="term_months: must be an integer dtype, got float64"):
        make_schedule(loans.assign(term_months=12.7))
    with pytest.raises(ValueError, match=r"loans.amount: must be a positive number.*loan id L"):
        make_schedule(loans.assign(amount=float("nan")))
    with pytest.raises(ValueError, match=r"loans.annual_rate: must be >= 0"):
        make_schedule(loans.assign(annual_rate=-0.1))
