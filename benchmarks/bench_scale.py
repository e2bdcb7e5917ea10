"""Benchmark: the month-end classification of 1M, 3M and 10M-loan books, pandas vs Dask.

For each size a book shaped like a real extract is generated piece by piece straight into a
partitioned dataset (:func:`riskkit.datasets.make_partitioned_book`: 250,000-loan pieces with
their own seeds and ids, 36 months, rows in 16 hash buckets by borrower; the pieces run as
Dask tasks on the local workers); the generation time and the disk taken are printed (and
kept beside the dataset, which later runs reuse).

Then every loan is classified at the as-of date and the book summarised (categories, NPL
ratio, provisions by branch, product and officer: :func:`riskkit.reports.portfolio_summary`):

* pandas engine: the whole book read into one process, in a child process watched for memory
  (stopped when it passes ``--pandas-limit``, default 12 GiB: that is "pandas runs out");
* Dask engine: a LocalCluster of 1, then 2 workers (``--memory-limit`` each, default 4 GiB),
  each partition read and classified by a task; only sums come back.

Printed per size: seconds, peak memory (pandas: the process; Dask: each worker), the
Dask/pandas ratio at 1M and the 1 -> 2 worker speed-up; the numbers of both engines are
compared (same loans, NPL ratio and provisions).

Usage::

    python -m benchmarks.bench_scale                       # 1M, 3M, 10M
    python -m benchmarks.bench_scale --sizes 1000000       # one size
    python -m benchmarks.bench_scale --quick               # 200,000 loans
    python -m benchmarks.bench_scale --batch 10000000      # + the month-end report batch on Dask
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.books import AS_OF, data_dir

PIECE = 250_000
BUCKETS = 16


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def ensure_dataset(n: int, workers: int, memory_limit: str) -> tuple[Path, dict]:
    """The partitioned book of ``n`` loans (generated on Dask when missing) and its record."""
    from riskkit.datasets import make_partitioned_book
    from riskkit.engine import Engine

    path = data_dir() / f"scale-{n}"
    record = data_dir() / f"scale-{n}.json"
    if not record.is_file():
        t0 = time.perf_counter()
        with Engine("dask", n_workers=workers, memory_limit=memory_limit) as eng:
            make_partitioned_book(
                path, n, buckets=BUCKETS, piece_loans=min(PIECE, n), as_of=AS_OF, engine=eng
            )
        info = {"generate_s": time.perf_counter() - t0, "disk_bytes": folder_bytes(path)}
        record.write_text(json.dumps(info))
    return path, json.loads(record.read_text())


def run_pandas(path: Path) -> dict:
    """In this (child) process: read the whole book, classify and summarise."""
    from riskkit.io import read_book
    from riskkit.reports.portfolio_summary import portfolio_summary

    t0 = time.perf_counter()
    book = read_book(path, validate=False).to_book()
    t1 = time.perf_counter()
    s = portfolio_summary(book, AS_OF)
    t2 = time.perf_counter()
    return {"read_s": t1 - t0, "classify_s": t2 - t1, "total_s": t2 - t0, **_key(s)}


def _key(s) -> dict:
    m = s.metrics
    return {k: m[k] for k in ("n_loans", "n_outstanding", "npl_ratio", "provisions")}


def pandas_in_child(path: Path, limit_gib: float) -> dict:
    """:func:`run_pandas` in a child process; stopped (by its id) past ``limit_gib``."""
    cmd = [sys.executable, "-m", "benchmarks.bench_scale", "--child", str(path)]
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    peak = 0.0
    while child.poll() is None:
        peak = max(peak, _rss_gib(child.pid))
        if peak > limit_gib:
            child.kill()
            child.wait()
            return {"ran_out": True, "peak_gib": peak}
        time.sleep(0.2)
    out = child.stdout.read().strip().splitlines()
    if child.returncode != 0 or not out:
        return {"failed": child.returncode, "peak_gib": peak}
    res = json.loads(out[-1])
    res["peak_gib"] = max(peak, res.pop("maxrss_gib"))
    return res


def _rss_gib(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 2**20
    return 0.0


def run_dask(path: Path, workers: int, memory_limit: str) -> dict:
    from riskkit.engine import Engine
    from riskkit.io import read_book
    from riskkit.reports.portfolio_summary import portfolio_summary

    with Engine("dask", n_workers=workers, memory_limit=memory_limit) as eng:
        eng.client  # noqa: B018  (start the cluster before the clock)
        t0 = time.perf_counter()
        s = portfolio_summary(read_book(path, validate=False), AS_OF, engine=eng)
        seconds = time.perf_counter() - t0
        peaks = eng.worker_peak_memory()
    return {"total_s": seconds, "worker_peak_gib": max(peaks.values()), **_key(s)}


def run_batch(path: Path, workers: int, memory_limit: str) -> None:
    """The month-end report batch on the partitioned book with Dask (a store holding only the
    results: the scorecard registered by score_calibration is approved as champion before
    model_monitoring, as `riskkit demo` does)."""
    from riskkit import cli
    from riskkit.reports import ensure_kernel

    out = data_dir() / f"scale-batch-{path.name}"
    out.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{out / 'store.db'}"
    ensure_kernel("riskkit")
    params = {"engine": "dask", "book_path": str(path)}
    kw = {"reports_dir": str(out / "reports"), "progress": False, "timeout": 7200.0}
    t0 = time.perf_counter()
    results = cli.run_demo_batch(str(AS_OF.date()), url, kw, params=params)
    took = time.perf_counter() - t0
    for r in results:
        print(f"  {r.name:<22} {r.status:<7} {r.duration_s:7.0f} s  {r.error or ''}")
    ok = sum(r.ok for r in results)
    print(f"month-end batch on {path.name} with Dask: {ok}/{len(results)} ok in {took:.0f} s")


def report(n: int, info: dict, pd_res: dict, dk: dict[int, dict]) -> None:
    gb = info["disk_bytes"] / 2**30
    print(
        f"\n== {n:,} loans: generated (partitioned, Dask) in {info['generate_s']:.0f} s, "
        f"{gb:.2f} GiB on disk"
    )
    if pd_res.get("ran_out"):
        print(f"pandas engine: ran out (passed {pd_res['peak_gib']:.1f} GiB)")
    elif "total_s" in pd_res:
        print(
            f"pandas engine: {pd_res['total_s']:.1f} s (read {pd_res['read_s']:.1f} s + classify "
            f"and summarise {pd_res['classify_s']:.1f} s), peak {pd_res['peak_gib']:.2f} GiB"
        )
    for w, r in dk.items():
        print(
            f"dask engine, {w} worker(s): {r['total_s']:.1f} s, peak per worker "
            f"{r['worker_peak_gib']:.2f} GiB"
        )
    if 1 in dk and 2 in dk:
        print(f"speed-up 1 -> 2 workers: {dk[1]['total_s'] / dk[2]['total_s']:.2f}x")
    if "total_s" in pd_res and 2 in dk:
        print(f"ratio dask (2 workers) / pandas: {dk[2]['total_s'] / pd_res['total_s']:.2f}")
        same = all(
            abs(dk[2][k] - pd_res[k]) <= 1e-9 * max(abs(pd_res[k]), 1)
            for k in ("n_loans", "n_outstanding", "npl_ratio", "provisions")
        )
        print(f"same numbers (loans, NPL ratio, provisions): {same}")
        if not same:
            raise SystemExit("pandas and Dask disagree")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[1_000_000, 3_000_000, 10_000_000])
    ap.add_argument("--quick", action="store_true", help="200,000 loans")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--memory-limit", default="4GiB", help="per Dask worker")
    ap.add_argument("--pandas-limit", type=float, default=12.0, help="GiB")
    ap.add_argument("--batch", type=int, default=None, help="run the report batch at this size")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        import resource

        res = run_pandas(Path(args.child))
        res["maxrss_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        print(json.dumps(res))
        return
    sizes = [200_000] if args.quick else args.sizes
    for n in sizes:
        path, info = ensure_dataset(n, args.workers, args.memory_limit)
        pd_res = pandas_in_child(path, args.pandas_limit)
        dk = {w: run_dask(path, w, args.memory_limit) for w in sorted({1, args.workers})}
        report(n, info, pd_res, dk)
    if args.batch:
        path, _ = ensure_dataset(args.batch, args.workers, args.memory_limit)
        run_batch(path, args.workers, args.memory_limit)


if __name__ == "__main__":
    main()
