"""Benchmark: delinquency derivation for 1,000,000 loans disbursed over 36 months.

Riskkit: :func:`riskkit.book.delinquency_status` (vectorised over all loans), timed with and
without building the book's schedule index.

Peer: a plain pandas ``groupby("loan_id").apply`` implementation of the same rule, written
below from the documented rule (payments up to the as-of date applied to the oldest
installment first, interest before principal; an installment due by the as-of date is missed
while its shortfall exceeds the tolerance; consecutive missed periods, days past due from the
oldest missed due date, outstanding principal with money paid ahead filling the next
installments in order, interest first; after maturity
each further whole month counts as one more missed period). The peer runs on a random
subsample in the same process and is extrapolated linearly; both must agree loan by loan on
that subsample.

The book is generated directly with numpy (not with ``make_microloan_book``): terms of 6-36
months, equal-principal schedules, on-time, late, partial and missed payments, borrowers who
stop paying, and some lump-sum prepayments.

Usage (from the repository root)::

    python -m benchmarks.bench_delinquency            # 1,000,000 loans, peer on 20,000
    python -m benchmarks.bench_delinquency --quick    # 50,000 loans, peer on 2,000
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from riskkit.book import LoanBook, delinquency_status
from riskkit.book.schedule import add_months, months_between

AS_OF = pd.Timestamp("2026-10-31")
TOL_ABS = 1.0  # the default policy: delinquency.tolerance_abs (tolerance_ratio 0)


def build_book(n: int, months: int = 36, seed: int = 0) -> LoanBook:
    """Loans, schedule and payments built directly with numpy (valid by construction)."""
    rng = np.random.default_rng(seed)
    a = np.datetime64(AS_OF.date(), "D")
    disb = a - rng.integers(1, months * 30, n).astype("timedelta64[D]")
    term = rng.choice(np.array([6, 12, 24, 36]), n)
    amount = rng.integers(5, 100, n) * 1000.0
    rate = rng.choice(np.array([0.08, 0.12, 0.18]), n)
    loan_id = np.arange(1, n + 1, dtype=np.int64)
    loans = pd.DataFrame(
        {
            "loan_id": loan_id,
            "borrower_id": loan_id,
            "product": "business",
            "amount": amount,
            "disbursement_date": disb.astype("datetime64[ns]"),
            "term_months": term,
            "annual_rate": rate,
            "repayment_method": "equal_principal",
            "guarantee_type": "credit",
            "purpose": "working capital",
            "officer_id": rng.integers(1, 300, n),
            "branch": "main",
        }
    )
    # equal-principal schedule, one row per loan and period
    row = np.repeat(np.arange(n), term)
    start = np.r_[0, np.cumsum(term)[:-1]]
    k = np.arange(len(row)) - np.repeat(start, term)  # 0-based period
    t = term[row]
    p = np.round(amount[row] / t, 2)
    last = k == t - 1
    p = np.where(last, amount[row] - p * (t - 1), p)
    bal_before = amount[row] - np.round(amount[row] / t, 2) * k
    i = np.round(bal_before * rate[row] / 12, 2)
    due = add_months(disb[row], k + 1)
    schedule = pd.DataFrame(
        {
            "loan_id": loan_id[row],
            "period": (k + 1).astype(np.int64),
            "due_date": due.astype("datetime64[ns]"),
            "principal_due": p,
            "interest_due": i,
        }
    )
    # behaviour: 8% stop paying at some period; 3% partial, 3% missed, 10% a few days late
    stop = np.where(rng.random(n) < 0.08, rng.integers(0, 36, n), 10**6)
    u = rng.random(len(row))
    inst = p + i
    amt = np.where(u < 0.03, np.round(inst * 0.5, 2), np.where(u < 0.06, 0.0, inst))
    amt = np.where(k >= stop[row], 0.0, amt)
    late = (u > 0.06) & (u < 0.16)
    lag = np.where(late, rng.integers(1, 25, len(row)), -rng.integers(0, 4, len(row)))
    pday = due + lag.astype("timedelta64[D]")
    pday = np.maximum(pday, disb[row] + np.timedelta64(1, "D"))
    keep = (amt > 0) & (pday <= a)
    pay_loan, pay_day, pay_amt = loan_id[row][keep], pday[keep], amt[keep]
    # 2% prepay a lump of principal once
    pp = np.flatnonzero(rng.random(n) < 0.02)
    pp_day = disb[pp] + rng.integers(40, 400, len(pp)).astype("timedelta64[D]")
    ok = pp_day <= a
    payments = pd.DataFrame(
        {
            "loan_id": np.r_[pay_loan, loan_id[pp][ok]],
            "payment_date": np.r_[pay_day, pp_day[ok]].astype("datetime64[ns]"),
            "amount": np.r_[pay_amt, np.round(amount[pp][ok] * 0.3, 2)],
        }
    )
    return LoanBook(loans, schedule, payments, as_of_date=AS_OF, validate=False)


# ---------------------------------------------------------------- the peer: groupby-apply
def _one_loan(s: pd.DataFrame, paid_rows: pd.DataFrame | None, as_of: pd.Timestamp) -> pd.Series:
    s = s.sort_values("period")
    paid = 0.0
    if paid_rows is not None:
        paid = float(paid_rows.loc[paid_rows["payment_date"] <= as_of, "amount"].sum())
    due = s["principal_due"] + s["interest_due"]
    cum_before = due.cumsum() - due
    alloc = (paid - cum_before).clip(lower=0.0).combine(due, min)
    short = due - alloc
    is_due = s["due_date"] <= as_of
    missed_rows = is_due & (short > TOL_ABS)
    int_alloc = alloc.combine(s["interest_due"], min)
    prin_alloc = alloc - int_alloc
    arrears = short[is_due].sum()
    # money paid ahead fills the next installments in order (interest before principal)
    outstanding = max(s["principal_due"].sum() - prin_alloc.sum(), 0.0)
    if outstanding < 0.005:
        outstanding = 0.0
    missed = int(missed_rows.sum())
    dpd = (as_of - s.loc[missed_rows, "due_date"].min()).days if missed else 0
    last_due = s["due_date"].iloc[-1]
    if missed and last_due < as_of:  # keeps ageing after maturity
        missed += max(
            int(months_between(np.array([last_due.to_datetime64()]), as_of.to_datetime64())[0]),
            0,
        )
    return pd.Series(
        {
            "outstanding_principal": outstanding,
            "arrears": arrears,
            "missed_periods": missed,
            "days_past_due": dpd,
        }
    )


def peer_status(book: LoanBook, as_of: pd.Timestamp) -> pd.DataFrame:
    pays = dict(tuple(book.payments.groupby("loan_id")))
    return book.schedule.groupby("loan_id").apply(
        lambda g: _one_loan(g, pays.get(g.name), as_of), include_groups=False
    )


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    ap.add_argument("--loans", type=int, default=None)
    ap.add_argument("--peer-loans", type=int, default=None)
    args = ap.parse_args(argv)
    n = args.loans or (50_000 if args.quick else 1_000_000)
    m = min(args.peer_loans or (2_000 if args.quick else 20_000), n)

    t0 = time.perf_counter()
    book = build_book(n)
    t_build = time.perf_counter() - t0
    print(
        f"book: {n:,} loans, {len(book.schedule):,} schedule rows, "
        f"{len(book.payments):,} payments (built in {t_build:.1f} s)"
    )
    t0 = time.perf_counter()
    _ = book.schedule_index
    t_index = time.perf_counter() - t0
    t0 = time.perf_counter()
    st = delinquency_status(book, AS_OF)
    t_status = time.perf_counter() - t0
    ours = t_index + t_status
    print(
        f"riskkit delinquency_status: {ours:.2f} s (index {t_index:.2f} s + status {t_status:.2f} s)"
    )

    rng = np.random.default_rng(1)
    ids = np.sort(rng.choice(book.loans["loan_id"].to_numpy(), m, replace=False))
    sub = book.subset(ids)
    t0 = time.perf_counter()
    ref = peer_status(sub, AS_OF)
    t_peer = time.perf_counter() - t0
    peer_full = t_peer * n / m
    print(f"pandas groupby-apply: {t_peer:.2f} s on {m:,} loans -> {peer_full:.1f} s for {n:,}")

    mine = st.loc[ref.index]
    agree = {
        "missed_periods": bool((mine["missed_periods"] == ref["missed_periods"]).all()),
        "days_past_due": bool((mine["days_past_due"] == ref["days_past_due"]).all()),
        "outstanding_principal": bool(
            np.allclose(mine["outstanding_principal"], ref["outstanding_principal"], atol=0.01)
        ),
        "arrears": bool(np.allclose(mine["arrears"], ref["arrears"], atol=0.01)),
    }
    print(f"agreement on the subsample ({m:,} loans): {agree}")
    dist = st["missed_periods"].clip(upper=7).value_counts().sort_index()
    print("missed periods (7 = 7+):", dict(zip(dist.index.tolist(), dist.tolist(), strict=True)))
    ratio = peer_full / ours
    print(f"speed-up vs groupby-apply: {ratio:.0f}x")
    if not all(agree.values()):
        raise SystemExit("riskkit and the groupby-apply peer disagree")
    return {"loans": n, "riskkit_s": ours, "peer_s_extrapolated": peer_full, "ratio": ratio}


if __name__ == "__main__":
    main()
