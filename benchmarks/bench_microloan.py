"""Benchmark: generating the sample microloan book, 100,000 loans over 36 months.

Target (issue 2): under 30 s for ``make_microloan_book(100_000, 36)``, including the schedules,
the month-by-month behaviour simulation, collateral revaluations and the validation of the
finished book. There is no peer generator; the script prints the time against the target and
the resulting category mix (by consecutive missed periods at the as-of date).

Usage (from the repository root)::

    python -m benchmarks.bench_microloan            # 100,000 loans x 36 months
    python -m benchmarks.bench_microloan --quick    # 10,000 loans x 36 months
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from riskkit.book import delinquency_status
from riskkit.datasets import make_microloan_book

TARGET_S = 30.0


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10,000 loans")
    ap.add_argument("--loans", type=int, default=None)
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    n = args.loans or (10_000 if args.quick else 100_000)

    t0 = time.perf_counter()
    book = make_microloan_book(n_loans=n, months=args.months, seed=args.seed)
    elapsed = time.perf_counter() - t0
    print(book)
    target = TARGET_S * n / 100_000 * args.months / 36
    print(
        f"make_microloan_book({n:,}, {args.months}): {elapsed:.1f} s "
        f"(target {target:.1f} s; {elapsed / target:.2f} of target)"
    )
    st = delinquency_status(book, book.as_of_date)
    mp = st["missed_periods"].to_numpy()
    out = st["outstanding_principal"].to_numpy()
    cat = np.select([mp >= 7, mp >= 4, mp == 3], [3, 2, 1], 0)
    names = ("normal", "special_mention", "substandard", "doubtful")
    share = {names[c]: round(float(out[cat == c].sum() / out.sum()), 4) for c in range(4)}
    print("share of outstanding by consecutive missed periods:", share)
    print(f"NPL (substandard + doubtful) share: {share['substandard'] + share['doubtful']:.2%}")
    return {"loans": n, "seconds": elapsed, "target_s": target, "shares": share}


if __name__ == "__main__":
    main()
