"""Benchmark: the month-end path at 1,000,000 loans, and the same path on twice the book.

Every step of the month-end batch on a realistic book (:mod:`benchmarks.books`), at ``n`` and
``2n`` loans, each size in a fresh process:

* store: save the book (Parquet beside the SQLite database) and load it back validated,
  next to writing / reading the same tables with plain ``pandas.to_parquet`` /
  ``read_parquet`` (the reference: within 3x);
* ``LoanBook`` validation alone (target: 1M loans under 5 s);
* one classification; the classification history over 36 month-ends in one pass
  (``Classifier.classify_history``; target 100k x 36 under 10 s; with ``--loop`` also 36
  separate classifications on the smaller book, for the ratio);
* the inspection plan of the month, the post-loan review and the portfolio migration
  (12 months of history), as the report notebooks call them.

The ratio 2n / n of every step is printed; above 2.3 (for steps of a second or more) it is
flagged as worse than linear.
``--batch N`` then runs the whole month-end report batch (as ``riskkit demo`` does on a store
holding the N-loan book: the scorecard registered and approved on record) (target for 1M:
under 10 minutes).

Usage::

    python -m benchmarks.bench_monthend                 # 500,000 and 1,000,000 loans
    python -m benchmarks.bench_monthend --quick         # 50,000 and 100,000 loans
    python -m benchmarks.bench_monthend --batch 1000000
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time

import pandas as pd

from benchmarks.books import AS_OF, data_dir, ensure_extract, peak_rss_gib

WORSE_THAN_LINEAR = 2.3
#: steps shorter than this at 2n are not judged (timer and allocator noise)
JUDGED_FROM_S = 1.0


def _timed(steps: dict, name: str, fn, *args):
    t0 = time.perf_counter()
    out = fn(*args)
    steps[name] = time.perf_counter() - t0
    return out


def measure(n: int, loop: bool) -> dict:
    """Every step on the n-loan book (in this process)."""
    from riskkit.classification import Classifier
    from riskkit.inspection import inspection_plan
    from riskkit.io import read_book
    from riskkit.reports.migration_report import portfolio_migration
    from riskkit.reports.post_loan import post_loan_review
    from riskkit.store import Store

    steps: dict[str, float] = {}
    src = ensure_extract(n)
    book = read_book(src, validate=False)
    work = data_dir() / f"monthend-{n}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    store = Store(f"sqlite:///{work / 'riskkit.db'}")
    _timed(steps, "store: save the book", store.save_book, book)
    _timed(steps, "reference: to_parquet", _to_parquet, book, work / "ref")
    loaded = _timed(steps, "store: load, validated", lambda: store.load_book(compact=True))
    ref = _timed(steps, "reference: read_parquet", lambda: _read_parquet(work / "ref"))
    _timed(steps, "reference: read_parquet + validation", lambda: _validated(ref, loaded))
    book = ref = None  # only the loaded book from here on (nothing else kept in memory)
    _timed(steps, "LoanBook validation", loaded.validate)
    d = pd.Timestamp(AS_OF)
    b = loaded.disbursed_by(d)
    res = _timed(steps, "classification", lambda: Classifier().classify(b, d))
    dates = list(pd.date_range(end=d, periods=37, freq="ME"))
    _timed(steps, "history, 36 month-ends", lambda: _history_rows(loaded, dates))
    if loop:
        _timed(steps, "history as 36 classifications", lambda: _loop(loaded, dates))
    start = d.replace(day=1)
    _timed(steps, "inspection plan", lambda: inspection_plan(b, start, d, result=res))
    _timed(steps, "post-loan review", lambda: post_loan_review(loaded, d, store=store))
    _timed(steps, "portfolio migration", lambda: portfolio_migration(loaded, d, store=store))
    steps["peak memory (GiB)"] = peak_rss_gib()
    shutil.rmtree(work, ignore_errors=True)
    return steps


def _history_rows(book, dates) -> int:
    """The whole history (every column), dropped once made: its rows."""
    from riskkit.classification import Classifier

    return len(Classifier().classify_history(book, dates))


def _to_parquet(book, folder) -> None:
    folder.mkdir()
    for name, df in book.tables.items():
        df.to_parquet(folder / f"{name}.parquet", index=False)


def _read_parquet(folder) -> dict:
    return {p.stem: pd.read_parquet(p) for p in folder.glob("*.parquet")}


def _validated(tables: dict, like):
    from riskkit.book import LoanBook

    return LoanBook(**tables, as_of_date=like.as_of_date)


def _loop(book, dates) -> None:
    from riskkit.classification import Classifier

    for d in dates:
        b = book.disbursed_by(d)
        if b.n_loans:
            Classifier().classify(b, d)


def in_child(n: int, loop: bool) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.bench_monthend", "--child", str(n)]
    if loop:
        cmd.append("--loop")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def batch(n: int) -> None:
    """The month-end report batch on a store holding the n-loan book."""
    from riskkit import cli
    from riskkit.io import read_book
    from riskkit.store import Store

    work = data_dir() / f"batch-{n}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    url = f"sqlite:///{work / 'riskkit.db'}"
    Store(url).save_book(read_book(ensure_extract(n), validate=False))
    t0 = time.perf_counter()
    # as `riskkit demo` runs it on a store holding a book: the five reports, the scorecard
    # registered by score_calibration approved as champion before model_monitoring
    code = cli.main(
        ["demo", "--as-of", str(AS_OF.date()), "--db-url", url, "--reports-dir",
         str(work / "reports"), "--no-progress"]
    )  # fmt: skip
    took = time.perf_counter() - t0
    print(f"month-end batch on {n:,} loans (store): exit {code}, {took:.0f} s (target 600 s)")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loans", type=int, default=500_000, help="n (the book is then doubled)")
    ap.add_argument("--quick", action="store_true", help="50,000 and 100,000 loans")
    ap.add_argument("--loop", action="store_true", help="also 36 classifications at n")
    ap.add_argument("--batch", type=int, default=None, help="the report batch at this size")
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child, args.loop)))
        return
    if args.batch:
        batch(args.batch)
        return
    n = 50_000 if args.quick else args.loans
    small, big = in_child(n, args.loop), in_child(2 * n, False)
    print(f"{'step':34s} {n:>12,} {2 * n:>12,}   ratio")
    worse = []
    for step, t in small.items():
        t2 = big.get(step)
        if t2 is None:
            print(f"{step:34s} {t:12.2f} {'':>12}")
            continue
        ratio = t2 / t if t else float("nan")
        flag = ""
        judged = step != "peak memory (GiB)" and t2 >= JUDGED_FROM_S
        if judged and ratio > WORSE_THAN_LINEAR:
            flag, _ = "  <- worse than linear", worse.append(step)
        print(f"{step:34s} {t:12.2f} {t2:12.2f} {ratio:7.2f}{flag}")
    for a, b in (("store: save the book", "reference: to_parquet"),
                 ("store: load, validated", "reference: read_parquet + validation"),
                 ("store: load, validated", "reference: read_parquet")):  # fmt: skip
        print(f"{a} / {b} at {2 * n:,}: {big[a] / big[b]:.2f}x (target within 3x)")
    if "history as 36 classifications" in small:
        r = small["history as 36 classifications"] / small["history, 36 month-ends"]
        print(f"history in one pass vs 36 classifications at {n:,}: {r:.1f}x faster")
    if worse:
        raise SystemExit(f"worse than linear: {worse}")


if __name__ == "__main__":
    main()
