"""Benchmark: delinquency derivation for a realistic book of 1,000,000 loans.

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

The book is shaped like a real extract (:mod:`benchmarks.books`): the sample generator's book
(string ids, all seven tables, its behaviour mix: annuity, equal-principal, interest-only and
bullet schedules, partial payments, spirals, cures, prepayments), above 100,000 loans copied
with distinct ids.

Usage (from the repository root)::

    python -m benchmarks.bench_delinquency            # 1,000,000 loans, peer on 20,000
    python -m benchmarks.bench_delinquency --quick    # 100,000 loans, peer on 2,000
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from benchmarks.books import AS_OF, benchmark_book, describe, peak_rss_gib, text_ids
from riskkit.book import LoanBook, delinquency_status
from riskkit.book.schedule import months_between

TOL_ABS = 1.0  # the default policy: delinquency.tolerance_abs (tolerance_ratio 0)


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
    n = args.loans or (100_000 if args.quick else 1_000_000)
    m = min(args.peer_loans or (2_000 if args.quick else 20_000), n)

    book, load = benchmark_book(n)
    print(f"book: {describe(book)}; " + ", ".join(f"{k} {v:.1f} s" for k, v in load.items()))
    t0 = time.perf_counter()
    _ = book.schedule_index
    t_index = time.perf_counter() - t0
    t0 = time.perf_counter()
    st = delinquency_status(book, AS_OF)
    t_status = time.perf_counter() - t0
    ours = t_index + t_status
    print(
        f"riskkit delinquency_status: {ours:.2f} s (index {t_index:.2f} s + status {t_status:.2f} s)"
        f"; peak memory {peak_rss_gib():.2f} GiB"
    )

    rng = np.random.default_rng(1)
    ids = np.sort(rng.choice(book.loans["loan_id"].to_numpy(), m, replace=False))
    sub = text_ids(book.subset(ids))
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
