"""Cost of the model registry in the month-end batch: reading the approved champion from the
store and scoring with it, against the batch's own time.

    python -m benchmarks.bench_registry [--quick]

Builds the demo book (20,000 loans; 5,000 with ``--quick``) in a temporary SQLite store,
registers and approves a champion, then times what each report of the batch adds because of
the registry (champion read, document check, scorecard rebuilt from JSON, scoring every
application of the book) and prints it as a share of the batch time measured for the same
book by ``riskkit demo`` (passed with ``--batch-seconds``; default: the README's 20,000-loan
figure). Target (issue 12): at most 10%.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

#: Month-end batch time of `riskkit demo` on the 20,000-loan book (README, this machine).
BATCH_SECONDS = 75.0
#: Reports of the batch that read the champion (monitoring, validation, post-loan review).
READERS = 3


def best_of(fn, n=3) -> float:
    best = float("inf")
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--batch-seconds", type=float, default=BATCH_SECONDS)
    a = ap.parse_args(argv)
    from riskkit.datasets import make_microloan_book
    from riskkit.reports.scoring_report import (
        calibrate_scorecard,
        load_scoring_data,
        register_draft,
    )
    from riskkit.scoring import ModelRegistry, application_sample
    from riskkit.store import Store

    n = 5_000 if a.quick else 20_000
    with tempfile.TemporaryDirectory() as d:
        store = Store(f"sqlite:///{Path(d) / 'bench.db'}")
        store.save_book(make_microloan_book(n_loans=n, seed=0))
        X, y, dates = load_scoring_data("sample_book", store=store)
        v = register_draft(store, calibrate_scorecard(X, y, dates=dates), author="bench")
        ModelRegistry(store).approve(v.name, v.version, approver="validator", reason="bench")
        sample = application_sample(store.load_book(), keep_excluded=True)
        read = best_of(lambda: ModelRegistry(Store(store.url)).champion().scorecard())
        sc = ModelRegistry(store).champion().scorecard()
        cols = list(sc.feature_names_in_)
        score = best_of(lambda: (sc.credit_score(sample[cols]), sc.predict_proba(sample[cols])))
    added = READERS * (read + score)
    print(f"champion read from the registry: {read * 1000:.1f} ms; scoring {len(sample):,} "
          f"applications: {score * 1000:.1f} ms")  # fmt: skip
    print(f"added to the batch ({READERS} reports read the champion): {added:.2f} s of "
          f"{a.batch_seconds:.0f} s = {added / a.batch_seconds:.1%} (target <= 10%)")  # fmt: skip
    return 0 if added / a.batch_seconds <= 0.10 else 1


if __name__ == "__main__":
    raise SystemExit(main())
