"""An application's terms and the checks every lending calculation applies to them.

All lending functions take scalars or arrays (broadcast together), check every input at once
with :func:`check_terms` (column, application id and rule of each problem, one
:class:`~riskkit.errors.ValidationError`) and read their parameters from the policy's
``limits:`` section through :func:`lending_limits`.

Examples
--------
>>> Application(amount=50_000, term_months=12, annual_rate=0.15).guarantee_type
'credit'
>>> broadcast_length([1, 2, 3], 5)
3
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..book.enums import GuaranteeType, RepaymentMethod
from ..book.schema import MAX_ANNUAL_RATE, MAX_LOAN_AMOUNT, MAX_TERM_MONTHS
from ..errors import ProblemCollector
from ..policy import Policy, load_policy

#: Repayment methods whose installments amortise the principal (the others repay it at maturity).
AMORTISING_METHODS = (RepaymentMethod.ANNUITY.value, RepaymentMethod.EQUAL_PRINCIPAL.value)


@dataclass(frozen=True)
class Application:
    """The terms a credit committee looks at for one applicant.

    ``guarantee_type`` is one of ``credit, guaranteed, joint, mortgage, pledge``;
    ``collateral_value`` the appraised value (mortgage/pledge); ``households`` the size of a
    joint-guarantee group; ``other_debt_service`` the applicant's other monthly debt payments.
    """

    amount: float
    term_months: int
    annual_rate: float
    repayment_method: str = "annuity"
    guarantee_type: str = "credit"
    monthly_income: float = 0.0
    collateral_value: float = 0.0
    households: int = 3
    other_debt_service: float = 0.0
    application_id: str = "application"


def lending_limits(policy) -> dict:
    """The policy's ``limits:`` section, its ratios checked to lie in [0, 1]."""
    p = load_policy(policy) if not isinstance(policy, Policy) else policy
    lim = p["limits"]
    for key in ("collateral_ltv", "pledge_ltv", "max_installment_to_income", "max_pd"):
        if not 0 <= lim[key] <= 1:
            raise ValueError(f"policy key limits.{key} must be in [0, 1], got {lim[key]}")
    for key, v in lim["lgd"].items():
        if not 0 <= v <= 1:
            raise ValueError(f"policy key limits.lgd.{key} must be in [0, 1], got {v}")
    if lim["limit_rounding"] <= 0:
        raise ValueError("policy key limits.limit_rounding must be > 0")
    return lim


def as_array(x, dtype=float) -> np.ndarray:
    """``x`` as an at-least-1-D array of ``dtype``."""
    return np.atleast_1d(np.asarray(x, dtype=dtype))


def as_text_array(x) -> np.ndarray:
    """``x`` as an at-least-1-D array of ``str``."""
    return np.atleast_1d(np.asarray(x, dtype=object)).astype(str)


def check_terms(
    what: str,
    ids,
    *,
    amount=None,
    term=None,
    rate=None,
    method=None,
    guarantee=None,
    collateral_value=None,
    households=None,
    income=None,
    other_debt=None,
    pd_=None,
) -> None:
    """Collect every bad input (column, application id, rule), then raise once."""
    errors = ProblemCollector(what)
    t = "application"

    def num(col, values, rule_mask, rule):
        v = as_array(values)
        errors.check(t, col, ~np.isfinite(v) | rule_mask(v), ids, rule)

    if amount is not None:
        num(
            "amount",
            amount,
            lambda v: (v <= 0) | (v > MAX_LOAN_AMOUNT),
            f"must be > 0 and <= {MAX_LOAN_AMOUNT:,.0f}",
        )
    if term is not None:
        v = as_array(term)
        errors.check(
            t,
            "term_months",
            ~np.isfinite(v) | (v < 1) | (v > MAX_TERM_MONTHS) | (v != np.round(v)),
            ids,
            f"must be a whole number of months in 1..{MAX_TERM_MONTHS}",
        )
    if rate is not None:
        num(
            "annual_rate",
            rate,
            lambda v: (v < 0) | (v > MAX_ANNUAL_RATE),
            f"must be a fraction in [0, {MAX_ANNUAL_RATE}] (0.12 = 12%)",
        )
    if method is not None:
        errors.check(
            t,
            "repayment_method",
            ~np.isin(as_text_array(method), RepaymentMethod.values()),
            ids,
            f"unknown value; allowed: {RepaymentMethod.values()}",
        )
    if guarantee is not None:
        errors.check(
            t,
            "guarantee_type",
            ~np.isin(as_text_array(guarantee), GuaranteeType.values()),
            ids,
            f"unknown value; allowed: {GuaranteeType.values()}",
        )
    if collateral_value is not None:
        num("collateral_value", collateral_value, lambda v: v < 0, "must be >= 0")
        if guarantee is not None:
            secured = np.isin(as_text_array(guarantee), ["mortgage", "pledge"])
            cv = np.broadcast_to(as_array(collateral_value), secured.shape)
            errors.check(
                t,
                "collateral_value",
                secured & ~(cv > 0),
                ids,
                "a mortgage or pledge needs the appraised value of the collateral (> 0)",
            )
    if households is not None:
        v = as_array(households)
        errors.check(
            t,
            "households",
            ~np.isfinite(v) | (v < 1) | (v != np.round(v)),
            ids,
            "must be a whole number >= 1",
        )
    if income is not None:
        num("monthly_income", income, lambda v: v <= 0, "must be > 0 (RMB a month)")
    if other_debt is not None:
        num("other_debt_service", other_debt, lambda v: v < 0, "must be >= 0")
    if pd_ is not None:
        num("pd", pd_, lambda v: (v < 0) | (v > 1), "must be a probability in [0, 1]")
    errors.raise_if_any()


def row_ids(ids, n: int) -> np.ndarray:
    """The application ids, or positions 0..n-1 when none are given."""
    if ids is None:
        return np.arange(n)
    return np.asarray(ids)


def broadcast_length(*arrays) -> int:
    """Length of the 1-D broadcast of ``arrays``."""
    return int(np.broadcast_shapes(*(np.shape(np.atleast_1d(a)) for a in arrays))[0])
