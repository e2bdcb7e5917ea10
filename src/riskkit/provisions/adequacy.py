"""Provisioning adequacy: provisions held against the expected credit loss and the regulator's
floors (拨备覆盖率 and 贷款拨备率).

For the book (and each group, e.g. branch):

* **provision coverage ratio** (拨备覆盖率) = provisions held / NPL balance, against
  ``adequacy.provision_coverage_floor`` (150% by default);
* **loan provision ratio** (贷款拨备率) = provisions held / total loans, against
  ``adequacy.loan_provision_ratio_floor`` (2.5% by default);
* **regulatory minimum** = the larger of the floor amounts (coverage floor x NPL balance,
  ratio floor x loans: the higher of the two is the standard, 2011 rules art. 7) and, when
  ``adequacy.include_category_provisions``, the category-based provisions (2002 ratios);
* **required** = the larger of the expected credit loss and the regulatory minimum;
* **shortfall** = required less held (0 when held covers it), and which requirement binds.

Floors are policy within the ranges the 2018 notice (银监发〔2018〕7号) allows
(``adequacy.*_range``: 120-150% and 1.5-2.5%); a floor outside its range is an error when the
policy is loaded.

Examples
--------
>>> import pandas as pd
>>> loans = pd.DataFrame({"category": ["normal", "substandard"],
...                       "outstanding_principal": [9_000.0, 1_000.0]})
>>> a = provisioning_adequacy(loans, ecl=300.0, held=500.0)
>>> a.table.loc["total", ["regulatory_minimum", "required", "shortfall"]].tolist()
[1500.0, 1500.0, 1000.0]
>>> a.table.loc["total", "binding"]
'coverage_floor'
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..policy import Policy, load_policy
from .reserves import provisions as category_provisions


@dataclass
class AdequacyResult:
    """Adequacy by group (``table``, with a ``total`` row) and the floors applied."""

    table: pd.DataFrame
    coverage_floor: float
    ratio_floor: float
    by: str | None = None

    @property
    def total(self) -> pd.Series:
        return self.table.loc["total"]

    @property
    def shortfall(self) -> float:
        return float(self.total["shortfall"])

    def flags(self) -> list[str]:
        """Plain-text findings: a ratio below its floor, a shortfall (book level)."""
        t = self.total
        out = []
        if not t["coverage_ok"]:
            out.append("provision_coverage_below_floor")
        if not t["ratio_ok"]:
            out.append("loan_provision_ratio_below_floor")
        if t["shortfall"] > 0:
            out.append("provisions_short_of_requirement")
        return out

    def to_frame(self) -> pd.DataFrame:
        return self.table.reset_index()

    def __repr__(self) -> str:
        t = self.total
        return (
            f"AdequacyResult(held={t['held']:,.2f}, required={t['required']:,.2f}, "
            f"shortfall={t['shortfall']:,.2f}, coverage={_pct(t['coverage_ratio'])} vs "
            f"{self.coverage_floor:.0%}, loan_provision_ratio={_pct(t['loan_provision_ratio'])} "
            f"vs {self.ratio_floor:.1%})"
        )

    def _repr_html_(self) -> str:
        return (
            f"<div><b>Provisioning adequacy 拨备充足性</b>: {html.escape(repr(self))}"
            f"{self.table.to_html(float_format=lambda v: f'{v:,.4f}')}</div>"
        ).replace("\n", "")


def _pct(x) -> str:
    return f"{x:.1%}" if np.isfinite(x) else "n/a"


def _by_group(values, frame: pd.DataFrame, by: str | None, name: str) -> pd.Series:
    """A number, or per-loan values, or per-group values -> Series by group (and total)."""
    if isinstance(values, pd.Series) and by is not None and values.index.name == by:
        return values.astype(float)
    if isinstance(values, pd.Series | np.ndarray) and len(values) == len(frame):
        s = pd.Series(np.asarray(values, dtype=float), index=frame.index)
        return s.groupby(frame[by]).sum() if by else pd.Series({"total": s.sum()})
    if np.ndim(values) == 0 and by is None:
        return pd.Series({"total": float(values)})
    raise ValueError(
        f"{name}: give a number (book level), per-loan values or values by {by!r}, got "
        f"{type(values).__name__}"
    )


def provisioning_adequacy(
    result,
    ecl,
    held=None,
    by: str | None = None,
    policy: Policy | dict | str | None = None,
) -> AdequacyResult:
    """Adequacy of provisions against the ECL and the regulatory floors.

    Parameters
    ----------
    result : ClassificationResult or DataFrame
        Loans on the balance sheet with ``category`` and ``outstanding_principal`` (and the
        ``by`` column).
    ecl : ECLResult, number, per-loan values or values by group
        Expected credit loss (an :class:`~riskkit.provisions.ECLResult` is aligned by loan).
    held : number, per-loan values or values by group, optional
        Provisions booked; default the category-based provisions
        (:func:`riskkit.provisions.provisions`).
    by : str, optional
        Group column, e.g. ``"branch"``.
    policy : Policy, mapping or path, optional
        ``adequacy`` and ``provisions`` sections.

    Returns
    -------
    AdequacyResult
    """
    pol = load_policy(policy)
    ad = pol["adequacy"]
    frame = getattr(result, "table", result)
    cat = category_provisions(frame, by=by, policy=pol)
    t = cat.table if by else cat.table.rename(index={"total": "total"})
    if hasattr(ecl, "loans"):
        ecl = ecl.loans["ecl"].reindex(frame.index).fillna(0.0).to_numpy()
    out = pd.DataFrame(index=t.index)
    out["loans"] = t["balance"]
    out["npl_balance"] = t["npl_balance"]
    out["category_provisions"] = t["provisions"]
    out["ecl"] = _by_group(ecl, frame, by, "ecl").reindex(out.index).fillna(0.0)
    out["held"] = (
        out["category_provisions"]
        if held is None
        else _by_group(held, frame, by, "held").reindex(out.index).fillna(0.0)
    )
    if by:
        out.loc["total"] = out.sum()
    return _finish(out, ad, by)


def adequacy_of_totals(
    loans: float,
    npl_balance: float,
    category_provisions: float,
    ecl: float = 0.0,
    policy: Policy | dict | str | None = None,
) -> AdequacyResult:
    """Book-level adequacy from amounts already summed (e.g. over the partitions of a book),
    provisions held = the category-based provisions: the same as :func:`provisioning_adequacy`
    on the loans they were summed from.

    Examples
    --------
    >>> adequacy_of_totals(10_000.0, 1_000.0, 500.0, ecl=300.0).shortfall
    1000.0
    """
    out = pd.DataFrame(
        {
            "loans": [float(loans)],
            "npl_balance": [float(npl_balance)],
            "category_provisions": [float(category_provisions)],
            "ecl": [float(ecl)],
        },
        index=pd.Index(["total"]),
    )
    out["held"] = out["category_provisions"]
    return _finish(out, load_policy(policy)["adequacy"], None)


def _finish(out: pd.DataFrame, ad: dict, by) -> AdequacyResult:
    cf, rf = float(ad["provision_coverage_floor"]), float(ad["loan_provision_ratio_floor"])
    out["coverage_floor_amount"] = cf * out["npl_balance"]
    out["ratio_floor_amount"] = rf * out["loans"]
    parts = ["coverage_floor_amount", "ratio_floor_amount"]
    if ad["include_category_provisions"]:
        parts.append("category_provisions")
    out["regulatory_minimum"] = out[parts].max(axis=1)
    out["required"] = np.maximum(out["ecl"], out["regulatory_minimum"])
    out["shortfall"] = np.maximum(out["required"] - out["held"], 0.0)
    names = {"coverage_floor_amount": "coverage_floor", "ratio_floor_amount": "ratio_floor"}
    names["category_provisions"] = "category_provisions"
    binding = out[parts].idxmax(axis=1).map(names)
    out["binding"] = np.where(out["ecl"] >= out["regulatory_minimum"], "ecl", binding)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["coverage_ratio"] = np.where(
            out["npl_balance"] > 0, out["held"] / out["npl_balance"], np.nan
        )
        out["loan_provision_ratio"] = np.where(out["loans"] > 0, out["held"] / out["loans"], np.nan)
    out["coverage_ok"] = out["held"] >= out["coverage_floor_amount"] - 1e-6
    out["ratio_ok"] = out["held"] >= out["ratio_floor_amount"] - 1e-6
    out.index.name = by or "scope"
    return AdequacyResult(table=out, coverage_floor=cf, ratio_floor=rf, by=by)
