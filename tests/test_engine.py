"""The month-end on Dask gives the numbers of the pandas engine: on the sample book split into
hash buckets (Dask's synchronous scheduler: the same partitions and tree reductions, no
cluster), over random partitionings (hypothesis), and on a real local cluster."""

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskkit.classification import Classifier
from riskkit.datasets import make_microloan_book
from riskkit.engine import Engine, TablesSnapshot, split_book
from riskkit.reports.migration_report import portfolio_migration
from riskkit.reports.portfolio_summary import portfolio_summary
from riskkit.reports.post_loan import post_loan_review

AS_OF = "2026-10-31"
SYNC = Engine("dask", scheduler="synchronous")


@pytest.fixture(scope="module")
def book():
    return make_microloan_book(n_loans=2500, months=24, seed=4)


#: Stress-scenario figures go through a bounded scalar fit of the monthly Z (xatol 1e-8,
#: riskkit.migration.scenarios): matrices equal to 1e-15 can stop it at another point.
_FITTED = ("scenario", "npl_change")


def assert_same(a, b, path=""):
    """Equal, floats to 1e-12 relative (book-level sums added in another order); figures of
    fitted stress scenarios to 1e-6."""
    if isinstance(a, Mapping):
        assert set(a.keys()) == set(b.keys()), path
        for k in a:
            assert_same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and not (np.isnan(a) and np.isnan(b)):
        rel = 1e-6 if any(f in path for f in _FITTED) else 1e-12
        assert a == pytest.approx(b, rel=rel, abs=1e-9), path
    elif isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, rtol=1e-12, check_dtype=False, obj=path)
    else:
        assert a == b or (a != a and b != b), path


def test_post_loan_review_same_numbers(book):
    policy = {"classification": {"borrower_consistency": True}}
    a = post_loan_review(book, AS_OF, policy=policy, appendix_rows=100)
    b = post_loan_review(book, AS_OF, policy=policy, appendix_rows=100, engine=SYNC)
    assert_same(a.metrics, b.metrics)
    for name in ("table", "migration", "provisions_by_branch", "provisions_by_product",
                 "compliance", "watch", "appendix", "changes", "inspections_month",
                 "inspections_next"):  # fmt: skip
        assert_same(getattr(a, name), getattr(b, name), name)
    assert a.metrics["inspections_planned"] > 100 and a.metrics["downgrades"] > 10
    # a branch scope and an unknown branch behave alike too
    br = book.loans["branch"].iloc[0]
    assert_same(
        post_loan_review(book, AS_OF, branch=br).metrics,
        post_loan_review(book, AS_OF, branch=br, engine=SYNC).metrics,
    )
    with pytest.raises(ValueError, match="'nope' matches no loan's branch"):
        post_loan_review(book, AS_OF, branch="nope", engine=SYNC)


def test_portfolio_migration_same_numbers(book):
    a = portfolio_migration(book, AS_OF, history_months=6)
    b = portfolio_migration(book, AS_OF, history_months=6, engine=SYNC)
    np.testing.assert_array_equal(a.count_matrix.counts, b.count_matrix.counts)
    assert_same(a.metrics, b.metrics)
    assert b.history is None and len(a.history) > 6 * 1000


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    buckets=st.integers(1, 7),
    key=st.sampled_from(["borrower_id", "loan_id"]),
    consistency=st.booleans(),
)
def test_any_partitioning_gives_the_whole_books_classification(book, buckets, key, consistency):
    """Per-loan results are those of the whole book for any number of hash buckets; borrower
    consistency needs every loan of a borrower in one partition (buckets by borrower)."""
    if key == "loan_id" and consistency:
        consistency = False  # borrower-level rules need the borrower's loans together
    policy = {"classification": {"borrower_consistency": consistency}}
    whole = Classifier(policy).classify(book.disbursed_by(AS_OF), AS_OF).table
    parts = split_book(book.disbursed_by(AS_OF), buckets, partition_by=key)
    got = pd.concat([Classifier(policy).classify(p, AS_OF).table for p in parts])
    text = {c: "str" for c in ("rules", "explanation_en", "explanation_zh")}
    pd.testing.assert_frame_equal(got.loc[whole.index].astype(text), whole.astype(text))
    a = portfolio_summary(book, AS_OF, policy=policy)
    eng = Engine("dask", scheduler="synchronous", buckets=buckets)
    b = portfolio_summary(book, AS_OF, policy=policy, engine=eng)
    assert_same(a.metrics, b.metrics)
    for g in a.by_group:
        assert_same(a.by_group[g], b.by_group[g], g)


def test_tables_snapshot_reads_like_the_store(tmp_path):
    from riskkit.classification.overrides import load_overrides, record_overrides
    from riskkit.store import Store

    store = Store(f"sqlite:///{tmp_path / 'r.db'}")
    ov = [{"loan_id": "L1", "category": "loss", "author": "Wang", "reason": "fraud found"}]
    record_overrides(store, ov, "2026-10-31")
    record_overrides(store, ov, "2026-09-30")
    snap = TablesSnapshot.of(store)
    pd.testing.assert_frame_equal(
        load_overrides(snap, "2026-10-31"), load_overrides(store, "2026-10-31")
    )
    assert len(snap.restricted(["L2"]).read("classification_overrides")) == 0


def test_monte_carlo_same_quantiles_however_chunked_or_distributed():
    """Scenario k draws from SeedSequence(seed).spawn(n)[k]: chunks of 1, 3 or all scenarios,
    run here or as tasks, give the same paths and quantiles for the same seed."""
    from riskkit.migration.matrix import TransitionMatrix
    from riskkit.migration.montecarlo import simulate_book

    p = np.eye(8)  # five categories, repaid, recovered, written off
    p[0, :2] = [0.97, 0.03]
    p[1, [0, 1, 2]] = [0.3, 0.5, 0.2]
    p[2, [2, 3]] = [0.7, 0.3]
    p[3, [3, 4]] = [0.8, 0.2]
    p[4, [4, 7]] = [0.5, 0.5]
    tm = TransitionMatrix(p)
    rng = np.random.default_rng(0)
    states, bal = rng.integers(0, 3, 4000), rng.uniform(1e3, 1e5, 4000)
    kw = dict(horizon=12, n_scenarios=10, rho=0.15, seed=7)
    whole = simulate_book(tm, states, bal, **kw)
    ones = simulate_book(tm, states, bal, max_paths_per_chunk=4000, **kw)
    tasks = simulate_book(tm, states, bal, max_paths_per_chunk=12_000, engine=SYNC, **kw)
    for r in (ones, tasks):
        np.testing.assert_array_equal(r.npl_ratio, whole.npl_ratio)
        np.testing.assert_array_equal(r.losses, whole.losses)
        pd.testing.assert_frame_equal(r.quantiles(), whole.quantiles())
    other = simulate_book(tm, states, bal, **{**kw, "seed": 8})
    assert not np.array_equal(other.npl_ratio, whole.npl_ratio)
