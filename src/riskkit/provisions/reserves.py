"""Loan-loss provisions (贷款损失准备) from the five-category result (DOMAIN.md s.6).

Per policy (``provisions`` section, PBoC guideline of 2002 as defaults):

* general reserve (一般准备) = ``general_ratio`` x outstanding balance of every loan (1%);
* specific reserve (专项准备) = ratio of the loan's category x balance: special mention 2%,
  substandard 25%, doubtful 50%, loss 100%; substandard and doubtful may float within
  ``float_band`` (relative, +/-20%): ratio x (1 + ``float[category]``), e.g. 25% x 1.1 = 27.5%.

NPL ratio (不良贷款率) = balance of substandard + doubtful + loss / total balance; coverage
ratio (拨备覆盖率) = total provisions / NPL balance. Both are undefined (NaN) when their
denominator is 0: NPL ratio for a group with no outstanding balance, coverage for one with no
NPL. An empty input (e.g. a branch or officer scope with no loans) is not an error: the
report has no group rows, and its total is a row of zeros with NaN ratios.

Examples
--------
>>> import pandas as pd
>>> from riskkit.provisions import provisions
>>> loans = pd.DataFrame({"category": ["normal", "substandard", "loss"],
...                       "outstanding_principal": [100_000.0, 10_000.0, 2_000.0]})
>>> rep = provisions(loans)
>>> rep.total()[["general", "specific", "provisions"]].round(2).tolist()
[1120.0, 4500.0, 5620.0]
>>> round(float(rep.total()["coverage_ratio"]), 4)
0.4683
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..categories import Category, parse_categories
from ..errors import ProblemCollector
from ..policy import Policy, load_policy
from ..results import TableResult


def specific_ratios(policy: Policy | dict | None = None) -> np.ndarray:
    """Specific-reserve ratio per category code 0..4 after the policy float."""
    p = load_policy(policy)["provisions"]
    base = np.array([p["specific_ratio"][c] for c in Category.codes()], dtype=float)
    fl = np.array([p["float"].get(c, 0.0) for c in Category.codes()], dtype=float)
    return np.clip(base * (1.0 + fl), 0.0, 1.0)


def _loan_frame(result) -> pd.DataFrame:
    frame = getattr(result, "table", result)
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a ClassificationResult or DataFrame, got {type(result)}")
    errors = ProblemCollector("provisions input")
    errors.require("classification", frame, ("category", "outstanding_principal"))
    errors.raise_if_any()
    return frame


@dataclass(repr=False, eq=False)
class ProvisionReport(TableResult):
    """Provisions aggregated (``table``, by the ``by`` columns, or one ``total`` row) and per
    loan (``loans``)."""

    loans: pd.DataFrame | None
    table: pd.DataFrame
    by: list[str]
    policy: Policy
    #: Book-level totals when the per-loan rows are not kept (reports combined by partition).
    totals: pd.DataFrame | None = field(default=None, repr=False)

    def total(self) -> pd.Series:
        """Book-level totals and ratios (zeros and NaN ratios for an empty book)."""
        if self.totals is None:
            self.totals = _totals(self.loans)
        return self.totals.iloc[0]

    def combine(self, other: ProvisionReport) -> ProvisionReport:
        """The report of two disjoint sets of loans (e.g. two partitions of a book): sums
        added group by group, ratios recomputed; the per-loan rows are not kept."""
        return ProvisionReport(
            None,
            _ratios(sum_columns(self.table, other.table)),
            self.by,
            self.policy,
            totals=_ratios(sum_columns(self._total_frame(), other._total_frame())),
        )

    def _total_frame(self) -> pd.DataFrame:
        self.total()
        assert self.totals is not None
        return self.totals

    def __repr__(self) -> str:
        t = self.total()
        return (
            f"ProvisionReport(loans={int(t['loans']):,}, balance={t['balance']:,.2f}, "
            f"provisions={t['provisions']:,.2f}, npl_ratio={_pct(t['npl_ratio'])}, "
            f"coverage_ratio={_pct(t['coverage_ratio'])}, by={self.by or None})"
        )

    def _repr_html_(self) -> str:
        t = self.total()
        return (
            "<div><b>Loan-loss provisions 贷款损失准备</b>: "
            f"provisions {t['provisions']:,.2f} on balance {t['balance']:,.2f}, NPL ratio "
            f"不良贷款率 {_pct(t['npl_ratio'])}, coverage 拨备覆盖率 {_pct(t['coverage_ratio'])}"
            f"{self.table.to_html(float_format=lambda v: f'{v:,.2f}')}</div>"
        ).replace("\n", "")


def _pct(x: float) -> str:
    return f"{x:.2%}" if np.isfinite(x) else "n/a"


def _aggregate(loans: pd.DataFrame, by: list[str], index: pd.Index | None = None) -> pd.DataFrame:
    """Sums by ``by`` (rows ``index`` if given, zeros where a row has no loans) and ratios."""
    g = loans.groupby(by, observed=True, sort=True)
    out = g[["balance", "npl_balance", "general", "specific", "provisions"]].sum()
    for c in Category.codes():
        out[f"balance_{c}"] = g["_bal_" + c].sum()
    out["loans"] = g.size().astype(np.int64)
    if index is not None:
        out = out.reindex(index, fill_value=0)
    return _ratios(out)


_SUMS = ("balance", "npl_balance", "general", "specific", "provisions")


def _ratios(out: pd.DataFrame) -> pd.DataFrame:
    """NPL and coverage ratios of summed rows (NaN where undefined)."""
    bal, npl = out["balance"].to_numpy(), out["npl_balance"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["npl_ratio"] = np.where(bal > 0, npl / bal, np.nan)
        out["coverage_ratio"] = np.where(npl > 0, out["provisions"].to_numpy() / npl, np.nan)
    return out


def sum_columns(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Rows of two aggregate tables added (union of groups, in sorted group order); the
    ratio columns are left for :func:`_ratios`."""
    cols = [c for c in a.columns if c not in ("npl_ratio", "coverage_ratio")]
    out = a[cols].add(b[cols], fill_value=0)
    out["loans"] = out["loans"].astype(np.int64)
    return out.sort_index()


def _totals(loans: pd.DataFrame) -> pd.DataFrame:
    """One row ``total`` over all loans (zeros and NaN ratios when there are none)."""
    return _aggregate(loans.assign(_all="total"), ["_all"], index=pd.Index(["total"]))


def provisions(result, by=None, policy: Policy | dict | str | None = None) -> ProvisionReport:
    """General and specific provisions, NPL ratio and coverage ratio.

    Parameters
    ----------
    result : ClassificationResult or DataFrame
        Per-loan ``category`` (codes, labels or categorical) and ``outstanding_principal``,
        plus the ``by`` columns.
    by : str or list of str, optional
        Group columns, e.g. ``"branch"``, ``"product"``, ``"officer_id"``.
    policy : Policy, mapping or path, optional
        ``provisions`` section.

    Returns
    -------
    ProvisionReport
        ``loans``: per-loan ``balance, category_code, specific_ratio, general, specific,
        provisions``; ``table``: sums by group with ``npl_ratio`` and ``coverage_ratio``
        (NaN where the balance, respectively the NPL balance, is 0). An empty input gives
        an empty ``table`` when grouped, and a ``total`` row of zeros with NaN ratios.
    """

    policy = load_policy(policy)
    frame = _loan_frame(result)
    by = [by] if isinstance(by, str) else list(by or [])
    errors = ProblemCollector("provisions input")
    for c in by:
        if c not in frame.columns and c != frame.index.name:
            errors.add("classification", c, "group column is missing")
    bal = frame["outstanding_principal"].to_numpy(dtype=float)
    ids = frame.index if frame.index.name == "loan_id" else frame.get("loan_id", frame.index)
    errors.check(
        "classification",
        "outstanding_principal",
        ~np.isfinite(bal) | (bal < 0),
        ids,
        "must be a finite, non-negative amount",
    )
    errors.raise_if_any()
    cat = frame["category"]
    if isinstance(cat.dtype, pd.CategoricalDtype):
        cat = cat.astype(str)
    codes = parse_categories(cat, column="category", ids=ids)
    ratio = specific_ratios(policy)[codes]
    general = bal * policy["provisions"]["general_ratio"]
    specific = bal * ratio
    loans = pd.DataFrame(
        {
            "balance": bal,
            "category_code": codes,
            "specific_ratio": ratio,
            "general": general,
            "specific": specific,
            "provisions": general + specific,
            "npl_balance": np.where(codes >= int(Category.SUBSTANDARD), bal, 0.0),
        },
        index=frame.index,
    )
    for k, c in enumerate(Category.codes()):
        loans["_bal_" + c] = np.where(codes == k, bal, 0.0)
    for c in by:
        loans[c] = frame[c].to_numpy() if c in frame.columns else frame.index.to_numpy()
    table = _aggregate(loans, by) if by else _totals(loans)
    return ProvisionReport(loans, table, by, policy)
