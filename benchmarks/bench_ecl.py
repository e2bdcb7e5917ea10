"""Benchmark: expected credit loss of 1,000,000 loans x 36-month lifetime x 3 scenarios.

Target: under 10 s for :meth:`riskkit.provisions.ECLModel.measure` on a classified book with
about 1,000,000 loans outstanding (2,150,000 loans of the realistic book of
:mod:`benchmarks.books`, string ids and every table; about 47% are still on the book at the
as-of date): staging, exposure profiles from the schedules, prepayment, discounting, three probability-weighted scenarios (policy defaults), per-loan
results and the stage table. The classification (timed separately) and the model (given
monthly matrices per product, the scenario term structures) are built before.

Peer: a plain loan-by-loan implementation of the same formula written below (Python loops
over loans and months, numpy only for the matrix steps), run on a random subsample and
extrapolated linearly; both must agree loan by loan (relative 1e-9).

Usage::

    python -m benchmarks.bench_ecl            # ~1,000,000 loans outstanding, peer on 2,000
    python -m benchmarks.bench_ecl --quick    # 100,000 loans generated, peer on 500
    python -m benchmarks.bench_ecl --loans 500000
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from benchmarks.books import AS_OF, realistic_book
from riskkit.book.schedule import add_months
from riskkit.classification import Classifier
from riskkit.migration import TransitionMatrix
from riskkit.provisions import ECLModel

# a monthly matrix like the sample book's (normal .. loss, repaid, recovered, written off)
MONTHLY = np.array(
    [
        [0.9156, 0.0382, 0.0005, 0.0, 0.0, 0.0457, 0.0, 0.0],
        [0.2595, 0.6248, 0.0800, 0.0, 0.0, 0.0357, 0.0, 0.0],
        [0.0382, 0.0347, 0.6921, 0.2134, 0.0, 0.0, 0.0216, 0.0],
        [0.0012, 0.0020, 0.0006, 0.8853, 0.0370, 0.0, 0.0255, 0.0484],
        [0.0, 0.0, 0.0, 0.0357, 0.3536, 0.0, 0.0013, 0.6094],
        [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0],
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0],
    ]
)
LGD = 0.45
PREPAY = {"business_loan": 0.012, "agri_loan": 0.010, "consumer_loan": 0.015}  # the products


def model() -> ECLModel:
    """Three product segments (the consumer one a little riskier), 3 policy scenarios."""
    risky = MONTHLY.copy()
    risky[0, [0, 1]] = [0.9056, 0.0482]
    mats = {
        "business_loan": TransitionMatrix(MONTHLY),
        "agri_loan": TransitionMatrix(MONTHLY),
        "consumer_loan": TransitionMatrix(risky),
    }
    return ECLModel.from_matrices(mats, prepayment=PREPAY, horizon_months=36)


def reference_ecl(book, result, m: ECLModel, ids) -> pd.Series:
    """The same ECL loan by loan: exposure from the schedule rows, marginal PDs per month,
    prepayment survival, discounting, scenario weights, stage rule (slow, obvious)."""
    f = result.table
    loans = book.loans.set_index("loan_id")
    sched = book.schedule.set_index("loan_id")
    a = np.datetime64(AS_OF.date(), "D")
    edges = add_months(np.full(37, a), np.arange(37))
    out = {}
    for lid in ids:
        row = f.loc[lid]
        if row["paid_off"] or row["outstanding_principal"] <= 0:
            continue
        cat, bal = str(row["category"]), float(row["outstanding_principal"])
        if cat in ("substandard", "doubtful", "loss") or row["days_past_due"] > 90:
            out[lid] = LGD * bal
            continue
        s = sched.loc[[lid]]
        due = s["due_date"].to_numpy().astype("datetime64[D]")
        prin = s["principal_due"].to_numpy()
        life = 1
        ead = []
        for k in range(1, 37):
            before = prin[(due > edges[0]) & (due <= edges[k - 1])].sum()
            ead.append(max(bal - before, 0.0))
            if ((due > edges[k - 1]) & (due <= edges[k])).any() or (due > edges[36]).any():
                life = max(life, k)
        seg = str(row["product"])
        rate = loans.at[lid, "annual_rate"]
        total = 0.0
        for sc in m.scenarios_:
            q = m.marginal_pd_.loc[(sc.name, seg, cat)].to_numpy()
            horizon = (
                life if (cat == "special_mention" or row["days_past_due"] > 30) else min(life, 12)
            )
            e = 0.0
            for k in range(1, horizon + 1):
                e += q[k - 1] * (1 - PREPAY[seg]) ** (k - 1) * ead[k - 1] * (1 + rate / 12) ** -k
            total += sc.weight * LGD * e
        out[lid] = total
    return pd.Series(out, dtype=float)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument(
        "--loans", type=int, help="loans in the book (default 2,150,000: ~1M outstanding)"
    )
    args = ap.parse_args(argv)
    n = args.loans or (100_000 if args.quick else 2_150_000)
    n_peer = 500 if args.quick else 2_000
    t = time.perf_counter()
    book = realistic_book(n)  # string ids, every table, the generator's behaviour mix
    print(f"built book: {n:,} loans, {len(book.schedule):,} schedule rows "
          f"in {time.perf_counter() - t:.1f} s")  # fmt: skip
    t = time.perf_counter()
    res = Classifier().classify(book, AS_OF)
    print(f"classification (not part of the ECL timing): {time.perf_counter() - t:.2f} s")
    m = model()
    t = time.perf_counter()
    ecl = m.measure(book, res, lgd=LGD)
    t_ecl = time.perf_counter() - t
    print(f"riskkit ECLModel.measure, {len(ecl.loans):,} loans on the book x 36 months x "
          f"{len(m.scenarios_)} scenarios: {t_ecl:.2f} s (target < 10 s: "
          f"{'met' if t_ecl < 10 else 'NOT met'})")  # fmt: skip
    print(ecl.table.to_string())
    rng = np.random.default_rng(1)
    ids = rng.choice(res.table.index.to_numpy(), n_peer, replace=False)
    t = time.perf_counter()
    ref = reference_ecl(book, res, m, ids)
    t_peer = time.perf_counter() - t
    mine = ecl.loans["ecl"].reindex(ref.index)
    worst = float((np.abs(mine - ref) / np.maximum(ref.abs(), 1e-9)).max())
    print(f"loan-by-loan peer: {t_peer:.2f} s on {n_peer:,} loans -> "
          f"{t_peer * n / n_peer:.0f} s extrapolated; speed-up {t_peer * n / n_peer / t_ecl:.0f}x; "
          f"largest relative difference {worst:.1e}")  # fmt: skip
    if worst > 1e-9:
        raise SystemExit("riskkit and the loan-by-loan reference disagree")


if __name__ == "__main__":
    main()
