"""Benchmark: five-category classification of 1,000,000 loans with 36 months of history.

Target: under 5 s for ``Classifier().classify(book, as_of)`` on a fresh book, which includes
building the schedule index and deriving delinquency (missed periods, days past due) from the
schedule and payments, the incidental-default check, the risk signals and the explanations.

Peer: a plain pandas ``groupby(...).apply`` implementation of the same rules, written
independently below, run on a random subsample in the same process and extrapolated
linearly to the full book; the two must agree loan by loan on the subsample.

Usage::

    python -m benchmarks.bench_classification            # 1,000,000 loans, 20,000 for the peer
    python -m benchmarks.bench_classification --quick    # 100,000 loans, 2,000 for the peer
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from benchmarks.bench_delinquency import build_book as delinquency_book
from riskkit.book import LoanBook, RecoveryStatus
from riskkit.book.schedule import months_between
from riskkit.book.schema import SIGNAL_CODES
from riskkit.categories import Category
from riskkit.classification import Classifier
from riskkit.policy import load_policy

AS_OF = pd.Timestamp("2026-10-31")


def build_book(n: int, months: int = 36, seed: int = 0) -> LoanBook:
    """The delinquency benchmark's book (schedules and payment behaviour built with numpy),
    with products, branches, borrowers holding several loans, and risk signals added."""
    base = delinquency_book(n, months, seed)
    rng = np.random.default_rng(seed + 1)
    loan_id = base.loans["loan_id"].to_numpy()
    disb = base.loans["disbursement_date"].to_numpy().astype("datetime64[D]")
    a = np.datetime64(AS_OF.date(), "D")
    loans = base.loans.assign(
        borrower_id=rng.integers(1, int(n * 0.8) + 2, n),
        product=pd.Categorical.from_codes(rng.integers(0, 3, n), ["business", "farm", "consumer"]),
        branch=pd.Categorical.from_codes(rng.integers(0, 20, n), [f"B{i:02d}" for i in range(20)]),
    )
    # signals on 4% of loans; recovery status (1-3 rows) on 3%
    k = int(n * 0.04)
    sl = rng.choice(n, k, replace=False)
    span = (a - disb[sl]).astype(np.int64)
    sdate = disb[sl] + (rng.random(k) * span).astype("timedelta64[D]")
    scode = rng.integers(0, len(SIGNAL_CODES), k)
    note = np.full(k, "recorded by officer")
    signals = pd.DataFrame(
        {
            "loan_id": loan_id[sl],
            "signal_date": sdate.astype("datetime64[ns]"),
            "signal": np.asarray(SIGNAL_CODES, dtype=object)[scode],
            "source": "manual",
            "note": note,
        }
    )
    return LoanBook(
        loans,
        base.schedule,
        base.payments,
        signals=signals,
        recovery_status=_recovery_status(rng, loan_id, disb, a),
        as_of_date=AS_OF,
        validate=False,
    )


def _recovery_status(rng, loan_id, disb, a) -> pd.DataFrame:
    """1-3 recovery-status rows (random statuses and dates) for 3% of the loans."""
    n = len(loan_id)
    k = int(n * 0.03)
    sl = np.repeat(rng.choice(n, k, replace=False), rng.integers(1, 4, k))
    span = (a - disb[sl]).astype(np.int64)
    day = disb[sl] + (rng.random(len(sl)) * span).astype("timedelta64[D]")
    return pd.DataFrame(
        {
            "loan_id": loan_id[sl],
            "status_date": day.astype("datetime64[ns]"),
            "status": np.asarray(RecoveryStatus.values(), dtype=object)[
                rng.integers(0, len(RecoveryStatus), len(sl))
            ],
        }
    )


# --- the peer: plain pandas groupby-apply, written loan by loan ---------------------------


def reference_classify(book: LoanBook, as_of, policy=None) -> pd.Series:
    """The same rules, one loan at a time with pandas (slow, obvious)."""
    pol = load_policy(policy)
    cp, dq = pol["classification"], pol["delinquency"]
    mp, bs = cp["missed_periods"], cp["dpd_backstops"]
    as_of = pd.Timestamp(as_of)
    window_start = as_of - pd.DateOffset(months=cp["incidental_lookback_months"])
    pays = book.payments[book.payments["payment_date"] <= as_of]
    pay_groups = {k: g for k, g in pays.groupby("loan_id")}
    sig = book.signals[book.signals["signal_date"] <= as_of]
    sig = sig[
        (sig["signal_date"] > as_of - pd.DateOffset(months=cp["signal_active_months"]))
        | sig["signal"].isin(cp["persistent_signals"])
    ]
    sig_groups = {k: g for k, g in sig.groupby("loan_id")}
    rec = book.recovery_status[book.recovery_status["status_date"] <= as_of]
    rec_groups = {k: g for k, g in rec.groupby("loan_id")}
    empty_p = pays.iloc[:0]

    def one(s: pd.DataFrame) -> int:
        lid = s.name
        s = s.sort_values("period")
        p = pay_groups.get(lid, empty_p)
        paid = p["amount"].sum()
        amount_due = s["principal_due"] + s["interest_due"]
        cum_before = amount_due.cumsum() - amount_due
        alloc = (paid - cum_before).clip(lower=0).clip(upper=amount_due)
        short = amount_due - alloc
        is_due = s["due_date"] <= as_of
        tol = np.maximum(dq["tolerance_abs"], dq["tolerance_ratio"] * amount_due)
        missed_rows = is_due & (short > tol)
        missed = int(missed_rows.sum())
        dpd = (as_of - s.loc[missed_rows, "due_date"].min()).days if missed else 0
        if missed and s["due_date"].max() < as_of:
            last = s["due_date"].max()
            missed += max(int(months_between(np.array([last]), as_of.to_datetime64())[0]), 0)
        int_alloc = np.minimum(alloc, s["interest_due"])
        prin_paid = ((alloc - int_alloc) * is_due).sum()
        arrears = (short * is_due).sum()
        excess = max(paid - ((amount_due * is_due).sum() - arrears), 0.0)
        prepaid = min(excess, (s["principal_due"] * ~is_due).sum())
        outstanding = max(s["principal_due"].sum() - prin_paid - prepaid, 0.0)
        outstanding = 0.0 if outstanding < 0.005 else outstanding
        paid_off = outstanding == 0 and missed == 0 and arrears <= max(dq["tolerance_abs"], 0)

        cat = 0
        if missed >= mp["doubtful"]:
            cat = 3
        elif missed >= mp["substandard"]:
            cat = 2
        elif missed >= mp["special_mention"]:
            cat = 1
        if bs["enabled"]:
            if dpd > 0:
                cat = max(cat, int(Category.parse(bs["any_overdue"])))
            if dpd > bs["substandard_over"]:
                cat = max(cat, 2)
            if dpd > bs["doubtful_over"]:
                cat = max(cat, 3)
            if dpd > bs["loss_over"]:
                cat = 4
        if 0 < missed < mp["special_mention"]:
            recent = s[(s["due_date"] > window_start) & (s["due_date"] <= as_of)]
            for i, row in recent.iterrows():
                need = cum_before[i] + amount_due[i]
                by_due = p.loc[p["payment_date"] <= row["due_date"], "amount"].sum()
                if by_due < need - tol[i] and paid >= need - tol[i]:
                    cat = max(cat, 1)
                    break
        g = sig_groups.get(lid)
        if g is not None:
            for _, r in g.iterrows():
                cat = max(cat, int(Category.parse(cp["signal_minimum"][r["signal"]])))
        g = rec_groups.get(lid)
        if g is not None:  # the latest status (by date, then row order) sets a minimum
            latest = g.sort_values("status_date", kind="stable").iloc[-1]["status"]
            cat = max(cat, int(Category.parse(cp["recovery_status_minimum"][latest])))
        if paid_off:
            cat = 0
        return cat

    return book.schedule.groupby("loan_id").apply(one, include_groups=False)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100k loans, 2k for the peer")
    ap.add_argument("--loans", type=int, default=None)
    ap.add_argument("--peer-loans", type=int, default=None)
    args = ap.parse_args(argv)
    n = args.loans or (100_000 if args.quick else 1_000_000)
    n_peer = args.peer_loans or (2_000 if args.quick else 20_000)

    t = time.perf_counter()
    book = build_book(n)
    print(
        f"built book: {n:,} loans, {len(book.schedule):,} schedule rows, "
        f"{len(book.payments):,} payments, {len(book.signals):,} signals "
        f"in {time.perf_counter() - t:.1f} s"
    )
    clf = Classifier()
    t = time.perf_counter()
    res = clf.classify(book, AS_OF)
    t_fast = time.perf_counter() - t
    print(f"riskkit Classifier.classify (incl. delinquency derivation): {t_fast:.2f} s")
    print(res.summary().to_string())

    rng = np.random.default_rng(1)
    ids = rng.choice(book.loans["loan_id"].to_numpy(), n_peer, replace=False)
    sub = book.subset(ids)
    t = time.perf_counter()
    ref = reference_classify(sub, AS_OF)
    t_peer = time.perf_counter() - t
    extrapolated = t_peer * n / n_peer
    mine = res.table["category"].cat.codes.reindex(ref.index).to_numpy()
    agree = (mine == ref.to_numpy()).mean()
    print(
        f"pandas groupby-apply peer: {t_peer:.2f} s on {n_peer:,} loans "
        f"-> {extrapolated:.0f} s extrapolated to {n:,}"
    )
    print(f"agreement on the subsample: {agree:.4%} ({(mine != ref.to_numpy()).sum()} differ)")
    print(
        f"speed-up vs peer: {extrapolated / t_fast:.0f}x; target < 5 s: "
        f"{'met' if t_fast < 5 else 'NOT met'} ({t_fast:.2f} s)"
    )
    if agree < 1.0:
        raise SystemExit("riskkit and the pandas reference disagree")


if __name__ == "__main__":
    main()
