"""The cluster path: a real ``dask.distributed`` scheduler and workers started as separate
processes (``dask scheduler`` / ``dask worker``), reached by address. The month-end batch on
a partitioned copy of the sample book, run with ``--engine dask --scheduler tcp://...``, gives
the metrics of the pandas batch on the store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from riskkit import cli
from riskkit.engine import Engine
from riskkit.io import write_book
from riskkit.reports.portfolio_summary import portfolio_summary
from riskkit.reports.runner import BATCH
from riskkit.store import Store
from tests.test_engine import assert_same

pytestmark = pytest.mark.slow
AS_OF = "2026-10-31"
REPORTS = BATCH  # the month-end batch, in run order


def _wait(predicate, what: str, timeout: float = 90.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.2)
    raise TimeoutError(f"{what} not ready after {timeout:g} s")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """``dask scheduler`` and ``dask worker`` (2 worker processes) as separate processes."""
    from distributed import Client

    d = tmp_path_factory.mktemp("dask")
    sched_file = d / "scheduler.json"
    dask_cli = str(Path(sys.executable).parent / "dask")
    logs = [open(d / n, "w") for n in ("scheduler.log", "worker.log")]  # noqa: SIM115
    procs = [
        subprocess.Popen(
            [dask_cli, "scheduler", "--scheduler-file", str(sched_file), "--port", "0",
             "--no-dashboard"],
            stdout=logs[0], stderr=subprocess.STDOUT, start_new_session=True,
        )
    ]  # fmt: skip
    try:
        _wait(sched_file.exists, "scheduler")
        procs.append(
            subprocess.Popen(
                [dask_cli, "worker", "--scheduler-file", str(sched_file), "--nworkers", "2",
                 "--nthreads", "1", "--memory-limit", "2GiB", "--no-dashboard"],
                stdout=logs[1], stderr=subprocess.STDOUT, start_new_session=True,
            )
        )  # fmt: skip
        address = json.loads(sched_file.read_text())["address"]
        with Client(address, timeout=30) as client:
            _wait(lambda: len(client.scheduler_info()["workers"]) == 2, "2 workers")
        yield address
    finally:
        for p in reversed(procs):  # each process group we started, by its id
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
        for f in logs:
            f.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo store (sample book + inspection ledger) and a partitioned copy of its book."""
    d = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{d / 'riskkit.db'}"
    cli.ensure_demo_book(url, AS_OF, n_loans=1200)
    dataset = write_book(
        Store(url).load_book(), d / "book", "parquet", partition_by="borrower_id", buckets=4
    )
    return url, dataset, d


def test_summary_on_workers_in_other_processes(cluster, demo):
    url, dataset, _ = demo
    from riskkit.io import read_book

    with Engine("dask", scheduler=cluster) as eng:
        b = portfolio_summary(read_book(dataset, validate=False), AS_OF, engine=eng)
        peaks = eng.worker_peak_memory()
    a = portfolio_summary(Store(url).load_book(), AS_OF)
    assert_same(a.metrics, b.metrics)
    assert len(peaks) == 2 and all(0 < v < 2.5 for v in peaks.values())


def _unversioned(metrics: dict) -> dict:
    """Without the model's version and registry status (the second batch registers the same
    scorecard again: the registry returns the version the first batch registered, approved
    since, where the first batch saw a fresh draft)."""
    return {k: v for k, v in metrics.items() if "version" not in k and k not in ("model", "status")}


def test_month_end_batch_same_metrics_on_a_cluster(cluster, demo, riskkit_kernel):
    url, dataset, d = demo
    common = ["--as-of", AS_OF, "--db-url", url, "--no-progress"]
    # the demo batch (pandas) registers the scorecard and approves it as champion
    assert cli.main(["demo", *common, "--reports-dir", str(d / "pd")]) == 0
    dask_args = ["--engine", "dask", "--scheduler", cluster, "--book-path", str(dataset)]
    run = ["report", "run-all", *common, "--reports-dir", str(d / "dk"), *dask_args]
    assert cli.main(run) == 0
    for name in REPORTS:
        a = json.loads((d / "pd" / AS_OF / name / "metrics.json").read_text())
        b = json.loads((d / "dk" / AS_OF / name / "metrics.json").read_text())
        assert b["params"]["engine"] == "dask" and b["params"]["scheduler"] == cluster
        # the second batch registered the same scorecard again (the registry's same version)
        assert_same(_unversioned(a["metrics"]), _unversioned(b["metrics"]), name)
    plr = json.loads((d / "dk" / AS_OF / "post_loan_review" / "metrics.json").read_text())
    assert plr["metrics"]["n_loans"] > 1000 and plr["metrics"]["inspections_planned"] > 100


def test_monte_carlo_chunks_on_the_cluster_match_one_process(cluster):
    import numpy as np

    from riskkit.migration.matrix import TransitionMatrix
    from riskkit.migration.montecarlo import simulate_book

    p = np.eye(8)  # five categories, repaid, recovered, written off
    p[0, :2], p[1, [0, 1, 2]], p[2, [2, 3]] = [0.97, 0.03], [0.3, 0.5, 0.2], [0.7, 0.3]
    p[3, [3, 4]], p[4, [4, 7]] = [0.8, 0.2], [0.5, 0.5]
    rng = np.random.default_rng(1)
    states, bal = rng.integers(0, 3, 20_000), rng.uniform(1e3, 1e5, 20_000)
    kw = dict(horizon=12, n_scenarios=8, rho=0.1, seed=11)
    local = simulate_book(TransitionMatrix(p), states, bal, **kw)
    with Engine("dask", scheduler=cluster) as eng:
        spread = simulate_book(
            TransitionMatrix(p), states, bal, max_paths_per_chunk=40_000, engine=eng, **kw
        )
    np.testing.assert_array_equal(spread.npl_ratio, local.npl_ratio)
    assert spread.quantiles().equals(local.quantiles())
