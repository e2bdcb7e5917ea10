"""The month-end classification of a whole book, summarised: categories, NPL ratio and
provisions by branch, product and officer, on either engine.

With ``engine="dask"`` each partition is classified in its own task and only its sums come
back (a few hundred numbers per partition): a book of tens of millions of loans is classified
and summarised without ever being in one process's memory.

Examples
--------
>>> from riskkit.datasets import make_microloan_book
>>> s = portfolio_summary(make_microloan_book(n_loans=400, months=12, seed=0), "2026-10-31")
>>> int(s.table.at["total", "loans"]) == s.metrics["n_outstanding"]
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..provisions import ProvisionReport
from ..results import TableResult

GROUPS = ("branch", "product", "officer_id")


@dataclass(repr=False, eq=False)
class PortfolioSummary(TableResult):
    """Categories of the outstanding loans (``table``: loans, balance, shares, a total row),
    NPL ratio and provisions of a book at a month-end."""

    as_of: pd.Timestamp
    table: pd.DataFrame
    provisions: ProvisionReport  # totals; per-loan rows not kept
    by_group: dict[str, pd.DataFrame]
    metrics: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        m = self.metrics
        return (
            f"PortfolioSummary(as_of={self.as_of.date()}, loans={m['n_loans']:,}, "
            f"outstanding={m['n_outstanding']:,}, npl_ratio={m['npl_ratio']:.2%}, "
            f"provisions={m['provisions']:,.2f})"
        )

    def _repr_html_(self) -> str:
        return (
            f"<div><b>Portfolio 资产组合</b> as of {self.as_of.date()}: "
            f"NPL ratio 不良贷款率 {self.metrics['npl_ratio']:.2%}"
            f"{self.table.to_html(float_format=lambda v: f'{v:,.2f}')}</div>"
        ).replace("\n", "")


@dataclass
class _Sums:
    n_loans: int
    n_outstanding: int
    counts: pd.DataFrame
    provisions: ProvisionReport
    groups: dict[str, ProvisionReport]

    def __add__(self, other: _Sums) -> _Sums:
        return _Sums(
            self.n_loans + other.n_loans,
            self.n_outstanding + other.n_outstanding,
            self.counts.add(other.counts, fill_value=0),
            self.provisions.combine(other.provisions),
            {g: self.groups[g].combine(other.groups[g]) for g in self.groups},
        )


def _partition_sums(part, as_of, policy, store) -> _Sums:
    from ..engine import TablesSnapshot, load
    from ..provisions import provisions
    from .post_loan import _category_counts, _restrict, month_end_classification

    book = load(part)
    if isinstance(store, TablesSnapshot):
        store = store.restricted(book.loans["loan_id"])
    result, _ = month_end_classification(book, as_of, policy, store)
    live = ~result.table["paid_off"].to_numpy(dtype=bool)
    out = _restrict(result, result.table.index[live])
    groups = [g for g in GROUPS if g in out.table.columns]
    return _Sums(
        len(result),
        int(live.sum()),
        _category_counts(out),
        provisions(out, policy=policy),
        {g: provisions(out, by=g, policy=policy) for g in groups},
    )


def portfolio_summary(book, as_of, policy=None, store=None, engine="pandas") -> PortfolioSummary:
    """Classify every loan disbursed by ``as_of`` and summarise (see the module).

    Parameters
    ----------
    book : LoanBook or PartitionedBook
    as_of : date-like
    policy : Policy, mapping or path, optional
    store : riskkit.store.Store, optional
        Overrides and manual signals.
    engine : {"pandas", "dask"} or riskkit.engine.Engine
    """
    from ..classification import category_summary
    from ..engine import TablesSnapshot, open_engine, partitions
    from ..policy import load_policy

    policy = load_policy(policy)
    as_of = pd.Timestamp(as_of).normalize()
    eng = open_engine(engine)
    snap = eng.share(store if not eng.is_dask else TablesSnapshot.of(store))
    sums = eng.map(_partition_sums, partitions(book, eng), as_of=as_of, policy=policy, store=snap)
    s = eng.compute(eng.reduce(sums, _Sums.__add__))
    if eng is not engine:
        eng.close()
    tot = s.provisions.total()
    npl = float(tot["npl_ratio"])
    metrics = {
        "as_of": as_of,
        "n_loans": int(s.n_loans),
        "n_outstanding": int(s.n_outstanding),
        "balance": float(tot["balance"]),
        "npl_balance": float(tot["npl_balance"]),
        "npl_ratio": npl,
        "provisions": float(tot["provisions"]),
        "coverage_ratio": float(tot["coverage_ratio"]),
    }
    return PortfolioSummary(
        as_of=as_of,
        table=category_summary(s.counts, npl, as_of),
        provisions=s.provisions,
        by_group={g: r.table for g, r in s.groups.items()},
        metrics=metrics,
    )
