"""Benchmark: five-category classification of a realistic book of 1,000,000 loans.

Target: under 5 s for ``Classifier().classify(book, as_of)`` on a fresh book, which includes
building the schedule index and deriving delinquency (missed periods, days past due) from the
schedule and payments, the incidental-default check, the risk signals and the explanations;
peak memory of the whole process (reading the extract included) under 2 GiB.

The book is shaped like a real extract (:mod:`benchmarks.books`): the sample generator's
100,000-loan book (string ids, all seven tables, its behaviour mix) copied to 1,000,000 loans
with distinct ids, read from Parquet, ids held as codes (``LoanBook.compact``).

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

from benchmarks.books import (
    AS_OF,
    benchmark_book,
    describe,
    peak_rss_gib,
    text_ids,
)
from riskkit.book import LoanBook
from riskkit.book.schedule import months_between
from riskkit.categories import Category
from riskkit.classification import Classifier
from riskkit.policy import load_policy

TARGET_S = 5.0
TARGET_GIB = 2.0


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


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100k loans, 2k for the peer")
    ap.add_argument("--loans", type=int, default=None)
    ap.add_argument("--peer-loans", type=int, default=None)
    args = ap.parse_args(argv)
    n = args.loans or (100_000 if args.quick else 1_000_000)
    n_peer = min(args.peer_loans or (2_000 if args.quick else 20_000), n)

    book, load = benchmark_book(n)
    print(f"book: {describe(book)}; " + ", ".join(f"{k} {v:.1f} s" for k, v in load.items()))
    t = time.perf_counter()
    res = Classifier().classify(book, AS_OF)
    t_fast = time.perf_counter() - t
    peak = peak_rss_gib()
    print(f"riskkit Classifier.classify (incl. index and delinquency derivation): {t_fast:.2f} s")
    print(f"peak memory of the process (reading the extract included): {peak:.2f} GiB")
    print(res.summary().to_string())

    rng = np.random.default_rng(1)
    ids = rng.choice(book.loans["loan_id"].to_numpy(), n_peer, replace=False)
    sub = text_ids(book.subset(ids))
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
    ratio = extrapolated / t_fast
    print(
        f"speed-up vs peer: {ratio:.0f}x; target < {TARGET_S:g} s: "
        f"{'met' if t_fast < TARGET_S else 'NOT met'} ({t_fast:.2f} s); peak memory < "
        f"{TARGET_GIB:g} GiB: {'met' if peak < TARGET_GIB else 'NOT met'} ({peak:.2f} GiB)"
    )
    if agree < 1.0:
        raise SystemExit("riskkit and the pandas reference disagree")
    return {"loans": n, "seconds": t_fast, "peak_gib": peak, "ratio": ratio}


if __name__ == "__main__":
    main()
