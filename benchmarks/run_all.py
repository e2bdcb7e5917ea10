"""Run every riskkit benchmark in turn; each prints its timings and ratios against the peer.

Usage (from the repository root)::

    python -m benchmarks.run_all            # full sizes (peer venvs are created on first run)
    python -m benchmarks.run_all --quick    # small sizes, a few minutes
    python -m benchmarks.run_all --only scoring migration
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

BENCHMARKS = {
    "delinquency": "benchmarks.bench_delinquency",
    "microloan": "benchmarks.bench_microloan",
    "classification": "benchmarks.bench_classification",
    "migration": "benchmarks.bench_migration",
    "scoring": "benchmarks.bench_scoring",
    "registry": "benchmarks.bench_registry",
    "ecl": "benchmarks.bench_ecl",
    "process": "benchmarks.bench_process",
    "monthend": "benchmarks.bench_monthend",
    "scale": "benchmarks.bench_scale",
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes")
    ap.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), help="run only these")
    args = ap.parse_args(argv)
    failed = []
    for name in args.only or list(BENCHMARKS):
        cmd = [sys.executable, "-m", BENCHMARKS[name]] + (["--quick"] if args.quick else [])
        print(f"\n=== {name}: {' '.join(cmd[1:])}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call(cmd)
        print(f"=== {name}: exit {rc} after {time.perf_counter() - t0:.1f} s", flush=True)
        if rc:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
